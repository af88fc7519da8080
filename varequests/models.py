"""A VA request: a link sent to the client's signatory, the e-mails it caused, and what it became."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from dossiers.models import Document, Dossier, HistoryEntry
from organisations.models import Organisation

TOKEN_SALT = "varequests.token"


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class VaRequestQuerySet(models.QuerySet):
    def open(self, now=None) -> "VaRequestQuerySet":
        """Sent or opened, not yet expired: the signatory may still return the VA."""
        return self.filter(status__in=VaRequest.OPEN_STATUSES, expires_at__gt=now or timezone.now())


class VaRequest(models.Model):
    """One signatory asked to return one dossier's signed VA through `/va/<token>/`.

    The token is never stored: it is an HMAC of a random nonce under SECRET_KEY (so the e-mail task, which takes
    only the request's id, can rebuild it), and only its SHA-256 is stored and looked up. The database alone gives
    no usable link. `expired` is not stored: an open request past `expires_at` is expired.
    """

    class Status(models.TextChoices):
        SENT = "sent", _("Envoyée")
        OPENED = "opened", _("Ouverte")
        RETURNED = "returned", _("Retournée")
        REVOKED = "revoked", _("Révoquée")
        EXPIRED = "expired", _("Expirée")

    OPEN_STATUSES = (Status.SENT, Status.OPENED)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="va_requests")
    email = models.EmailField(_("e-mail du signataire"))
    name = models.CharField(_("nom du signataire"), max_length=200)
    message = models.TextField(_("message"), blank=True, default="", max_length=2000)
    nonce = models.CharField(max_length=64, editable=False)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.SENT)
    expires_at = models.DateTimeField(_("expire le"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("demandée le"), default=timezone.now)
    opened_at = models.DateTimeField(_("ouverte le"), null=True, blank=True)
    returned_at = models.DateTimeField(_("retournée le"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoquée le"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    history_entry = models.ForeignKey(HistoryEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = VaRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("demande de VA")
        verbose_name_plural = _("demandes de VA")
        indexes = [models.Index(fields=["dossier", "status"], name="varequest_dossier_status"),
                   models.Index(fields=["status", "expires_at"], name="varequest_status_expiry")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(status="expired"), name="varequest_expired_not_stored"),
            models.CheckConstraint(condition=~models.Q(status="returned") | models.Q(returned_at__isnull=False),
                                   name="varequest_returned_has_date"),
        ]

    def __str__(self) -> str:
        return f"VA {self.dossier_id} → {self.email} ({self.current_status})"

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_hex(32)

    @property
    def token(self) -> str:
        return salted_hmac(TOKEN_SALT, self.nonce, algorithm="sha256").hexdigest()

    def set_token(self) -> str:
        self.nonce = self.new_nonce()
        self.token_digest = digest_of(self.token)
        return self.token

    def matches(self, token: str) -> bool:
        return hmac.compare_digest(self.token_digest, digest_of(token))

    @property
    def current_status(self) -> str:
        if self.status in self.OPEN_STATUSES and self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.status

    def get_current_status_display(self) -> str:
        return str(self.Status(self.current_status).label)

    @property
    def is_open(self) -> bool:
        return self.current_status in self.OPEN_STATUSES


class VaEmail(models.Model):
    """One e-mail of a request, sent once: the first (`request`), then the reminders of day 7 and day 14."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("Demande")
        REMINDER_7 = "reminder_7", _("Relance à 7 jours")
        REMINDER_14 = "reminder_14", _("Relance à 14 jours")

    va_request = models.ForeignKey(VaRequest, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "id"]
        verbose_name = _("e-mail de demande de VA")
        verbose_name_plural = _("e-mails de demande de VA")
        constraints = [models.UniqueConstraint(fields=["va_request", "kind"], name="vaemail_once_per_kind")]
