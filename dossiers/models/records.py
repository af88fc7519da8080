"""What a dossier accumulates: documents, avance amendments, the append-only history, idempotent replies."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from organisations.models import Organisation

from .dossier import TRANSITION_LABELS, Dossier


class DocumentKind(models.TextChoices):
    BDC = "bdc", _("Bon de commande signé")
    VA = "va", _("VA signée")
    INVOICE = "invoice", _("Facture")
    VAT_EXEMPTION = "vat_exemption", _("Attestation de non-assujettissement à la TVA")
    HONOUR_STATEMENT = "honour_statement", _("Attestation sur l'honneur")
    CLIENT_RENUNCIATION = "client_renunciation", _("Attestation de renonciation du client")
    PV_PILOTE = "pv_pilote", _("PV pilote")
    OTHER = "other", _("Autre")
    VA_DRAFT = "va_draft", _("VA à signer (non signée)")


# Kinds that carry a signature and must be PDF files (checked on content, not on the file name).
SIGNED_KINDS = frozenset({
    DocumentKind.BDC, DocumentKind.VA, DocumentKind.INVOICE, DocumentKind.VAT_EXEMPTION,
    DocumentKind.HONOUR_STATEMENT, DocumentKind.CLIENT_RENUNCIATION, DocumentKind.PV_PILOTE,
})


def document_path(instance: "Document", filename: str) -> str:
    return f"org{instance.organisation_id}/dossier{instance.dossier_id}/{filename}"


class Document(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("type"), max_length=24, choices=DocumentKind.choices)
    # Stored under a generated name; `filename` is the sanitised name the user gave, for display.
    file = models.FileField(_("fichier"), upload_to=document_path, max_length=300)
    filename = models.CharField(_("nom du fichier"), max_length=200)
    content_type = models.CharField(_("type de contenu"), max_length=100, default="application/octet-stream")
    size = models.PositiveBigIntegerField(_("taille"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("déposé par"))
    uploaded_at = models.DateTimeField(_("déposé le"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["dossier", "kind"], name="document_dossier_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.filename}"


class Amendment(models.Model):
    """An avance amendment (avenant): a new declared amount, then its validation and payment."""

    class Status(models.TextChoices):
        FILED = "filed", _("Déposé")
        VALIDATED = "validated", _("Validé")
        PAID = "paid", _("Payé")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="amendments")
    filed_on = models.DateField(_("déposé le"))
    amount = models.DecimalField(_("nouveau montant déclaré"), max_digits=12, decimal_places=2)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.FILED)
    validated_on = models.DateField(_("validé le"), null=True, blank=True)
    paid_on = models.DateField(_("payé le"), null=True, blank=True)
    paid_amount = models.DecimalField(_("montant payé"), max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["filed_on", "id"]
        verbose_name = _("avenant")
        verbose_name_plural = _("avenants")

    def __str__(self) -> str:
        return f"Avenant {self.amount} € ({self.get_status_display()})"


class AppendOnlyError(RuntimeError):
    pass


def canonical_json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# What the history calls each row's action: a transition by its label, the other changes by these words.
ACTION_LABELS: dict[str, Any] = {
    **TRANSITION_LABELS,
    "create": _("Dossier créé"),
    "change_scenario": _("Scénario modifié"),
    "change_reference": _("Référence modifiée"),
    "change_solde_draft": _("Données de facture enregistrées"),
    "add_document": _("Document ajouté"),
    "file_amendment": _("Avenant déposé"),
    "amendment_validated": _("Avenant validé"),
    "amendment_paid": _("Avenant payé"),
    "document_returned": _("Document retourné par le signataire du client"),
    "change_declared_finess": _("FINESS déclaré modifié"),
    "change_installed_version": _("Version installée modifiée"),
    "change_maintenance_contract": _("Contrat de maintenance modifié"),
    "note": _("Note"),
    "assign_owner": _("Responsable changé"),
    "correct_step": _("Étape corrigée"),
    "replace_document": _("Document remplacé"),
    "withdraw_document": _("Document retiré"),
    "clear_solde_draft": _("Données de facture supprimées"),
}


class HistoryEntry(models.Model):
    """One row per transition or change; each row's hash covers its content and the previous row's hash."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="history")
    seq = models.PositiveIntegerField(_("rang"))
    at = models.DateTimeField(_("le"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The user's name at the time, so the chain still verifies when the account is renamed or deleted.
    username = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(_("état de départ"), max_length=30, blank=True, default="")
    to_state = models.CharField(_("état d'arrivée"), max_length=30, blank=True, default="")
    data = models.JSONField(_("données"), default=dict, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(_("empreinte précédente"), max_length=64, blank=True, default="")
    hash = models.CharField(_("empreinte"), max_length=64)

    class Meta:
        ordering = ["dossier_id", "seq"]
        verbose_name = _("historique")
        verbose_name_plural = _("historique")
        constraints = [models.UniqueConstraint(fields=["dossier", "seq"], name="history_dossier_seq")]

    def __str__(self) -> str:
        return f"{self.dossier_id}#{self.seq} {self.action}"

    def compute_hash(self) -> str:
        content = canonical_json({
            "dossier": self.dossier_id, "seq": self.seq, "at": self.at.isoformat(), "user": self.username,
            "action": self.action, "from": self.from_state, "to": self.to_state,
            # Through JSON once, so the hash is the same before saving and after reading back.
            "data": json.loads(canonical_json(self.data)), "prev": self.prev_hash,
        })
        return hashlib.sha256(content.encode()).hexdigest()

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("History rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("History rows are append-only.")


class IdempotencyRecord(models.Model):
    """The first answer given to a transition request carrying an Idempotency-Key, replayed on retries."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "key"], name="idempotency_org_key")]
        verbose_name = _("réponse idempotente")
        verbose_name_plural = _("réponses idempotentes")


class Notification(models.Model):
    """An in-app notice to one member about a change on a dossier (mirrors what is e-mailed)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    history_entry = models.ForeignKey(HistoryEntry, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=30, default="transition")
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "history_entry"], name="notification_once_per_entry",
                                    condition=models.Q(history_entry__isnull=False)),
        ]


# The steps whose blockers wait for the client rather than the vendor (design, issue 16): `sign_va`, the next step of
# a deployed dossier (`reports.queries.WAITING_FOR_CLIENT_STATES`; a test keeps the two in step).
CLIENT_STEPS = ("sign_va",)


class Blocker(models.Model):
    """A blocking rule that currently refuses the dossier's next step; kept by services after every change.

    Stored as rows so lists, reports and digests can filter and count them in SQL on every database. Each row carries
    its dossier's organisation and the step it blocks (the dossier's next step when it was written: every change of
    state refreshes the rows), so the home page reads the first dossiers blocked by each rule, those waiting for the
    client left out, through one index instead of every blocked dossier of the organisation.
    """

    CLIENT_STEPS = CLIENT_STEPS

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="blockers")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)
    transition = models.CharField(max_length=40)
    rule = models.CharField(max_length=60)

    class Meta:
        verbose_name = _("blocage")
        verbose_name_plural = _("blocages")
        constraints = [models.UniqueConstraint(fields=["dossier", "rule"], name="blocker_dossier_rule")]
        indexes = [models.Index(fields=["rule", "dossier"], name="blocker_rule_dossier"),
                   # The home page's first dossiers per rule: a few rows of this index per rule.
                   models.Index(fields=["organisation", "rule", "dossier"], name="blocker_org_rule_vendor",
                                condition=~models.Q(transition__in=CLIENT_STEPS))]
