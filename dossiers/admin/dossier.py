"""The dossier's admin: added through `services.create_dossier`, changed (reference and scenario) through
`services.update_dossier`, its steps taken by actions that run `services.run_transition`."""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from segurtrack import errors
from segurtrack.admin import ReadOnlyInline

from .. import services
from ..models import (
    INVOICE_FIELDS, SCENARIO_CHANGE_STATES, TRANSITION_BUTTONS, TRANSITION_LABELS, Amendment, Document, Dossier,
)
from . import panels
from .common import OrganisationScopedForm, ScopedFormAdmin, state_label


def dated_action(transition: str) -> Any:
    """An action's words: the transition's button, taken at today's date."""
    return format_lazy("{} ({})", TRANSITION_BUTTONS[transition], _l("à la date du jour"))


def reference_taken(organisation_id: int, reference: str, exclude_pk: int | None = None) -> bool:
    return bool(reference) and Dossier.objects.filter(organisation_id=organisation_id, reference=reference).exclude(
        pk=exclude_pk).exists()


class DossierAddForm(OrganisationScopedForm):
    """A new dossier: client and solution of the chosen organisation; saved by `services.create_dossier`."""

    class Meta:
        model = Dossier
        fields = ("organisation", "client", "solution", "reference", "scenario")

    def clean(self):
        cleaned = super().clean()
        organisation = cleaned.get("organisation")
        if organisation is None:
            return cleaned
        for name in ("client", "solution"):
            value = cleaned.get(name)
            if value is not None and value.organisation_id != organisation.pk:
                self.add_error(name, _("Choisissez un élément de l'organisation « %(org)s ».") % {
                    "org": organisation})
        if reference_taken(organisation.pk, cleaned.get("reference")):
            self.add_error("reference", _("Cette référence est déjà utilisée."))
        return cleaned


class DossierChangeForm(OrganisationScopedForm):
    """Only the reference and the scenario change here, through `services.update_dossier` (logged)."""

    class Meta:
        model = Dossier
        fields = ("reference", "scenario")

    def clean(self):
        cleaned = super().clean()
        dossier = self.instance
        if "scenario" in self.changed_data and dossier.state not in SCENARIO_CHANGE_STATES:
            self.add_error("scenario", _("Le scénario ne peut plus changer une fois la VA signée."))
        if "reference" in self.changed_data and reference_taken(dossier.organisation_id, cleaned.get("reference"),
                                                                 exclude_pk=dossier.pk):
            self.add_error("reference", _("Cette référence est déjà utilisée."))
        return cleaned


