"""Transition payloads (DOMAIN.md §4): shape and type checks only — prerequisites belong to rules.py.

A value the programme forbids but a user can plausibly send (an unlisted signature type, a missing
confirmation) passes here and is refused by its rule with a 409 and FAQ guidance; a value of the wrong
shape (not a date, a negative or 3-decimal amount, an unknown choice) is a 400 from here.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from segurtrack.errors import InvalidInput

from .models import CancellationReason, Dossier, MssDeployment, field_label


def Amount(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), **kwargs)


class Payload(serializers.Serializer):
    """Base: unknown fields are refused so a typo is never silently ignored."""

    def __init__(self, *args, dossier: Dossier | None = None, **kwargs):
        self.dossier = dossier
        super().__init__(*args, **kwargs)

    def validate(self, attrs):
        unknown = sorted(set(getattr(self, "initial_data", {}) or {}) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Champ inconnu pour cette transition.")] for name in unknown})
        return attrs


class SignBdc(Payload):
    signed_on = serializers.DateField(label=_("Signé le"))
    signer_name = serializers.CharField(label=_("Signataire"), max_length=200)
    # Any text: an unlisted type is refused by the rule bdc.signature_type, with its guidance.
    signature_type = serializers.CharField(label=_("Type de signature"), max_length=40)


class FileAvance(Payload):
    filed_on = serializers.DateField(label=_("Déposée le"))
    declared_amount = Amount(label=_("Montant déclaré"))
    scenario = serializers.CharField(label=_("Scénario"), max_length=100, required=False, allow_blank=True)


class RefileAvance(FileAvance):
    declared_amount = Amount(label=_("Montant déclaré"), required=False, allow_null=True)


class OnReason(Payload):
    on = serializers.DateField(label=_("Date"))
    reason = serializers.CharField(label=_("Motif"), max_length=2000)


class On(Payload):
    on = serializers.DateField(label=_("Date"))


class Payment(Payload):
    paid_on = serializers.DateField(label=_("Payé le"))
    amount = Amount(label=_("Montant"))


class MarkDeployed(Payload):
    deployed_on = serializers.DateField(label=_("Déployé le"))


class SignVa(Payload):
    signed_on = serializers.DateField(label=_("Signée le"))
    signer_name = serializers.CharField(label=_("Signataire"), max_length=200)
    scenario = serializers.CharField(label=_("Scénario installé"), max_length=100)
    mss_deployment = serializers.CharField(label=_("Indicateur de déploiement MSS"), required=False,
                                           allow_blank=True, allow_null=True, max_length=10)

    def validate_mss_deployment(self, value):
        # Where the dispositif requires it, a wrong value is the rule va.mss_deployment's to explain.
        if value and value not in MssDeployment.values and not (
            self.dossier is not None and self.dossier.dispositif.requires_mss_deployment
        ):
            raise serializers.ValidationError(_("Valeur inconnue : cas_1 ou cas_2 attendu."))
        return value or ""


def normalise_vat(value: str) -> str:
    """"HT" or a rate in percent ("20", "8.5"; a comma is accepted), returned in its shortest form."""
    text = str(value).strip().replace(",", ".").rstrip("%").strip()
    if text.upper() == "HT":
        return "HT"
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise serializers.ValidationError(_("« HT » ou un taux en pourcentage attendu (20, 8.5…)."))
    if not rate.is_finite() or rate < 0 or rate > 100 or rate.as_tuple().exponent < -2:
        raise serializers.ValidationError(_("Le taux de TVA doit être compris entre 0 et 100, deux décimales au plus."))
    normal = rate.normalize()
    return f"{normal:f}"


class FileSolde(Payload):
    filed_on = serializers.DateField(label=_("Déposé le"))
    invoice_number = serializers.CharField(label=field_label("invoice_number"), max_length=60)
    invoice_date = serializers.DateField(label=field_label("invoice_date"))
    invoice_addressee = serializers.CharField(label=field_label("invoice_addressee"), max_length=200)
    invoice_total = Amount(label=field_label("invoice_total"))
    solde_amount = Amount(label=field_label("solde_amount"))
    vat = serializers.CharField(label=field_label("vat"), max_length=10)
    invoice_count = serializers.ChoiceField(label=field_label("invoice_count"), choices=[1, 2])
    invoices_in_single_pdf = serializers.BooleanField(label=field_label("invoices_in_single_pdf"), required=False,
                                                      allow_null=True, default=None)
    invoices_total = Amount(label=field_label("invoices_total"), required=False, allow_null=True)
    invoices_marked = serializers.BooleanField(label=_("Chaque facture porte AVANCE ou SOLDE"), required=False,
                                               default=False)
    invoice_mentions_checked = serializers.BooleanField(label=field_label("invoice_mentions_checked"), required=False,
                                                        default=False)

    def validate_vat(self, value):
        return normalise_vat(value)

    def validate_invoice_count(self, value):
        return int(value)


class RequestCancellation(Payload):
    requested_on = serializers.DateField(label=_("Demandée le"))
    reason = serializers.ChoiceField(label=_("Motif"), choices=CancellationReason.choices)
    motive = serializers.CharField(label=_("Explication"), max_length=2000)


class RecordRecovery(Payload):
    """One repayment of a recovery order: more than zero, and no more than what is still owed."""

    repaid_on = serializers.DateField(label=_("Remboursé le"))
    amount = Amount(label=_("Montant remboursé"))

    def validate_amount(self, value):
        if value <= 0:
            raise serializers.ValidationError(_("Le montant remboursé doit être positif."))
        outstanding = self.dossier.recovery_outstanding if self.dossier is not None else None
        if outstanding is not None and self.dossier.state == "recovery_issued" and value > outstanding:
            raise serializers.ValidationError(
                _("Le montant remboursé dépasse ce qui reste dû (%(outstanding)s €).") % {
                    "outstanding": f"{outstanding:.2f}".replace(".", ",")})
        return value


PAYLOADS: dict[str, type[Payload]] = {
    "sign_bdc": SignBdc,
    "file_avance": FileAvance,
    "request_avance_fix": OnReason,
    "refile_avance": RefileAvance,
    "validate_avance": On,
    "record_avance_payment": Payment,
    "mark_deployed": MarkDeployed,
    "sign_va": SignVa,
    "file_solde": FileSolde,
    "request_solde_fix": OnReason,
    "validate_solde": On,
    "record_solde_payment": Payment,
    "request_cancellation": RequestCancellation,
    "confirm_cancellation": On,
    "record_recovery": RecordRecovery,
    "refuse_cancellation": OnReason,
}
TRANSITIONS = tuple(PAYLOADS)


class SoldeDraft(FileSolde):
    """Invoice data typed before filing, checked by the pre-solde checklist: every field optional."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


