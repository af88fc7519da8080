"""Clients and solutions (with their PV pilotes), saved through the services so the dossiers' blockers follow;
their follow-ups (portability requests, solution changes) and the audit of their changes."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from segurtrack import errors
from segurtrack.admin import ReadOnlyAdmin

from .. import blocker_refresh, services
from ..models import AuditEntry, Client, PortabilityRequest, PvPilote, Solution, SolutionChange
from .common import OrganisationScopedForm, ScopedFormAdmin


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


# --- follow-ups and audit -----------------------------------------------------------------------------------------

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


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Changes to clients and solutions written by the services (DOMAIN.md §8): evidence, never edited."""

    list_display = ("at", "organisation", "client", "solution", "user", "action")
    list_filter = ("action",)
    list_select_related = ("organisation", "client", "solution", "user")
    search_fields = ("client__name", "solution__name")
    raw_id_fields = ("client", "solution")
