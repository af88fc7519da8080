"""API representations and inputs. Writes to dossiers go through `dossiers.services`; these only shape data."""
from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from organisations.permissions import request_membership
from segurtrack.api.serializers import FieldsBuiltOnce, StrictMixin

from ..models import (
    Amendment, CancellationReason, Client, DeclaredFiness, Dispositif, Document, DocumentKind, Dossier, HistoryEntry, MssDeployment,
    PvPilote, SignatureType, Solution,
)
from ..payloads import TRANSITIONS, SoldeDraft
from ..rules import Severity




class OrganisationObjectField(serializers.PrimaryKeyRelatedField):
    """An id among the requesting organisation's objects: another organisation's is refused like a missing one."""

    def get_queryset(self):
        organisation = request_membership(self.context["request"]).organisation
        return super().get_queryset().filter(organisation=organisation)


# --- reference data, solutions, clients ------------------------------------------------------------------------

class DispositifSerializer(serializers.ModelSerializer):
    couloir = serializers.CharField(source="couloir_id", read_only=True)

    class Meta:
        model = Dispositif
        fields = ["code", "label", "couloir", "vague", "avance_deadline", "ceiling_amount", "requires_mss_deployment"]


class CodeRelatedField(serializers.SlugRelatedField):
    """A reference object by its code; a NUL character is refused before the lookup (PostgreSQL cannot compare one:
    a database error, a 500)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            ProhibitNullCharactersValidator()(data)
        return super().to_internal_value(data)


class SolutionSerializer(StrictMixin, serializers.ModelSerializer):
    dispositif = CodeRelatedField(slug_field="code", queryset=Dispositif.objects.all())

    class Meta:
        model = Solution
        fields = ["id", "name", "version", "dispositif", "proofs_submitted_on", "referenced_on", "created_at"]
        read_only_fields = ["created_at"]


class PvPiloteSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = PvPilote
        fields = ["id", "solution", "signed_on", "status", "filename", "size", "sha256", "uploaded_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, pv: PvPilote) -> str:
        return reverse("pv-pilote-download", args=[pv.pk])


class PvPiloteUploadSerializer(StrictMixin, serializers.Serializer):
    file = serializers.FileField(label=_("Document"))
    signed_on = serializers.DateField(label=_("Signé le"))
    status = serializers.ChoiceField(label=_("Statut"), choices=PvPilote.Status.choices, default=PvPilote.Status.PENDING)


class PvPiloteStatusSerializer(StrictMixin, serializers.Serializer):
    status = serializers.ChoiceField(label=_("Statut"), choices=PvPilote.Status.choices, required=False)


# The departments of identifiers.DEPARTMENTS, as the schema documents them; the service says why one is refused.
DEPARTMENT_PATTERN = r"^ *(0[1-9]|1[0-9]|2[1-9ABab]|[3-8][0-9]|9[0-5]|97[1-6]) *$"


class ClientSerializer(StrictMixin, serializers.ModelSerializer):
    """Shape only: `services.save_client` normalises and validates identifiers and department (400 in French)."""

    # Wider than the stored 9/14 characters: spaces, dots and dashes are accepted, then removed by the service.
    finess_geo = serializers.CharField(label=_("FINESS géographique"), max_length=30, required=False, allow_blank=True)
    finess_legal = serializers.CharField(label=_("FINESS juridique"), max_length=30, required=False, allow_blank=True)
    siret = serializers.CharField(label=_("SIRET"), max_length=30, required=False, allow_blank=True)
    department = serializers.RegexField(
        DEPARTMENT_PATTERN, label=_("Département"), help_text=_("01 à 95, 2A, 2B ou 971 à 976."),
        error_messages={"invalid": _("Ce n'est pas un département : 01 à 95, 2A, 2B ou 971 à 976.")})

    class Meta:
        model = Client
        fields = ["id", "name", "kind", "finess_geo", "finess_legal", "siret", "department", "vat_liable",
                  "ans_contract_signed_on", "cpe_cards", "software_certificates", "created_at"]
        read_only_fields = ["created_at"]


class ClientSummarySerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "name", "finess_geo", "siret", "department"]
        read_only_fields = fields


# --- dossiers ----------------------------------------------------------------------------------------------------

@extend_schema_field(SoldeDraft)
class SoldeDraftField(serializers.DictField):
    """The invoice data typed before filing, documented as the file_solde payload; the service checks it."""


def blank_or_choice(choices) -> serializers.ChoiceField:
    # Declared: a read-only model field loses allow_blank, and the schema would then refuse its "".
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True)


class DossierSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    bdc_signature_type = blank_or_choice(SignatureType.choices)
    mss_deployment = blank_or_choice(MssDeployment.choices)
    cancellation_reason = blank_or_choice(CancellationReason.choices)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    available_transitions = serializers.SerializerMethodField()
    client_summary = ClientSummarySerializer(source="client", read_only=True)
    dispositif = serializers.SlugRelatedField(slug_field="code", read_only=True)
    couloir = serializers.CharField(source="dispositif.couloir_id", read_only=True)
    solde_draft = serializers.DictField(read_only=True, help_text=_("Données de facture saisies avant le dépôt."))
    declared_finess = serializers.ChoiceField(choices=DeclaredFiness.choices, read_only=True)
    recovery_outstanding = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True,
        help_text=_("Reste dû sur l'ordre de recouvrement : avance versée (avenants compris) moins les remboursements."))

    class Meta:
        model = Dossier
        fields = [
            "id", "reference", "state", "state_label", "state_changed_at", "available_transitions",
            "client", "client_summary", "solution", "dispositif", "couloir", "scenario",
            "bdc_signed_on", "bdc_signer_name", "bdc_signature_type",
            "avance_filed_on", "avance_declared_amount", "declared_amount", "avance_fix_requested_on",
            "avance_fix_reason", "avance_validated_on", "avance_paid_on", "avance_paid_amount", "avance_paid_total",
            "deployed_on", "va_signed_on", "va_signer_name", "mss_deployment",
            "solde_filed_on", "invoice_number", "invoice_date", "invoice_addressee", "invoice_total", "solde_amount",
            "vat", "invoice_count", "invoices_in_single_pdf", "invoices_total", "invoice_mentions_checked",
            "solde_fix_requested_on", "solde_fix_reason", "solde_validated_on", "solde_paid_on", "solde_paid_amount",
            "cancellation_requested_on", "cancellation_reason", "cancellation_motive", "cancellation_from_state",
            "recovery_issued_on", "recovered_on", "recovered_amount", "cancelled_on",
            "solde_draft", "created_at", "updated_at",
            "va_scenario", "declared_finess", "installed_version", "maintenance_contract", "recovery_repaid",
            "recovery_outstanding", "cancellation_refused_on", "cancellation_refusal_reason",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=TRANSITIONS)))
    def get_available_transitions(self, dossier: Dossier) -> list[str]:
        return [t.name for t in dossier.get_available_state_transitions()]


_BOUND = threading.local()


def dossier_data(dossier: Dossier) -> dict[str, Any]:
    """`DossierSerializer(dossier).data` (the same keys, values and order) from a serializer bound once per thread
    and language instead of one per answer: binding its 55 fields (each copied, given its parent and source) took
    longer than the transition's statements. Writing the representation reads only the dossier, its related rows
    and the current time zone (read at each call by the date fields): nothing of an answer is kept."""
    serializers_ = _BOUND.__dict__.setdefault("by_language", {})
    language = get_language()
    serializer = serializers_.get(language)
    if serializer is None:
        serializer = serializers_[language] = DossierSerializer()
        serializer.fields  # bound now, once
    return dict(serializer.to_representation(dossier))


class DossierCreateSerializer(StrictMixin, serializers.Serializer):
    client = OrganisationObjectField(queryset=Client.objects.all())
    solution = OrganisationObjectField(queryset=Solution.objects.all())
    scenario = serializers.CharField(label=_("Scénario"), max_length=100, required=False, allow_blank=True,
                                     default="")
    reference = serializers.CharField(label=_("Référence"), max_length=60, required=False, allow_blank=True,
                                      default="", help_text=_("Attribuée automatiquement si vide."))


class DossierUpdateSerializer(StrictMixin, serializers.Serializer):
    scenario = serializers.CharField(label=_("Scénario"), max_length=100, required=False, allow_blank=True,
                                     help_text=_("Modifiable jusqu'à la signature de la VA, qui le fixe."))
    reference = serializers.CharField(label=_("Référence"), max_length=60, required=False)
    solde_draft = SoldeDraftField(required=False)
    declared_finess = serializers.ChoiceField(label=_("FINESS déclaré"), choices=DeclaredFiness.choices,
                                              required=False)
    installed_version = serializers.CharField(label=_("Version installée"), max_length=60, required=False,
                                              allow_blank=True)
    maintenance_contract = serializers.BooleanField(label=_("Contrat de maintenance"), required=False)


class HistoryEntrySerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="username", read_only=True)

    class Meta:
        model = HistoryEntry
        fields = ["seq", "at", "user", "action", "from_state", "to_state", "data", "hash"]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()
    api_download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = ["id", "kind", "filename", "size", "sha256", "content_type", "uploaded_at", "uploaded_by",
                  "download_url", "api_download_url"]
        read_only_fields = fields

    def get_download_url(self, document: Document) -> str:
        return reverse("document-download", args=[document.pk])

    def get_api_download_url(self, document: Document) -> str:
        return reverse("api:document-download", args=[document.dossier_id, document.pk])


class DocumentUploadSerializer(StrictMixin, serializers.Serializer):
    kind = serializers.ChoiceField(label=_("Type"), choices=DocumentKind.choices)
    file = serializers.FileField(label=_("Fichier"))


class AmendmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Amendment
        fields = ["id", "filed_on", "amount", "status", "validated_on", "paid_on", "paid_amount", "created_at"]
        read_only_fields = fields


def positive_amount(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"), **kwargs)


class AmendmentCreateSerializer(StrictMixin, serializers.Serializer):
    filed_on = serializers.DateField(label=_("Déposé le"))
    amount = positive_amount(label=_("Nouveau montant déclaré"))


class AmendmentUpdateSerializer(StrictMixin, serializers.Serializer):
    status = serializers.ChoiceField(label=_("Statut"), choices=Amendment.Status.choices, required=False)
    on = serializers.DateField(label=_("Le"), required=False, help_text=_("Aujourd'hui si absent."))
    paid_amount = positive_amount(label=_("Montant payé"), required=False,
                                  help_text=_("Le montant de l'avenant si absent."))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH without a status changes nothing; a date or an amount without one is a mistake.
        if "status" not in attrs and attrs:
            raise serializers.ValidationError({"status": [_("Indiquez le nouveau statut de l'avenant.")]})
        return attrs


# --- rule outcomes and error bodies (documentation of the answers built in views and errors) --------------------

class FaqRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()


class RuleItemSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text=_("Code stable de la règle, ex. solde.pv_pilote."))
    severity = serializers.ChoiceField(choices=[s.value for s in Severity])
    message = serializers.CharField()
    faq = FaqRefSerializer(many=True)


class RulesFailedSerializer(serializers.Serializer):
    errors = RuleItemSerializer(many=True)
    warnings = RuleItemSerializer(many=True)


class ChecklistItemSerializer(RuleItemSerializer):
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=["ok", "failed", "pending"],
                                     help_text=_("pending : données de facture pas encore saisies."))


class ChecklistSerializer(serializers.Serializer):
    ready = serializers.BooleanField()
    state_allows_filing = serializers.BooleanField()
    items = ChecklistItemSerializer(many=True)


class TransitionResultSerializer(DossierSerializer):
    warnings = RuleItemSerializer(many=True, read_only=True)

    class Meta(DossierSerializer.Meta):
        fields = [*DossierSerializer.Meta.fields, "warnings"]


