"""A member's secret calendar feed of the organisation's deadlines (only the key's SHA-256 is stored)."""
from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from organisations.models import Membership


def feed_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class CalendarFeed(models.Model):
    """One per membership: regenerating replaces the key (the old URL answers 404), revoking deletes the row."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="calendar_feed")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("créé le"), auto_now=True)

    class Meta:
        verbose_name = _("flux d'agenda")
        verbose_name_plural = _("flux d'agenda")

    def __str__(self) -> str:
        return f"{self.membership}"

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)
