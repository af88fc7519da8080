"""Deadlines of DOMAIN.md §6 as the pages, the API, the calendar, the digests, the reminders and `deadline.due`
show them, read from the rows the writer keeps (`dossiers.deadlines`, where the kinds, their due dates and the
design choices behind them are defined): one query on an index that leads with the organisation.

- "Overdue" is judged on read (today moves); the information kinds (maintenance end) are listed until they end.
- `due_before` keeps deadlines due on or before that date (overdue ones included).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.deadlines import (  # noqa: F401 (the names the readers and the tests have always found here)
    AFTER_VA_STATES, ANS_NOTICE_DAYS, BEFORE_VA_STATES, COLUMNS, CORRECTION_FALLBACK_DAYS, ESMS_PREREQUISITES_DAYS,
    INFORMATION_KINDS, KINDS, MAINTENANCE_MONTHS, NOT_FILED_STATES, PORTABILITY_DAYS, REREFERENCING_MONTHS, Kind,
)
from dossiers.deadlines import rows as kept_rows
from organisations.models import Organisation


LABELS = {
    Kind.AVANCE_FILING: _("Date limite de dépôt de l'avance"),
    Kind.ESMS_PREREQUISITES: _("Prérequis ESMS avant la VA"),
    Kind.PENDING_VA: _("VA attendue après déploiement"),
    Kind.SOLDE_TO_FIX: _("Solde à corriger"),
    Kind.AVANCE_TO_FIX: _("Avance à corriger"),
    Kind.PORTABILITY: _("Demande de portabilité des données"),
    Kind.ANS_NOTICE: _("Informer l'ANS d'une modification affectant la conformité"),
    Kind.REREFERENCING: _("Nouveau référencement demandé par l'ANS"),
    Kind.MAINTENANCE_END: _("Fin de la maintenance (6 ans après la VA)"),
    Kind.RECOVERY: _("Remboursement de l'avance (ordre de recouvrement)"),
}

# Days before the due date on which a reminder goes out; weekly kinds are reminded every 7 days once due.
REMINDER_DAYS: dict[str, frozenset[int]] = {
    Kind.AVANCE_FILING: frozenset({30, 7, 1}),
    Kind.PENDING_VA: frozenset({7, 0}),
    Kind.SOLDE_TO_FIX: frozenset({3, 1}),
    Kind.AVANCE_TO_FIX: frozenset({3, 1}),
    Kind.PORTABILITY: frozenset({7, 1}),
    Kind.ANS_NOTICE: frozenset({7, 1}),
    Kind.REREFERENCING: frozenset({7, 1}),
    Kind.MAINTENANCE_END: frozenset({180, 30}),
}
WEEKLY_KINDS = frozenset({Kind.ESMS_PREREQUISITES, Kind.RECOVERY})
REMINDER_HORIZON_DAYS = max(max(days) for days in REMINDER_DAYS.values())


def deadline_queryset(organisation: Organisation, *, due_before: date | None = None, today: date | None = None,
                      kinds: Iterable[str] | None = None) -> QuerySet:
    """Every deadline of the organisation (of `kinds`, default all) as rows of `COLUMNS`, soonest first: one query
    on the kept rows."""
    return kept_rows(organisation, today=today or timezone.localdate(), due_before=due_before, kinds=kinds)


def _url(row: dict[str, Any]) -> str:
    if row["dl_dossier"] is not None:
        return reverse("api:dossier-detail", args=[row["dl_dossier"]])
    if row["dl_kind"] == Kind.PORTABILITY:
        return reverse("api:client-detail", args=[row["dl_client_id"]])
    return reverse("api:solution-detail", args=[row["dl_solution_id"]])


def as_deadline(row: dict[str, Any], *, today: date, now: datetime) -> dict[str, Any]:
    """A row of `deadline_queryset` as the deadline the API, the pages and the digest show."""
    kind, due_on, due_at = row["dl_kind"], row["dl_due"], row["dl_due_at"]
    if kind in INFORMATION_KINDS:
        overdue = False
    elif due_at is not None:
        overdue = due_at <= now
    else:
        overdue = due_on < today
    return {
        "kind": kind, "label": str(LABELS[kind]),
        "due": timezone.localtime(due_at) if due_at is not None else due_on,
        "overdue": overdue, "days_left": (due_on - today).days,
        "dossier": row["dl_dossier"], "reference": row["dl_reference"],
        "client_id": row["dl_client_id"], "client": row["dl_client"],
        "solution_id": row["dl_solution_id"], "solution": row["dl_solution"],
        "object_id": row["dl_object"], "url": _url(row),
        # What is still owed (a recovery order), else None.
        "amount": None if row["dl_amount"] is None else f"{row['dl_amount']:.2f}",
    }


def due_date(deadline: dict[str, Any]) -> date:
    """The day a deadline falls due (the avance's is set to the minute: its day in Europe/Paris)."""
    due = deadline["due"]
    return timezone.localtime(due).date() if hasattr(due, "hour") else due


def _moment(today: date | None) -> tuple[date, datetime]:
    if today is None:
        return timezone.localdate(), timezone.now()
    # As of the start of that day in Europe/Paris.
    return today, timezone.make_aware(datetime.combine(today, time.min))


def deadlines_for(organisation: Organisation, due_before: date | None = None, today: date | None = None,
                  kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The organisation's upcoming and overdue deadlines, soonest first (one query).

    `kinds=[Kind.MAINTENANCE_END]` is the report of maintenance coverage expiries.
    """
    today, now = _moment(today)
    return [as_deadline(row, today=today, now=now)
            for row in deadline_queryset(organisation, due_before=due_before, today=today, kinds=kinds)]


def is_reminder_day(deadline: dict[str, Any]) -> bool:
    """Whether a reminder for this deadline goes out today (D-30, D-7, D-1 for the avance; weekly for some)."""
    days_left = deadline["days_left"]
    if deadline["kind"] in WEEKLY_KINDS:
        return days_left <= 0 and days_left % 7 == 0
    return days_left in REMINDER_DAYS.get(deadline["kind"], frozenset())


def reminders_for(organisation: Organisation, today: date | None = None) -> list[dict[str, Any]]:
    """The deadlines to remind today (one query)."""
    today = today or timezone.localdate()
    upcoming = deadlines_for(organisation, due_before=today + timedelta(days=REMINDER_HORIZON_DAYS), today=today)
    return [deadline for deadline in upcoming if is_reminder_day(deadline)]
