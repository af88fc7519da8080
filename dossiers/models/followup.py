"""Follow-up records: client and solution deadlines (DOMAIN.md §6) and the task outbox.

What was sent and the export jobs are `reports.models`."""
from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .parties import Client, Solution


class PortabilityRequest(models.Model):
    """A client's formal request for its data (SEED-1 "Dans le cadre du financement « SONS »"): 15 calendar days."""

    class Channel(models.TextChoices):
        WRITTEN = "written", _("Par écrit")
        CUSTOMER_SPACE = "customer_space", _("Espace client")
        IN_SOFTWARE = "in_software", _("Dans le logiciel")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="portability_requests")
    requested_on = models.DateField(_("demandée le"))
    channel = models.CharField(_("canal"), max_length=20, choices=Channel.choices, default=Channel.WRITTEN)
    fulfilled_on = models.DateField(_("satisfaite le"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-requested_on", "-id"]
        verbose_name = _("demande de portabilité")
        verbose_name_plural = _("demandes de portabilité")
        indexes = [models.Index(fields=["client", "fulfilled_on"], name="portability_client_open")]

    def __str__(self) -> str:
        return f"{self.client} — {self.requested_on:%d/%m/%Y}"

    @property
    def due_on(self) -> date | None:
        """15 calendar days after the request (the deadlines query computes the same in SQL)."""
        return self.requested_on + timedelta(days=15) if self.requested_on else None


class SolutionChange(models.Model):
    """A change to a referenced solution (SEED-1 "Si la modification apportée").

    A change affecting conformity is notified to the ANS within 15 days; when the ANS then asks for a new
    referencing, it is filed within one month of that request.
    """

    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, related_name="changes")
    changed_on = models.DateField(_("modifiée le"))
    description = models.TextField(_("description"))
    affects_conformity = models.BooleanField(_("affecte la conformité"), default=False)
    ans_notified_on = models.DateField(_("ANS informée le"), null=True, blank=True)
    rereferencing_requested_on = models.DateField(_("nouveau référencement demandé le"), null=True, blank=True)
    rereferencing_filed_on = models.DateField(_("nouveau référencement déposé le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_on", "-id"]
        verbose_name = _("modification de solution")
        verbose_name_plural = _("modifications de solution")

    def __str__(self) -> str:
        return f"{self.solution} — {self.changed_on:%d/%m/%Y}"

    @property
    def ans_notice_due_on(self) -> date | None:
        """A change affecting conformity: the ANS is informed within 15 days."""
        return self.changed_on + timedelta(days=15) if self.affects_conformity and self.changed_on else None

    @property
    def rereferencing_due_on(self) -> date | None:
        """The ANS asked for a new referencing: filed within one month of its request (clamped to month ends)."""
        if self.rereferencing_requested_on is None:
            return None
        return self.rereferencing_requested_on + relativedelta(months=1)


class OutboxMessage(models.Model):
    """A task to publish, written in the transaction that made it necessary (see `dossiers.outbox`).

    Published right after the commit when the broker answers (`sent_at`); marked done (`done_at`) only once the
    task's effect has committed. Until then `drain_outbox` publishes it again when `available_at` has passed.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["available_at", "id"], name="outbox_waiting",
                                condition=models.Q(done_at__isnull=True))]

    def __str__(self) -> str:
        status = "fait" if self.done_at else "publié" if self.sent_at else "en attente"
        return f"{self.task_name}{tuple(self.args)} ({status})"


def export_path(instance, filename: str) -> str:
    """Where an export job's file goes. Migration 0004 names this function; the model is now
    `reports.models.ExportJob`, whose own `export_path` gives the same path."""
    return f"exports/org{instance.organisation_id}/{filename}"
