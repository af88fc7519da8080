"""What the follow-up sent (digests, reminders), export jobs, and members' calendar feeds of the deadlines.

The tables were created by the dossiers app; the models moved here with their tables (`db_table`), see
migrations/0001.
"""
from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organisations.models import Membership, Organisation


def feed_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class CalendarFeed(models.Model):
    """One per membership: regenerating replaces the key (the old URL answers 404), revoking deletes the row."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="calendar_feed")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("créé le"), auto_now=True)

    class Meta:
        db_table = "dossiers_calendarfeed"
        verbose_name = _("flux d'agenda")
        verbose_name_plural = _("flux d'agenda")

    def __str__(self) -> str:
        return f"{self.membership}"

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)


class DigestSent(models.Model):
    """One row per member, organisation and day: the daily digest is sent at most once (the unique row decides)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dossiers_digestsent"  # created by the dossiers app, kept when the model moved here
        verbose_name = _("résumé quotidien envoyé")
        verbose_name_plural = _("résumés quotidiens envoyés")
        constraints = [models.UniqueConstraint(fields=["user", "organisation", "day"], name="digest_once_per_day")]


class ReminderSent(models.Model):
    """One row per member, organisation and day: the deadline reminders of a day are sent at most once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dossiers_remindersent"
        verbose_name = _("rappel d'échéances envoyé")
        verbose_name_plural = _("rappels d'échéances envoyés")
        constraints = [models.UniqueConstraint(fields=["user", "organisation", "day"], name="reminder_once_per_day")]


def export_path(instance: "ExportJob", filename: str) -> str:
    return f"exports/org{instance.organisation_id}/{filename}"


class ExportJob(models.Model):
    """An export written by a task, with its progress; the file is served only by the org-checked download."""

    class Kind(models.TextChoices):
        PENDING_VA = "pending_va", _("VA en attente")
        DOSSIERS = "dossiers", _("Dossiers")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        QUEUED = "queued", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Échec")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices, default=Format.CSV)
    params = models.JSONField(_("filtres"), default=dict, blank=True)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    row_count = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_path, max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "dossiers_exportjob"
        ordering = ["-created_at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.format}) — {self.get_status_display()}"
