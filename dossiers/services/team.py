"""Writes of a team's work on its dossiers: whose dossier it is, notes, notifications read, what each member is told.

Each change of a dossier locks its row and appends one chained history row (so the webhooks hear of it through
`dossiers.events`, as `dossier.updated`); the person told gets an in-app notification, which their preferences
may hide or move to the daily digest (`dossiers.queries`).
"""
from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organisations.models import Membership
from segurtrack.errors import InvalidInput, NotPermitted

from ..models import Channel, Dossier, HistoryEntry, Notification, NotificationKind, NotificationPreference
from .common import append_history, require_role
from ..queries import notifications_of

NOTE_MAX_LENGTH = 2000
NOTE_EXCERPT = 120


def _locked(dossier_id: int) -> Dossier:
    return Dossier.objects.select_for_update().get(pk=dossier_id)


def _name(user: AbstractBaseUser | None) -> str:
    if user is None:
        return ""
    return (user.get_full_name() if hasattr(user, "get_full_name") else "") or user.get_username()


def _notify(dossier: Dossier, entry: HistoryEntry, *, user_id: int, kind: str, message: str) -> None:
    Notification.objects.create(user_id=user_id, organisation_id=dossier.organisation_id, dossier=dossier,
                                history_entry=entry, kind=kind, message=message[:500])


def _owner(organisation_id: int, owner_id: int | None) -> Membership | None:
    """The new owner: a manager or admin of the organisation, or nobody (None); else InvalidInput."""
    if owner_id is None:
        return None
    owner = Membership.objects.select_related("user").filter(pk=owner_id, organisation_id=organisation_id).first()
    if owner is None or not owner.can_act:
        raise InvalidInput({"owner": [_(
            "Choisissez un gestionnaire ou un administrateur de l'organisation comme responsable.")]})
    return owner


def assign_owner(dossier_id: int, *, by: AbstractBaseUser, owner_id: int | None) -> bool:
    """Make a member (or nobody) responsible for the dossier; False when they already were (no history row)."""
    with transaction.atomic():
        dossier = _locked(dossier_id)
        require_role(by, dossier.organisation_id)
        owner = _owner(dossier.organisation_id, owner_id)
        if dossier.owner_id == (owner.pk if owner else None):
            return False
        before = Membership.objects.select_related("user").filter(pk=dossier.owner_id).first() \
            if dossier.owner_id else None
        entry = append_history(dossier, user=by, action="assign_owner", from_state=dossier.state, save_head=False,
                               data={"from": _name(before.user) if before else "",
                                     "to": _name(owner.user) if owner else ""})
        dossier.owner = owner
        dossier.save(update_fields=["owner", "history_seq", "history_hash", "history_anchor", "updated_at"])
        if owner is not None and owner.user_id != by.pk:
            _notify(dossier, entry, user_id=owner.user_id, kind=NotificationKind.ASSIGNMENT, message=_(
                "%(ref)s vous est confié par %(user)s.") % {"ref": dossier.reference, "user": _name(by)})
    return True


def assign_owner_many(organisation_id: int, dossier_ids: Iterable[int], *, by: AbstractBaseUser,
                      owner_id: int | None) -> int:
    """Reassign several dossiers of the organisation, each in its own transaction; the number changed.

    The owner is checked once before any change, so a bad choice changes nothing.
    """
    require_role(by, organisation_id)
    ids = list(Dossier.objects.filter(organisation_id=organisation_id, pk__in=list(dossier_ids))
               .order_by("pk").values_list("pk", flat=True))
    _owner(organisation_id, owner_id)
    return sum(assign_owner(pk, by=by, owner_id=owner_id) for pk in ids)


def add_note(dossier_id: int, *, by: AbstractBaseUser, text: str) -> HistoryEntry:
    """A note on the dossier, kept in its history (who and when); its owner is told unless they wrote it."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput({"text": [_("Écrivez la note avant de l'enregistrer.")]})
    if len(text) > NOTE_MAX_LENGTH:
        raise InvalidInput({"text": [_("Une note compte %(max)d caractères au plus (%(n)d reçus).") % {
            "max": NOTE_MAX_LENGTH, "n": len(text)}]})
    with transaction.atomic():
        dossier = _locked(dossier_id)
        require_role(by, dossier.organisation_id)
        entry = append_history(dossier, user=by, action="note", from_state=dossier.state, data={"text": text})
        owner_user = Membership.objects.filter(pk=dossier.owner_id).values_list("user_id", flat=True).first() \
            if dossier.owner_id else None
        if owner_user is not None and owner_user != by.pk:
            excerpt = text if len(text) <= NOTE_EXCERPT else text[:NOTE_EXCERPT - 1] + "…"
            _notify(dossier, entry, user_id=owner_user, kind=NotificationKind.NOTE, message=_(
                "%(ref)s : note de %(user)s — %(text)s") % {"ref": dossier.reference, "user": _name(by),
                                                            "text": excerpt})
    return entry


def mark_read(notification: Notification, *, by: AbstractBaseUser) -> bool:
    """Mark one of the user's own notifications read (any role: it is their own data); False if it already was."""
    if notification.user_id != by.pk:
        raise NotPermitted(_("Cette notification ne vous est pas adressée."))
    now = timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    if changed:
        notification.read_at = now
    return bool(changed)


def set_notification_preferences(membership: Membership, *, by: AbstractBaseUser, channels: dict[str, str]) -> None:
    """Record, for each kind given, how the member is told; their own choice only. Nothing is saved on bad input."""
    if membership.user_id != by.pk:
        raise NotPermitted(_("Chacun choisit ses propres notifications."))
    errors = {kind: [_("Type de notification inconnu.")] for kind in channels if kind not in NotificationKind.values}
    errors.update({kind: [_("Choisissez « Dans l'application », « Dans le résumé quotidien » ou « Jamais ».")]
                   for kind, channel in channels.items() if kind not in errors and channel not in Channel.values})
    if errors:
        raise InvalidInput(errors)
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(membership=membership, kind=kind, channel=channel) for kind, channel in channels.items()],
        update_conflicts=True, unique_fields=["membership", "kind"], update_fields=["channel"])


def mark_all_read(membership: Membership, *, by: AbstractBaseUser) -> int:
    """Mark every unread notification the member sees in this organisation as read; how many were."""
    if membership.user_id != by.pk:
        raise NotPermitted(_("Cette notification ne vous est pas adressée."))
    return notifications_of(membership).filter(read_at__isnull=True).update(read_at=timezone.now())
