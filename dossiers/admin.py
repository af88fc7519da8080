"""Staff admin for dossiers: reference data is editable; dossier steps only ever go through `services`.

Nothing here writes a dossier's state, step data, documents, amendments or history directly: the add form
calls `services.create_dossier`, the change form `services.update_dossier` (reference and scenario, logged),
and the admin actions `services.run_transition`. Records of what happened (history, documents, amendments,
idempotent replies) are read-only.
"""
from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from segurtrack import errors
from faqref.links import guidance_for

from . import blocker_refresh, rules, services
from .history import verify_chain
from .models import AuditEntry
from .models import (
    SCENARIO_CHANGE_STATES, Amendment, Blocker, Client, Couloir, Dispositif, Document, Dossier,
    HistoryEntry, IdempotencyRecord, Notification, OutboxMessage, PortabilityRequest, PvPilote,
    Solution, SolutionChange, State,
)

# French labels of the transitions (DOMAIN.md §4), for the panels and the action messages.
TRANSITION_LABELS = {
    "sign_bdc": _l("Signature du BDC"),
    "file_avance": _l("Dépôt de l'avance"),
    "request_avance_fix": _l("Avance à modifier"),
    "refile_avance": _l("Nouveau dépôt de l'avance"),
    "validate_avance": _l("Validation de l'avance"),
    "record_avance_payment": _l("Paiement de l'avance"),
    "mark_deployed": _l("Déploiement"),
    "sign_va": _l("Signature de la VA"),
    "file_solde": _l("Dépôt du solde"),
    "request_solde_fix": _l("Solde à modifier"),
    "validate_solde": _l("Validation du solde"),
    "record_solde_payment": _l("Paiement du solde"),
    "request_cancellation": _l("Demande d'annulation"),
    "confirm_cancellation": _l("Confirmation de l'annulation"),
    "record_recovery": _l("Remboursement de l'avance"),
    "refuse_cancellation": _l("Refus de l'annulation"),
}
# Labels of the other history actions (changes outside the state machine).
ACTION_LABELS = {
    **TRANSITION_LABELS,
    "create": _l("Création"),
    "add_document": _l("Document joint"),
    "change_scenario": _l("Changement de scénario"),
    "change_reference": _l("Changement de référence"),
    "change_solde_draft": _l("Brouillon de solde"),
    "file_amendment": _l("Avenant déposé"),
    "amendment_validated": _l("Avenant validé"),
    "amendment_paid": _l("Avenant payé"),
    "change_declared_finess": _l("FINESS déclaré"),
    "change_installed_version": _l("Version installée"),
    "change_maintenance_contract": _l("Contrat de maintenance"),
}
STATUS_MARKS = {"ok": "✓", "failed": "✗", "pending": "…"}
# Where a solde is the next step: a PV pilote or a dispositif's MSS flag changes these dossiers' blockers.
SOLDE_NEXT_STATES = (State.VA_SIGNED, State.SOLDE_TO_FIX)


def state_label(code: str) -> str:
    return str(State(code).label) if code in State.values else code


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what happened: staff may look, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganisationScopedForm(forms.ModelForm):
    """Refuses, as a form error, a save the service would refuse: the user needs a role in the organisation."""

    request: HttpRequest   # set by the admin's get_form, on the per-request form class

    def clean(self):
        cleaned = super().clean()
        organisation = cleaned.get("organisation") or getattr(self.instance, "organisation", None)
        if organisation is not None:
            try:
                services.require_role(self.request.user, organisation.pk)
            except errors.NotPermitted as refused:
                raise ValidationError(str(refused))
        return cleaned


class ScopedFormAdmin(admin.ModelAdmin):
    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request   # modelform_factory made a fresh class for this call
        return form


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- reference data -------------------------------------------------------------------------------------------

@admin.register(Couloir)
class CouloirAdmin(admin.ModelAdmin):
    list_display = ("code", "label")
    search_fields = ("code", "label")


@admin.register(Dispositif)
class DispositifAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "couloir", "vague", "avance_deadline", "ceiling_amount",
                    "requires_mss_deployment")
    list_filter = ("couloir", "vague", "requires_mss_deployment")
    list_select_related = ("couloir",)
    search_fields = ("code", "label")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "requires_mss_deployment" in form.changed_data:
            # The deadline and the ceiling only block once a payload is typed; the MSS flag blocks a solde now.
            with transaction.atomic():  # in the background, each dossier under its row lock
                blocker_refresh.schedule("dispositif", obj.pk)


