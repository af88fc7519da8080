"""What every service shares: the role check, the refusal and outcome types, the history row, model validation."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from organisations.models import ROLE_RANK, Membership, Role
from segurtrack.errors import InvalidInput, NotPermitted, ServiceError

from .. import anchors, events, rules
from ..models import Dossier, HistoryEntry


class RulesFailed(ServiceError):
    """A step refused: every blocking failure, and the warnings that came with them (the API's 409 body)."""

    def __init__(self, failures: list[rules.Failure], warnings: list[rules.Failure] | None = None):
        super().__init__(", ".join(f.rule for f in failures))
        self.failures = failures
        self.warnings = warnings or []


@dataclass
class Outcome:
    dossier: Dossier
    warnings: list[rules.Failure] = field(default_factory=list)
    history: HistoryEntry | None = None


def require_role(user: AbstractBaseUser, organisation_id: int, role: str = Role.MANAGER) -> None:
    """Refuse unless the user holds at least `role` in the organisation (superusers act everywhere)."""
    if getattr(user, "is_superuser", False):
        return
    membership = Membership.objects.filter(user_id=user.pk, organisation_id=organisation_id).only("role").first()
    require_held_role(user, None if membership is None else membership.role, role)


def require_held_role(user: AbstractBaseUser, held: str | None, role: str = Role.MANAGER) -> None:
    """`require_role` when the caller has already read the user's role in the organisation (`held`, None when not
    a member): the transitions read it with the dossier's lock, in the same statement."""
    if getattr(user, "is_superuser", False):
        return
    if held is None or ROLE_RANK[Role(held)] < ROLE_RANK[Role(role)]:
        raise NotPermitted(_("Votre rôle ne permet pas cette action."))


def append_history(dossier: Dossier, *, user: AbstractBaseUser | None, action: str, from_state: str = "",
                   to_state: str = "", data: dict[str, Any] | None = None, save_head: bool = True) -> HistoryEntry:
    """Append one chained row; the caller holds the dossier's row lock.

    The chain's head is stored on the dossier: at once, or with the caller's own save when `save_head` is False.
    """
    entry = next_history_entry(dossier, user=user, action=action, from_state=from_state, to_state=to_state,
                               data=data)
    entry.save()
    history_saved(entry)
    if save_head:
        Dossier.objects.filter(pk=dossier.pk).update(history_seq=entry.seq, history_hash=entry.hash,
                                                     history_anchor=dossier.history_anchor)
    return entry


def next_history_entry(dossier: Dossier, *, user: AbstractBaseUser | None, action: str, from_state: str = "",
                       to_state: str = "", data: dict[str, Any] | None = None) -> HistoryEntry:
    """The dossier's next chained row, hashed but not yet saved, and the dossier's chain head moved to it (in
    memory: the caller saves both, then calls `history_saved`)."""
    entry = HistoryEntry(
        dossier=dossier, seq=dossier.history_seq + 1, at=timezone.now(), user=user,
        username=user.get_username() if user is not None else "", action=action, from_state=from_state,
        to_state=to_state or from_state, data=data or {}, prev_hash=dossier.history_hash,
    )
    entry.hash = entry.compute_hash()
    dossier.history_seq, dossier.history_hash = entry.seq, entry.hash
    dossier.history_anchor = anchors.anchor(dossier.pk, entry.seq, entry.hash)
    return entry


def history_saved(entry: HistoryEntry) -> None:
    """After the row is written: the listeners (webhooks) write their rows in this transaction."""
    events.history_appended(entry)


def full_clean(instance: models.Model, exclude: list[str] | None = None) -> None:
    """The model's own validation, its errors as InvalidInput."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        raise InvalidInput({name: [str(m) for m in messages] for name, messages in error.message_dict.items()})