class DocumentInline(ReadOnlyInline):
    model = Document
    fields = ("kind", "filename", "size", "sha256", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


class AmendmentInline(ReadOnlyInline):
    model = Amendment
    fields = ("filed_on", "amount", "status", "validated_on", "paid_on", "paid_amount")
    readonly_fields = fields


# Fields the change page may edit; every other field is written by the service only.
EDITABLE_ON_CHANGE = ("reference", "scenario")
PANELS = ("next_steps_panel", "pre_solde_checklist", "history_panel")
# (title, fields, collapsed): the step data folds away, the panels stay open.
CHANGE_FIELDSETS: tuple[tuple[Any, tuple[str, ...], bool], ...] = (
    (None, ("reference", "organisation", "client", "solution", "dispositif", "scenario", "state",
            "state_changed_at"), False),
    (_l("Prochaines étapes et règles bloquantes"), ("next_steps_panel",), False),
    (_l("Checklist pré-solde"), ("pre_solde_checklist",), False),
    (_l("Bon de commande"), ("bdc_signed_on", "bdc_signer_name", "bdc_signature_type"), True),
    (_l("Avance"), ("avance_filed_on", "avance_declared_amount", "declared_amount", "avance_fix_requested_on",
                    "avance_fix_reason", "avance_validated_on", "avance_paid_on", "avance_paid_amount",
                    "avance_paid_total"), True),
    (_l("Déploiement et VA"), ("deployed_on", "va_signed_on", "va_signer_name", "mss_deployment"), True),
    (_l("Solde"), ("solde_draft", "solde_filed_on", *INVOICE_FIELDS, "solde_fix_requested_on", "solde_fix_reason",
                   "solde_validated_on", "solde_paid_on", "solde_paid_amount"), True),
    (_l("Annulation"), ("cancellation_requested_on", "cancellation_reason", "cancellation_motive",
                        "cancellation_from_state", "recovery_issued_on", "recovered_on", "recovered_amount",
                        "cancelled_on"), True),
    (_l("Historique"), ("history_panel", "history_seq", "history_hash", "created_at", "updated_at"), False),
)


@admin.register(Dossier)
class DossierAdmin(ScopedFormAdmin):
    """Dossiers: add through `services.create_dossier`, steps through actions running `services.run_transition`.

    The state and every step's data are read-only: a transition is the only way to change them, so each
    change is checked against the rules and recorded in the chained history. Deleting a dossier is not
    offered: it would erase its history; a dossier ends by cancellation.
    """

    list_display = ("reference", "client", "dispositif_code", "state", "blocked_by", "organisation",
                    "state_changed_at")
    list_filter = ("state", "dispositif", "organisation")
    list_select_related = ("client", "dispositif", "organisation")
    search_fields = ("reference", "client__name", "client__finess_geo", "client__siret")
    autocomplete_fields = ("client", "solution")
    ordering = ("-id",)
    actions = ["validate_avance", "validate_solde", "confirm_cancellation"]
    inlines = [DocumentInline, AmendmentInline]

    def get_queryset(self, request):
        return (super().get_queryset(request).select_related(*services.SELECT_RELATED, "organisation")
                .prefetch_related("blockers"))

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = DossierAddForm if obj is None else DossierChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ("organisation", "client", "solution", "reference", "scenario")}),)
        listed = {name for _title, names, _collapsed in CHANGE_FIELDSETS for name in names}
        fieldsets = [(title, {"fields": names, "classes": ("collapse",) if collapsed else ()})
                     for title, names, collapsed in CHANGE_FIELDSETS]
        # A field added to the model later still shows, read-only, rather than silently missing.
        others = tuple(f.name for f in Dossier._meta.concrete_fields if f.name not in listed and f.name != "id")
        if others:
            fieldsets.append((_("Autres"), {"fields": others}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        editable = set(EDITABLE_ON_CHANGE)
        if obj.state not in SCENARIO_CHANGE_STATES:
            editable.discard("scenario")
        return tuple(f.name for f in Dossier._meta.concrete_fields if f.name not in editable) + PANELS

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.create_dossier(
                organisation=obj.organisation, by=request.user, client=obj.client, solution=obj.solution,
                scenario=obj.scenario, reference=obj.reference)
            # The admin goes on with `obj` (log entry, redirect): make it the dossier the service created.
            obj.pk, obj.reference, obj.dispositif_id, obj._state = (
                created.pk, created.reference, created.dispositif_id, created._state)
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_ON_CHANGE}
        if changes:
            services.update_dossier(obj.pk, by=request.user, changes=changes)

    # --- columns and panels ---

    @admin.display(description=_l("dispositif"), ordering="dispositif__code")
    def dispositif_code(self, obj: Dossier) -> str:
        return obj.dispositif.code

    @admin.display(description=_l("bloqué par"))
    def blocked_by(self, obj: Dossier) -> str:
        return ", ".join(sorted(b.rule for b in obj.blockers.all())) or "—"

    @admin.display(description=_l("Prochaines étapes"))
    def next_steps_panel(self, obj: Dossier) -> SafeString:
        return panels.next_steps(obj)

    @admin.display(description=_l("Checklist pré-solde"))
    def pre_solde_checklist(self, obj: Dossier) -> SafeString:
        return panels.pre_solde_checklist(obj)

    @admin.display(description=_l("Historique"))
    def history_panel(self, obj: Dossier) -> SafeString:
        return panels.history(obj)

    # --- actions: every step goes through the service ---

    def _run_transition(self, request: HttpRequest, queryset: QuerySet[Dossier], name: str) -> None:
        today = timezone.localdate().isoformat()
        label = TRANSITION_LABELS[name]
        for pk, reference in queryset.prefetch_related(None).order_by("pk").values_list("pk", "reference"):
            reference = reference or f"#{pk}"
            try:
                outcome = services.run_transition(pk, name, by=request.user, data={"on": today})
            except services.RulesFailed as refused:
                messages.error(request, _("%(ref)s : « %(action)s » refusé — %(failures)s") % {
                    "ref": reference, "action": label,
                    "failures": " ; ".join(f"[{f.rule}] {f.message}" for f in refused.failures)})
            except errors.InvalidInput as invalid:
                messages.error(request, _("%(ref)s : « %(action)s » refusé — %(errors)s") % {
                    "ref": reference, "action": label,
                    "errors": " ; ".join(f"{k} : {' '.join(v)}" for k, v in invalid.errors.items())})
            except errors.NotPermitted as refused:
                messages.error(request, _("%(ref)s : « %(action)s » refusé — %(reason)s") % {
                    "ref": reference, "action": label, "reason": refused})
            else:
                messages.success(request, _("%(ref)s : « %(action)s » enregistré, nouvel état « %(state)s ».") % {
                    "ref": reference, "action": label, "state": state_label(outcome.dossier.state)})
                for warning in outcome.warnings:
                    messages.warning(request, f"{reference} : [{warning.rule}] {warning.message}")

    @admin.action(description=dated_action("validate_avance"), permissions=["change"])
    def validate_avance(self, request, queryset):
        self._run_transition(request, queryset, "validate_avance")

    @admin.action(description=dated_action("validate_solde"), permissions=["change"])
    def validate_solde(self, request, queryset):
        self._run_transition(request, queryset, "validate_solde")

    @admin.action(description=dated_action("confirm_cancellation"), permissions=["change"])
    def confirm_cancellation(self, request, queryset):
        self._run_transition(request, queryset, "confirm_cancellation")
