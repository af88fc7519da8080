"""Audit of what the rules read: every change to a client or a solution, with who, when, before and after."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organisations.models import Organisation

from .parties import Client, Solution


class AuditEntry(models.Model):
    """One change to a client or a solution (DOMAIN.md §8), written by the service in the same transaction.

    `changes` is `[{"field": name, "before": value, "after": value}]` with JSON values (dates as ISO text,
    choices as codes); the pages turn them into labels and French dates.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("Création")
        UPDATED = "updated", _("Modification")
        PV_PILOTE_ADDED = "pv_pilote_added", _("PV pilote ajouté")
        PV_PILOTE_STATUS = "pv_pilote_status", _("Statut d'un PV pilote modifié")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_entries")
    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="audit_entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("le"), auto_now_add=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    changes = models.JSONField(_("changements"), default=list)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("modification enregistrée")
        verbose_name_plural = _("journal des modifications")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(client__isnull=False, solution__isnull=True)
                | models.Q(client__isnull=True, solution__isnull=False),
                name="audit_entry_one_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.client or self.solution} — {self.get_action_display()}"
