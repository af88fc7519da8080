"""Deadlines of DOMAIN.md §6 as the pages, the API, the calendar, the digests, the reminders and `deadline.due`
show them, read from the rows the writer keeps (`dossiers.deadlines`, where the kinds, their due dates and the
design choices behind them are defined): one query on an index that leads with the organisation.

- "Overdue" is judged on read (today moves); the information kinds (maintenance end) are listed until they end.
- `due_before` keeps deadlines due on or before that date (overdue ones included).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.deadlines import (  # noqa: F401 (the names the readers and the tests have always found here)
    AFTER_VA_STATES, ANS_NOTICE_DAYS, BEFORE_VA_STATES, COLUMNS, CORRECTION_FALLBACK_DAYS, ESMS_PREREQUISITES_DAYS,
    INFORMATION_KINDS, KINDS, MAINTENANCE_MONTHS, NOT_FILED_STATES, PORTABILITY_DAYS, REREFERENCING_MONTHS, Kind,
)
from dossiers.deadlines import KeptRows
from dossiers.deadlines import rows as kept_rows
from organisations.models import Organisation
from segurtrack.reversing import url_maker


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


class Shaper:
    """Turns the rows of `deadline_queryset` (tuples of `COLUMNS`) into the deadlines the API, the pages and the
    digest show, as of `today` and `now`. Built once per read: the labels (in the active language) and the URL
    prefixes are worked out the first time a row needs them, not once per row."""

    __slots__ = ("today", "now", "timezone", "labels", "urls", "with_url")

    def __init__(self, *, today: date, now: datetime, with_url: bool = True):
        """`with_url=False`: leave out each deadline's API address (`url` is None), for a reader that never shows
        it (the /echeances/ page links to the pages, not to the API)."""
        self.today, self.now, self.timezone = today, now, timezone.get_current_timezone()
        self.labels: dict[str, str] = {}
        self.urls: dict[str, Callable[[int], str]] = {}
        self.with_url = with_url

    def url(self, name: str, pk: int) -> str:
        make = self.urls.get(name)
        if make is None:
            make = self.urls[name] = url_maker(name)
        return make(pk)

    def __call__(self, row: Sequence[Any]) -> dict[str, Any]:
        kind, due_on, due_at, dossier, reference, client_id, client, solution_id, solution, object_id, amount = row
        label = self.labels.get(kind)
        if label is None:
            label = self.labels[kind] = str(LABELS[kind])
        if not self.with_url:
            url = None
        elif dossier is not None:
            url = self.url("api:dossier-detail", dossier)
        elif kind == Kind.PORTABILITY:
            url = self.url("api:client-detail", client_id)
        else:
            url = self.url("api:solution-detail", solution_id)
        if due_at is None:
            due, overdue = due_on, kind not in INFORMATION_KINDS and due_on < self.today
        else:
            due, overdue = due_at.astimezone(self.timezone), kind not in INFORMATION_KINDS and due_at <= self.now
        return {
            "kind": kind, "label": label, "due": due, "overdue": overdue, "days_left": (due_on - self.today).days,
            "dossier": dossier, "reference": reference, "client_id": client_id, "client": client,
            "solution_id": solution_id, "solution": solution, "object_id": object_id, "url": url,
            # What is still owed (a recovery order), else None.
            "amount": None if amount is None else f"{amount:.2f}",
        }


def as_deadline(row: dict[str, Any], *, today: date, now: datetime) -> dict[str, Any]:
    """A row of `deadline_queryset` (a dict of `COLUMNS`) as the deadline the API, the pages and the digest show.
    For many rows, one `Shaper` shapes them for less."""
    return Shaper(today=today, now=now)(tuple(row[name] for name in COLUMNS))


class OrmRows:
    """A `deadline_queryset` read as `KeptRows` reads (count, and rows as tuples of `COLUMNS`), through the ORM."""

    def __init__(self, queryset: QuerySet):
        self.queryset = queryset

    def count(self) -> int:
        return self.queryset.count()

    def fetch(self, offset: int = 0, limit: int | None = None) -> list[tuple]:
        rows = self.queryset[offset:None if limit is None else offset + limit]
        return [tuple(row[name] for name in COLUMNS) for row in rows]


def kept_read(organisation: Organisation | int, *, today: date, due_before: date | None = None,
              kinds: Iterable[str] | None = None) -> KeptRows | OrmRows:
    """The organisation's kept deadlines to count and to fetch: the statements written out on PostgreSQL (faster to
    build than to run), the ORM's elsewhere (its converters give SQLite's values their types)."""
    if connection.vendor == "postgresql":
        return KeptRows(organisation, today=today, due_before=due_before, kinds=kinds)
    return OrmRows(deadline_queryset(organisation, today=today, due_before=due_before, kinds=kinds))


class ShapedRows:
    """The deadlines of a `kept_read` as a paginator sees them: their count, and each slice fetched at once and
    shaped (`Shaper`)."""

    def __init__(self, read: KeptRows | OrmRows, shape: Shaper):
        self.read, self.shape = read, shape

    def count(self) -> int:
        return self.read.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("ShapedRows are read by slices (a page)")
        start = index.start or 0
        limit = None if index.stop is None else max(index.stop - start, 0)
        return [self.shape(row) for row in self.read.fetch(start, limit)]


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
    shape = Shaper(today=today, now=now)
    return [shape(row) for row in kept_read(organisation, today=today, due_before=due_before, kinds=kinds).fetch()]


def is_reminder_day(deadline: dict[str, Any]) -> bool:
    """Whether a reminder for this deadline goes out today (D-30, D-7, D-1 for the avance; weekly for some)."""
    days_left = deadline["days_left"]
    if deadline["kind"] in WEEKLY_KINDS:
        return days_left <= 0 and days_left % 7 == 0
    return days_left in REMINDER_DAYS.get(deadline["kind"], frozenset())


def reminders_for(organisation: Organisation, today: date | None = None) -> list[dict[str, Any]]:
    """The deadlines to remind today (one query). On PostgreSQL the query reads the reminder days' rows alone
    (`_reminder_days`), not every deadline of the horizon: each member's daily reminder reads it."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=REMINDER_HORIZON_DAYS)
    if connection.vendor != "postgresql":
        upcoming = deadlines_for(organisation, due_before=horizon, today=today)
    else:
        today, now = _moment(today)
        shape = Shaper(today=today, now=now)
        upcoming = [shape(row) for row in KeptRows(organisation, today=today, due_before=horizon,
                                                   condition=_reminder_days(today)).fetch()]
    return [deadline for deadline in upcoming if is_reminder_day(deadline)]


def _reminder_days(today: date) -> tuple[str, list]:
    """`is_reminder_day` in SQL on the kept rows: the due dates each kind is reminded on, and the weekly kinds' due
    dates a multiple of 7 days ago."""
    parts, params = [], []
    for kind, days in sorted(REMINDER_DAYS.items()):
        parts.append(f"(kind = %s AND due_on IN ({', '.join(['%s'] * len(days))}))")
        params += [kind, *(today + timedelta(days=n) for n in sorted(days))]
    weekly = sorted(WEEKLY_KINDS)
    parts.append(f"(kind IN ({', '.join(['%s'] * len(weekly))}) AND due_on <= %s AND MOD(%s - due_on, 7) = 0)")
    params += [*weekly, today, today]
    return " OR ".join(parts), params
