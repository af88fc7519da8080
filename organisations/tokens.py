"""API tokens a user manages: issue (the key is shown once), list and revoke their own, within one organisation."""
from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import QuerySet

from .models import ApiToken, Membership

MAX_TOKENS_PER_MEMBERSHIP = 50


class TooManyTokens(Exception):
    """The membership already holds the maximum number of tokens."""


def tokens_of(membership: Membership) -> QuerySet[ApiToken]:
    """The membership's own tokens, newest first (another user's token is never in it)."""
    return ApiToken.objects.filter(membership=membership).order_by("-created_at", "-id")


def issue_token(*, membership: Membership, name: str, scope: str, expires_on: date | None = None
                ) -> tuple[ApiToken, str]:
    """A new token and its key (returned once: only its SHA-256 is kept)."""
    with transaction.atomic():
        # The lock serialises two creations by the same member, so the cap holds.
        Membership.objects.select_for_update().filter(pk=membership.pk).first()
        if tokens_of(membership).count() >= MAX_TOKENS_PER_MEMBERSHIP:
            raise TooManyTokens()
        return ApiToken.issue(membership, name=name, scope=scope, expires_on=expires_on)


def revoke_token(*, membership: Membership, token_id: int) -> bool:
    """Delete one of the membership's tokens: its key answers 401 from the next request. False when not theirs."""
    deleted, _ = tokens_of(membership).filter(pk=token_id).delete()
    return bool(deleted)