# --- solutions and PV pilotes ------------------------------------------------------------------------------------

class SolutionForm(OrganisationScopedForm):
    class Meta:
        model = Solution
        fields = "__all__"


class PvPiloteForm(forms.ModelForm):
    """A new PV pilote's document goes through the service's upload checks; a stored one is never replaced."""

    upload = forms.FileField(label=_l("document signé (PDF)"), required=False)

    class Meta:
        model = PvPilote
        fields = ("signed_on", "status")

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if self.instance.pk is not None:
            if upload is not None:
                self.add_error("upload", _("Le document d'un PV pilote enregistré ne se remplace pas : ajoutez un "
                                           "nouveau PV pilote."))
        elif upload is None:
            self.add_error("upload", _("Joignez le PV pilote signé (PDF)."))
        else:
            try:
                services.check_upload(upload, "pv_pilote")
            except errors.InvalidInput as error:
                self.add_error("upload", [str(m) for messages_ in error.errors.values() for m in messages_])
        return cleaned


class PvPiloteInline(admin.TabularInline):
    model = PvPilote
    form = PvPiloteForm
    extra = 0
    # The stored file is never rendered: documents have no public URL, only the permission-checked download.
    fields = ("signed_on", "status", "upload", "filename", "size", "sha256", "uploaded_by", "uploaded_at")
    readonly_fields = ("filename", "size", "sha256", "uploaded_by", "uploaded_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


@admin.register(Solution)
class SolutionAdmin(ScopedFormAdmin):
    """Solutions and their PV pilotes, saved through the services so the dossiers' blockers follow."""

    form = SolutionForm
    list_display = ("name", "version", "dispositif", "organisation", "proofs_submitted_on", "referenced_on",
                    "has_validated_pv_pilote")
    list_filter = ("dispositif", "organisation")
    list_select_related = ("dispositif", "organisation")
    search_fields = ("name", "version", "dispositif__code", "organisation__name")
    inlines = [PvPiloteInline]

    def get_queryset(self, request):
        validated = PvPilote.objects.filter(solution=OuterRef("pk"), status=PvPilote.Status.VALIDATED)
        return super().get_queryset(request).annotate(_has_validated_pv=Exists(validated))

    @admin.display(description=_l("PV pilote validé"), boolean=True, ordering="_has_validated_pv")
    def has_validated_pv_pilote(self, obj: Solution) -> bool:
        return obj._has_validated_pv

    def save_model(self, request, obj, form, change):
        services.save_solution(obj, by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not PvPilote:
            return super().save_formset(request, form, formset, change)
        solution = form.instance
        formset.save(commit=False)   # sorts the forms into new, changed and deleted objects
        for pv in formset.deleted_objects:
            pv.file.delete(save=False)
            pv.delete()
        for pv, changed in formset.changed_objects:
            if set(changed) - {"status"}:
                pv.save(update_fields=[name for name in changed if name != "status"])
            if "status" in changed:
                services.set_pv_pilote_status(pv, by=request.user, status=pv.status)
        for pv_form in formset.forms:
            if pv_form.instance.pk is None and pv_form.has_changed() and pv_form not in formset.deleted_forms:
                data = pv_form.cleaned_data
                pv_form.instance = services.add_pv_pilote(
                    solution, by=request.user, signed_on=data["signed_on"], status=data["status"],
                    upload=data["upload"])
        if formset.deleted_objects:
            with transaction.atomic():
                blocker_refresh.schedule("solution", solution.pk)


# --- clients ----------------------------------------------------------------------------------------------------

def identifier_field(name: str) -> forms.CharField:
    """Room for the spaces and dots people type: the model compacts the value, then checks its length and key."""
    return forms.CharField(label=Client._meta.get_field(name).verbose_name, max_length=30, required=False)


class ClientForm(OrganisationScopedForm):
    finess_geo = identifier_field("finess_geo")
    finess_legal = identifier_field("finess_legal")
    siret = identifier_field("siret")

    class Meta:
        model = Client
        fields = "__all__"


@admin.register(Client)
class ClientAdmin(ScopedFormAdmin):
    """Clients, saved through `services.save_client` (identifiers normalised, the dossiers' blockers refreshed)."""

    form = ClientForm
    list_display = ("name", "kind", "finess_geo", "siret", "department", "vat_liable", "organisation")
    list_filter = ("kind", "vat_liable", "organisation")
    list_select_related = ("organisation",)
    search_fields = ("name", "finess_geo", "finess_legal", "siret")
    fieldsets = (
        (None, {"fields": ("organisation", "name", "kind", "department", "vat_liable")}),
        (_l("Identifiants"), {"fields": ("finess_geo", "finess_legal", "siret")}),
        (_l("Prérequis ESMS avant la VA"), {"fields": ("ans_contract_signed_on", "cpe_cards",
                                                      "software_certificates")}),
    )

    def save_model(self, request, obj, form, change):
        services.save_client(obj, by=request.user)


# --- dossiers ---------------------------------------------------------------------------------------------------

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
    (_l("Solde"), ("solde_draft", "solde_filed_on", "invoice_number", "invoice_date", "invoice_addressee",
                   "invoice_total", "solde_amount", "vat", "invoice_count", "invoices_in_single_pdf",
                   "invoices_total", "invoice_mentions_checked", "solde_fix_requested_on", "solde_fix_reason",
                   "solde_validated_on", "solde_paid_on", "solde_paid_amount"), True),
    (_l("Annulation"), ("cancellation_requested_on", "cancellation_reason", "cancellation_motive",
                        "cancellation_from_state", "recovery_issued_on", "recovered_on", "recovered_amount",
                        "cancelled_on"), True),
    (_l("Historique"), ("history_panel", "history_seq", "history_hash", "created_at", "updated_at"), False),
)


def probe_payload(dossier: Dossier, transition: str) -> dict[str, Any]:
    """What the panels evaluate a transition with: today's date where a rule reads it, the solde draft."""
    today = timezone.localdate()
    if transition == "file_solde":
        return solde_checklist_payload(dossier)
    if transition in ("file_avance", "refile_avance"):
        return {"filed_on": today}
    if transition == "sign_bdc":
        return {"signed_on": today}
    return {}


# The invoice data a filed solde recorded on the dossier (the file_solde payload's fields).
FILED_SOLDE_FIELDS = ("invoice_number", "invoice_date", "invoice_addressee", "invoice_total", "solde_amount", "vat",
                      "invoice_count", "invoices_in_single_pdf", "invoices_total", "invoice_mentions_checked")


def solde_checklist_payload(dossier: Dossier) -> dict[str, Any]:
    """The invoice data being prepared, else the data of the solde already filed."""
    draft = services.solde_draft_payload(dossier)
    if draft or dossier.solde_filed_on is None:
        return draft
    return {name: getattr(dossier, name) for name in FILED_SOLDE_FIELDS if getattr(dossier, name) not in (None, "")}


def guidance_links(codes: list[str]) -> dict[str, SafeString]:
    links = guidance_for(codes)
    return {code: format_html_join(" · ", '<a href="{}" target="_blank" rel="noopener">{}</a>',
                                   ((ref["url"], ref["title"]) for ref in refs)) for code, refs in links.items()}


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
        names = [t.name for t in obj.get_available_state_transitions()]
        if not names:
            return format_html("<p>{}</p>", _("Aucune transition possible : le dossier est dans un état final."))
        evaluated = [(name, rules.checklist(rules.Context(obj, name, probe_payload(obj, name)))) for name in names]
        links = guidance_links([item.rule.code for _name, items in evaluated for item in items
                                if item.status == "failed"])
        blocks = []
        for name, items in evaluated:
            failed = [i for i in items if i.status == "failed"]
            blocking = [i for i in failed if i.rule.severity is rules.Severity.BLOCK]
            warnings = [i for i in failed if i.rule.severity is rules.Severity.WARN]
            pending = [i for i in items if i.status == "pending"]
            verdict = (_("bloquée par %(n)d règle(s)") % {"n": len(blocking)} if blocking
                       else _("possible au vu des données actuelles"))
            rows = format_html_join("", "<li><strong>{}</strong> <code>{}</code> — {} {}</li>", (
                (_("Bloquant") if i in blocking else _("Avertissement"), i.rule.code, i.message,
                 links.get(i.rule.code, "")) for i in blocking + warnings))
            todo = format_html("<li>{} {}</li>", _("À renseigner lors de la transition :"),
                               ", ".join(str(i.rule.title) for i in pending)) if pending else ""
            blocks.append(format_html("<div><p><strong>{}</strong> (<code>{}</code>) : {}</p><ul>{}{}</ul></div>",
                                      TRANSITION_LABELS.get(name, name), name, verdict, rows, todo))
        return format_html_join("", "{}", ((b,) for b in blocks))

    @admin.display(description=_l("Checklist pré-solde"))
    def pre_solde_checklist(self, obj: Dossier) -> SafeString:
        items = rules.checklist(rules.Context(obj, "file_solde", solde_checklist_payload(obj)))
        blocking = [i for i in items if i.status == "failed" and i.rule.severity is rules.Severity.BLOCK]
        links = guidance_links([i.rule.code for i in items])
        if obj.state not in SOLDE_NEXT_STATES and obj.solde_filed_on is not None:
            note = _("Solde déposé le %(date)s : contrôle des données de la facture déposée.") % {
                "date": obj.solde_filed_on.strftime("%d/%m/%Y")}
        elif obj.state not in SOLDE_NEXT_STATES:
            note = _("Le solde se dépose depuis les états « VA signée » ou « Solde à modifier » ; état actuel : "
                     "« %(state)s ».") % {"state": state_label(obj.state)}
        elif blocking:
            note = _("%(n)d règle(s) bloquante(s) en échec : le solde ne peut pas encore être déposé.") % {
                "n": len(blocking)}
        else:
            note = _("Aucune règle bloquante en échec : le solde peut être déposé une fois les éléments à "
                     "renseigner saisis.")
        row = "<tr><td>{}</td><td>{}<br><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>"
        rows = format_html_join("", row, (
            (STATUS_MARKS[i.status], i.rule.title, i.rule.code,
             _("bloquant") if i.rule.severity is rules.Severity.BLOCK else _("avertissement"), i.message,
             links.get(i.rule.code, "")) for i in items))
        return format_html(
            "<p>{}</p><table><thead><tr><th></th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            note, _("Règle"), _("Sévérité"), _("Constat"), _("Guide FAQ"), rows)

    @admin.display(description=_l("Historique"))
    def history_panel(self, obj: Dossier) -> SafeString:
        problems = verify_chain(obj.pk)
        status = (format_html("<p>✓ {}</p>", _("Chaîne d'empreintes intègre.")) if not problems else
                  format_html("<p><strong>✗ {}</strong></p><ul>{}</ul>", _("Chaîne d'empreintes altérée :"),
                              format_html_join("", "<li>{}</li>", ((p,) for p in problems))))
        entries = obj.history.order_by("seq").only("seq", "at", "username", "action", "from_state", "to_state", "data")
        row = ("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
               '<td><code style="white-space: pre-wrap; word-break: break-word">{}</code></td></tr>')
        rows = format_html_join("", row, (
            (e.seq, timezone.localtime(e.at).strftime("%d/%m/%Y %H:%M"), e.username or "—",
             ACTION_LABELS.get(e.action, e.action),
             f"{state_label(e.from_state)} → {state_label(e.to_state)}" if e.from_state != e.to_state
             else state_label(e.to_state),
             json.dumps(e.data, ensure_ascii=False, sort_keys=True)[:300]) for e in entries))
        return format_html(
            "{}<table><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            status, _("Date"), _("Utilisateur"), _("Action"), _("État"), _("Données"), rows)

    # --- actions: every step goes through the service ---

    def _run_transition(self, request: HttpRequest, queryset: QuerySet[Dossier], name: str) -> None:
        today = timezone.localdate().isoformat()
        label = TRANSITION_LABELS[name]
        for pk, reference in queryset.prefetch_related(None).order_by("pk").values_list("pk", "reference"):
            reference = reference or f"#{pk}"
            try:
                outcome = services.run_transition(pk, name, by=request.user, data={"on": today})
            except services.RulesFailed as refused:
                messages.error(request, _("%(ref)s : %(action)s refusée — %(failures)s") % {
                    "ref": reference, "action": label,
                    "failures": " ; ".join(f"[{f.rule}] {f.message}" for f in refused.failures)})
            except errors.InvalidInput as invalid:
                messages.error(request, _("%(ref)s : %(action)s refusée — %(errors)s") % {
                    "ref": reference, "action": label,
                    "errors": " ; ".join(f"{k} : {' '.join(v)}" for k, v in invalid.errors.items())})
            except errors.NotPermitted as refused:
                messages.error(request, _("%(ref)s : %(action)s refusée — %(reason)s") % {
                    "ref": reference, "action": label, "reason": refused})
            else:
                messages.success(request, _("%(ref)s : %(action)s enregistrée, nouvel état « %(state)s ».") % {
                    "ref": reference, "action": label, "state": state_label(outcome.dossier.state)})
                for warning in outcome.warnings:
                    messages.warning(request, f"{reference} : [{warning.rule}] {warning.message}")

    @admin.action(description=_l("Valider l'avance (à la date du jour)"), permissions=["change"])
    def validate_avance(self, request, queryset):
        self._run_transition(request, queryset, "validate_avance")

    @admin.action(description=_l("Valider le solde (à la date du jour)"), permissions=["change"])
    def validate_solde(self, request, queryset):
        self._run_transition(request, queryset, "validate_solde")

    @admin.action(description=_l("Confirmer l'annulation (à la date du jour)"), permissions=["change"])
    def confirm_cancellation(self, request, queryset):
        self._run_transition(request, queryset, "confirm_cancellation")


# --- records: read-only ---------------------------------------------------------------------------------------------

@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("filename", "kind", "dossier", "size", "uploaded_by", "uploaded_at")
    list_filter = ("kind",)
    list_select_related = ("dossier", "uploaded_by")
    search_fields = ("filename", "sha256", "dossier__reference")
    # No `file`: documents have no public URL; they are downloaded through the permission-checked view.
    fields = ("organisation", "dossier", "kind", "filename", "content_type", "size", "sha256", "uploaded_by",
              "uploaded_at")
    show_full_result_count = False


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdmin):
    list_display = ("dossier", "filed_on", "amount", "status", "validated_on", "paid_on", "paid_amount")
    list_filter = ("status",)
    list_select_related = ("dossier",)
    search_fields = ("dossier__reference",)


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyAdmin):
    list_display = ("dossier", "seq", "at", "username", "action", "from_state", "to_state")
    list_select_related = ("dossier",)
    search_fields = ("dossier__reference", "username", "action")
    ordering = ("-id",)
    # Millions of rows: no exact COUNT(*) on every page.
    show_full_result_count = False


@admin.register(Blocker)
class BlockerAdmin(ReadOnlyAdmin):
    """The rules blocking each dossier's next step, as the services last computed them."""

    list_display = ("dossier", "transition", "rule")
    list_filter = ("transition", "rule")
    list_select_related = ("dossier",)
    search_fields = ("dossier__reference", "rule")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "organisation", "status_code", "created_at")
    list_select_related = ("organisation",)
    search_fields = ("key",)
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "dossier", "kind", "message", "created_at", "read_at")
    list_filter = ("kind",)
    list_select_related = ("user", "organisation", "dossier")
    search_fields = ("message", "user__username", "dossier__reference")
    readonly_fields = ("user", "organisation", "dossier", "history_entry", "kind", "message", "created_at")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


