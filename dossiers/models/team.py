"""What each member chooses to be told, per kind of notification (dossiers.queries.channel_for reads it)."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from organisations.models import Membership


class NotificationKind(models.TextChoices):
    """The kinds of `Notification.kind` a member may choose about (the daily digest itself is a channel)."""

    TRANSITION = "transition", _("Étapes franchies par les dossiers")
    ASSIGNMENT = "assignment", _("Dossiers qui vous sont confiés")
    NOTE = "note", _("Notes sur vos dossiers")
    DEADLINE_REMINDER = "deadline_reminder", _("Rappels d'échéances")
    VA_RETURNED = "va_returned", _("VA retournées par les signataires")


class Channel(models.TextChoices):
    IN_APP = "in_app", _("Dans l'application")
    DIGEST = "digest", _("Dans le résumé quotidien (e-mail)")
    NONE = "none", _("Jamais")


DEFAULT_CHANNEL = Channel.IN_APP


class NotificationPreference(models.Model):
    """One member's channel for one kind; no row means the default, in the application."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(_("type de notification"), max_length=30, choices=NotificationKind.choices)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices, default=DEFAULT_CHANNEL)

    class Meta:
        verbose_name = _("préférence de notification")
        verbose_name_plural = _("préférences de notification")
        constraints = [models.UniqueConstraint(fields=["membership", "kind"], name="notification_preference_once")]

    def __str__(self) -> str:
        return f"{self.membership} : {self.kind} → {self.channel}"