def _errors(detail: Any) -> dict[str, list[str]]:
    """A serializer's error detail as the services' InvalidInput errors: {field: [message, …]}."""
    if isinstance(detail, dict):
        return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    return {"non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def validate_payload(name: str, data: Any, dossier: Dossier | None = None) -> dict[str, Any]:
    """The transition's payload as typed values; raises InvalidInput with each field's messages."""
    if not isinstance(data, dict):
        raise InvalidInput({"non_field_errors": [str(_("Un objet JSON est attendu."))]})
    serializer = PAYLOADS[name](data=data, dossier=dossier)
    try:
        serializer.is_valid(raise_exception=True)
    except serializers.ValidationError as exc:
        raise InvalidInput(_errors(exc.detail))
    return dict(serializer.validated_data)


def validate_solde_draft(data: dict[str, Any] | None, dossier: Dossier) -> dict[str, Any]:
    """A solde draft as typed values (every field optional); raises InvalidInput with each field's messages."""
    draft = SoldeDraft(data=data or {}, dossier=dossier)
    if not draft.is_valid():
        raise InvalidInput(_errors(draft.errors))
    return dict(draft.validated_data)


def solde_draft_payload(dossier: Dossier) -> dict[str, Any]:
    """The dossier's solde draft as typed values, {} while it does not validate (the checklist reads it)."""
    draft = SoldeDraft(data=dossier.solde_draft or {}, dossier=dossier)
    return dict(draft.validated_data) if draft.is_valid() else {}


# --- the payloads' fields for other renderers (the page forms), without the serializer framework ------------------

@dataclass(frozen=True)
class FieldSpec:
    """What a page form needs of a payload field: its label, whether it is required, its type and bounds."""

    label: Any
    required: bool
    kind: str  # "boolean", "date", "decimal", "choice" or "text"
    max_length: int | None = None
    min_value: Decimal | None = None
    choices: tuple[tuple[str, Any], ...] = ()


def _kind(field: serializers.Field) -> str:
    for kind, base in (("boolean", serializers.BooleanField), ("date", serializers.DateField),
                       ("decimal", serializers.DecimalField), ("choice", serializers.ChoiceField)):
        if isinstance(field, base):
            return kind
    return "text"


def fields_of(transition: str) -> dict[str, FieldSpec]:
    """The fields of a transition's payload, in order (the solde draft has those of file_solde)."""
    return {name: FieldSpec(
        label=field.label or name, required=bool(field.required), kind=_kind(field),
        max_length=getattr(field, "max_length", None), min_value=getattr(field, "min_value", None),
        choices=tuple((str(k), v) for k, v in field.choices.items()) if isinstance(field, serializers.ChoiceField)
        else ()) for name, field in PAYLOADS[transition]().fields.items()}