# --- follow-up records (deadlines, digests, outbox, exports) ---------------------------------------------------------

@admin.register(PortabilityRequest)
class PortabilityRequestAdmin(admin.ModelAdmin):
    """A client's formal request for its data: due within 15 calendar days (listed among the deadlines)."""

    list_display = ("client", "requested_on", "channel", "fulfilled_on")
    list_filter = (("fulfilled_on", admin.EmptyFieldListFilter), "channel")
    list_select_related = ("client",)
    search_fields = ("client__name", "client__finess_geo", "client__siret")
    raw_id_fields = ("client",)


@admin.register(SolutionChange)
class SolutionChangeAdmin(admin.ModelAdmin):
    """A change to a referenced solution: the ANS must hear of a conformity-affecting one within 15 days."""

    list_display = ("solution", "changed_on", "affects_conformity", "ans_notified_on", "rereferencing_requested_on",
                    "rereferencing_filed_on")
    list_filter = ("affects_conformity",)
    list_select_related = ("solution",)
    search_fields = ("solution__name", "description")
    raw_id_fields = ("solution",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the background worker: shown for support, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Changes to clients and solutions written by the services (DOMAIN.md §8): evidence, never edited."""

    list_display = ("at", "organisation", "client", "solution", "user", "action")
    list_filter = ("action",)
    list_select_related = ("organisation", "client", "solution", "user")
    search_fields = ("client__name", "solution__name")
    raw_id_fields = ("client", "solution")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("task_name", "created_at", "sent_at", "done_at", "attempts", "last_error")
    list_filter = (("done_at", admin.EmptyFieldListFilter), ("sent_at", admin.EmptyFieldListFilter))

