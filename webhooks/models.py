"""Webhook endpoints of an organisation, the deliveries made to them, and the deadlines already announced."""
from __future__ import annotations

import base64
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.models import Dossier, HistoryEntry
from organisations.models import Organisation


class Event(models.TextChoices):
    DOSSIER_CREATED = "dossier.created", _("Dossier créé")
    DOSSIER_TRANSITIONED = "dossier.transitioned", _("Dossier passé à une nouvelle étape")
    DOSSIER_DOCUMENT_ADDED = "dossier.document_added", _("Document ajouté")
    DOSSIER_AMENDMENT_CHANGED = "dossier.amendment_changed", _("Avenant déposé ou modifié")
    DOSSIER_UPDATED = "dossier.updated", _("Dossier modifié")
    DEADLINE_DUE = "deadline.due", _("Échéance arrivée")


ALL_EVENTS = "*"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Endpoint(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(_("adresse"), max_length=500)
    # Event types, or ["*"] for all of them.
    events = models.JSONField(_("événements"), default=list)
    active = models.BooleanField(_("actif"), default=True)
    # Kept in clear: it signs every delivery. Shown to the admin only at creation and rotation.
    secret = models.CharField(max_length=100, default=new_secret)
    deactivated_reason = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("point de réception de webhooks")
        verbose_name_plural = _("points de réception de webhooks")
        indexes = [models.Index(fields=["organisation"], name="webhook_endpoint_active",
                                condition=models.Q(active=True))]

    def __str__(self) -> str:
        return self.url

    @property
    def event_labels(self) -> list[str]:
        """The events as the pages show them (labels, never codes)."""
        if ALL_EVENTS in self.events:
            return [str(_("Tous les événements"))]
        return [str(Event(e).label) for e in self.events if e in Event.values]

    def wants(self, event: str) -> bool:
        return ALL_EVENTS in self.events or event in self.events


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        DELIVERED = "delivered", _("Livrée")
        FAILED = "failed", _("Échouée")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("événement"), max_length=40, choices=Event.choices)
    # The Standard Webhooks `webhook-id`: the same on every attempt and redelivery, so receivers can deduplicate.
    message_id = models.CharField(max_length=40, default=new_message_id, editable=False)
    dossier = models.ForeignKey(Dossier, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    history_entry = models.ForeignKey(HistoryEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # What `deadline.due` announces (the deadline as the API lists it); empty for dossier events.
    deadline = models.JSONField(null=True, blank=True)
    # The body, frozen at the first attempt so every retry and redelivery sends the same signed bytes.
    payload = models.TextField(blank=True, default="")
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("dernier code HTTP"), null=True, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True, default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("livraison de webhook")
        verbose_name_plural = _("livraisons de webhooks")
        indexes = [
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_log"),
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_pending",
                         condition=models.Q(status="pending")),
            models.Index(fields=["endpoint", "dossier", "id"], name="webhook_delivery_queue",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint} ({self.status})"



class DeadlineAnnounced(models.Model):
    """One row per deadline that fell due and was announced: `deadline.due` goes out once."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120)
    announced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "key"], name="webhook_deadline_once")]
