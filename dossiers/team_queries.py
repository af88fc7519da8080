"""Reads of a team's work: owners, the organisation's activity, each member's notifications, a client's dossiers.

Each function answers in a fixed number of queries, whatever the number of dossiers, history rows or notifications.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from organisations.models import Membership, Role

from .identifiers import finess_department
from .models import Channel, Client, Dossier, HistoryEntry, Notification, NotificationKind, NotificationPreference
from .models.team import DEFAULT_CHANNEL
from .rules import money

DIGEST_NOTICES_SHOWN = 50

# --- owners ------------------------------------------------------------------------------------------------------

# The values of the list's owner filter besides a membership id.
MINE, EVERYONE, NOBODY = "me", "all", "none"


def members_of(organisation_id: int, *, assignable: bool = False) -> list[Membership]:
    """The organisation's members by name; `assignable`: only those who may be responsible for a dossier, its
    managers and admins, each annotated `owns` (whether they own a dossier) in the same query."""
    queryset = Membership.objects.filter(organisation_id=organisation_id)
    if assignable:
        queryset = queryset.filter(role__in=[Role.MANAGER, Role.ADMIN]).annotate(
            owns=Exists(Dossier.objects.filter(owner_id=OuterRef("pk"))))
    return list(queryset.select_related("user").order_by("user__last_name", "user__first_name", "user__username"))


def member_name(membership: Membership) -> str:
    user = membership.user
    return user.get_full_name() or user.get_username()


def filter_by_owner(queryset: QuerySet[Dossier], owner: str, membership: Membership) -> QuerySet[Dossier]:
    """`owner`: MINE, EVERYONE, NOBODY or a membership id (already checked to be one of the organisation's)."""
    queryset = queryset.select_related("owner__user")
    if owner == MINE:
        return queryset.filter(owner=membership)
    if owner == NOBODY:
        return queryset.filter(owner__isnull=True)
    if owner and owner != EVERYONE:
        return queryset.filter(owner_id=int(owner))
    return queryset


# --- activity ----------------------------------------------------------------------------------------------------

def activity(organisation_id: int, *, user_id: int | None = None, reference: str = "", start: date | None = None,
             end: date | None = None) -> QuerySet[HistoryEntry]:
    """Who did what: the organisation's history rows, newest first, by person, dossier reference and day (Paris)."""
    queryset = HistoryEntry.objects.filter(dossier__organisation_id=organisation_id).select_related("dossier")
    if user_id:
        queryset = queryset.filter(user_id=user_id)
    if reference:
        queryset = queryset.filter(dossier__reference__icontains=reference.strip())
    if start:
        queryset = queryset.filter(at__gte=_day_start(start))
    if end:
        queryset = queryset.filter(at__lt=_day_start(end + timedelta(days=1)))
    return queryset.order_by("-at", "-id")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- notifications -----------------------------------------------------------------------------------------------

def channels_of(membership: Membership) -> dict[str, str]:
    """The member's channel for every kind, defaults included (one query)."""
    chosen = dict(NotificationPreference.objects.filter(membership=membership).values_list("kind", "channel"))
    return {kind: chosen.get(kind, DEFAULT_CHANNEL) for kind in NotificationKind.values}


def channel_for(membership: Membership, kind: str) -> str:
    """How the member wants to be told of `kind`: Channel.IN_APP (the default), DIGEST or NONE (one query).

    The daily digest lists a member's notices of the kinds whose channel is DIGEST, and only those.
    """
    chosen = NotificationPreference.objects.filter(membership=membership, kind=kind).values_list(
        "channel", flat=True).first()
    return chosen or DEFAULT_CHANNEL


def _kinds_not_in(membership: Membership, channel: str) -> QuerySet:
    return NotificationPreference.objects.filter(membership=membership).exclude(channel=channel).values("kind")


def notifications_of(membership: Membership) -> QuerySet[Notification]:
    """The member's notifications in the application: since they joined the organisation, of the kinds they
    want told there (one query, the preferences read in a subquery)."""
    return Notification.objects.filter(
        user_id=membership.user_id, organisation_id=membership.organisation_id, created_at__gte=membership.created_at,
    ).exclude(kind__in=_kinds_not_in(membership, Channel.IN_APP))


def unread_count(membership: Membership) -> int:
    return notifications_of(membership).filter(read_at__isnull=True).count()


def digest_notices(membership: Membership, day: date) -> list[str]:
    """The member's notices of the day before `day` of the kinds they chose to read in the digest (one query)."""
    digest_kinds = NotificationPreference.objects.filter(membership=membership, channel=Channel.DIGEST).values("kind")
    return list(Notification.objects.filter(
        user_id=membership.user_id, organisation_id=membership.organisation_id, kind__in=digest_kinds,
        created_at__gte=max(_day_start(day - timedelta(days=1)), membership.created_at),
        created_at__lt=_day_start(day),
    ).order_by("created_at", "id").values_list("message", flat=True)[:DIGEST_NOTICES_SHOWN])


def grouped_by_dossier(notifications: list[Notification]) -> list[dict]:
    """A page of notifications grouped by dossier, the group of the most recent first; those about no dossier
    (the digest) form one group of their own."""
    groups: dict[int | None, dict] = {}
    for notification in notifications:
        group = groups.setdefault(notification.dossier_id, {"dossier": notification.dossier, "notifications": []})
        group["notifications"].append(notification)
    return list(groups.values())


# --- clients -----------------------------------------------------------------------------------------------------

def client_page(client: Client) -> dict[str, Any]:
    """What the client's page adds to its form: its dossiers, newest first, with their state and declared amount in
    force (one query), and whether its FINESS géographique names another department than its own."""
    dossiers = [] if client.pk is None else [
        {"pk": d.pk, "reference": d.reference, "state": d.state, "state_label": d.get_state_display(),
         "dispositif": d.dispositif.code, "amount": money(d.declared_amount)}
        for d in Dossier.objects.filter(client=client, organisation_id=client.organisation_id)
        .select_related("dispositif").only("id", "reference", "state", "declared_amount", "dispositif__code")
        .order_by("-id")]
    return {"client_dossiers": dossiers, "finess_department": finess_department(client.finess_geo) or "",
            "finess_mismatch": client.finess_department_mismatch}
