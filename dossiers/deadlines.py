"""Deadlines of DOMAIN.md §6: computed from the data in one SQL statement (a UNION ALL of one query per kind), and
kept by the one writer in `OpenDeadline` so the readers (reports.deadlines) never compute them.

Design choices (DOMAIN.md leaves them open):
- ESMS VA prerequisites are due one week after the BDC is signed ("as soon as possible"), then reminded weekly
  until the client's three prerequisites are complete or the VA is signed.
- Avance or solde to fix: CORRECTION_BUSINESS_DAYS jours ouvrés after the ASP's request, in the client's department
  (DOMAIN.md §8), recorded on the dossier by the transition; a dossier brought in without it (an import, older
  data) falls back to 14 calendar days. Pending VA: deployed_on + the organisation's delay (default 30).
- The avance filing deadline is also reminded for a dossier the ASP sent back for correction (`avance_to_fix`).
- Recovery: due from the day the recovery order is issued, listed (overdue) with the amount still owed until the
  repayments reach the avance paid (DOMAIN.md §8).
- Maintenance coverage (6 years after the VA) is information: listed until it ends, never overdue, and only for
  a dossier with a maintenance contract (SEED-1: the obligations depend on one).

Kept rows hold due dates only: "overdue" and the information kinds already past depend on today, judged on read.
The writers call `keep` with the dossiers, clients or solutions whose deadlines may have changed, in the change's
transaction: it replaces their rows with the recomputed ones (one statement on PostgreSQL). `rebuild` (the
`rebuild_counters` command, and every bulk loader through `counters.rebuild`) replaces an organisation's rows;
`recompute` and `kept` answer the same rows from the data and from the table, for `--check` and the tests.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import NotSupportedError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from organisations.models import Organisation
from segurtrack import prepared

from .deadline_kinds import (  # noqa: F401 (the computed side, used from here by the readers and the tests)
    AFTER_VA_STATES, ANS_NOTICE_DAYS, BEFORE_VA_STATES, COLUMNS, CORRECTION_FALLBACK_DAYS, ESMS_PREREQUISITES_DAYS,
    INFORMATION_KINDS, KEPT_COLUMNS, KINDS, MAINTENANCE_MONTHS, NOT_FILED_STATES, ORDER, PORTABILITY_DAYS,
    REREFERENCING_MONTHS, Kind, _any_of, live, of_organisations,
)
from .models import Client, Dossier, OpenDeadline, Solution


def recompute(organisation: Organisation | int, *, today: date | None = None) -> list[tuple]:
    """The organisation's deadlines computed from the data, as sorted tuples of `COLUMNS` (one query); with `today`,
    without the information kinds already past."""
    rows = of_organisations([organisation_id(organisation)])
    found = [tuple(row[name] for name in COLUMNS) for row in rows]
    if today is not None:
        found = [row for row in found if row[0] not in INFORMATION_KINDS or row[1] >= today]
    return sorted(found, key=_sort_key)


def kept(organisation: Organisation | int) -> list[tuple]:
    """The same rows as `recompute`, read from the kept table."""
    rows = OpenDeadline.objects.filter(organisation_id=organisation_id(organisation)).values_list(
        *KEPT_COLUMNS.values())
    return sorted((tuple(row) for row in rows), key=_sort_key)


def _sort_key(row: tuple) -> tuple:
    return tuple((value is None, value) for value in row)


def organisation_id(organisation: Organisation | int) -> int:
    return organisation if isinstance(organisation, int) else organisation.pk


def organisation_ids(scope: Organisation | int | Iterable[Organisation | int] | None) -> list[int] | None:
    """The ids a rebuild covers: one organisation, several, or (None) every one. `counters.rebuild` shares it."""
    if scope is None:
        return None
    if isinstance(scope, (int, Organisation)):
        return [organisation_id(scope)]
    return [organisation_id(o) for o in scope]


# --- kept by the writers ------------------------------------------------------------------------------------------

def keep(*, dossier_ids: Iterable[int] = (), client_ids: Iterable[int] = (), solution_ids: Iterable[int] = (),
         requests_of: Iterable[int] = (), changes_of: Iterable[int] = ()) -> None:
    """Replace the kept deadlines of these dossiers, clients (their dossiers' and portability requests') and
    solutions (their dossiers' and changes'), or only of the portability requests of `requests_of` (client ids) and
    the changes of `changes_of` (solution ids), with the recomputed ones, in the caller's transaction: one statement
    on PostgreSQL, two elsewhere, none for an empty scope."""
    dossier_ids, client_ids, solution_ids = sorted(set(dossier_ids)), sorted(set(client_ids)), sorted(set(solution_ids))
    requests_of, changes_of = sorted(set(requests_of) | set(client_ids)), sorted(set(changes_of) | set(solution_ids))
    scope = (dossier_ids, client_ids, solution_ids, requests_of, changes_of)
    if not any(scope):
        return
    _lock(client_ids, solution_ids, sorted(set(requests_of) - set(client_ids)),
          sorted(set(changes_of) - set(solution_ids)))
    # Prepared on the server: planning the replacement took 2-4 ms against 0.2 ms running it for one dossier.
    with prepared.cursor(connection) as cursor:
        for sql, params in _keep_statements(scope):
            cursor.execute(sql, params)


# The statements of a small scope, compiled once per shape (how many ids of each kind) with stand-in ids: the ORM
# takes longer to compile the nine kinds than the database to run them for one dossier (the transitions' case).
_COMPILED: dict[tuple, list[tuple[str, tuple]]] = {}
CACHED_IDS = 8
STAND_IN = -1_000_000_000  # never an id; each list's stand-ins are distinct (an IN list drops duplicates)


def _keep_statements(scope: tuple[list[int], ...]) -> list[tuple[str, tuple]]:
    if sum(len(ids) for ids in scope) > CACHED_IDS:
        return _compile_keep(*scope)
    key = (connection.vendor, timezone.get_current_timezone_name(), *(len(ids) for ids in scope))
    stand_ins = [[STAND_IN - 100 * n - i for i in range(len(ids))] for n, ids in enumerate(scope)]
    if key not in _COMPILED:
        _COMPILED[key] = _compile_keep(*stand_ins)
    real = {stand_in: value for ids, standing in zip(scope, stand_ins) for stand_in, value in zip(standing, ids)}
    return [(sql, tuple(real.get(p, p) if isinstance(p, int) else p for p in params))
            for sql, params in _COMPILED[key]]


def _compile_keep(dossier_ids, client_ids, solution_ids, requests_of, changes_of) -> list[tuple[str, tuple]]:
    dossiers = _any_of(pk=dossier_ids, client_id=client_ids, solution_id=solution_ids)
    requests, changes = _any_of(client_id=requests_of), _any_of(solution_id=changes_of)
    stale = _any_of(dossier_id=dossier_ids, client_id=client_ids, solution_id=solution_ids) or Q(pk__in=[])
    if requests is not None:
        stale |= Q(dossier__isnull=True, client_id__in=requests_of)
    if changes is not None:
        stale |= Q(dossier__isnull=True, solution_id__in=changes_of)
    return _replacing(OpenDeadline.objects.filter(stale), live(dossiers, requests, changes))


def _lock(client_ids: list[int], solution_ids: list[int], requests_of: list[int], changes_of: list[int]) -> None:
    """Lock what the replacement reads before it takes its snapshot (PostgreSQL, READ COMMITTED): the clients and
    solutions of the follow-ups, and the dossiers of the clients and solutions, so a transition of one of them
    committing meanwhile is either seen or keeps its dossier's rows after this. The callers of `keep` hold the locks
    of the dossiers, clients and solutions they pass (`services.lock`, the parties' audit snapshot): only the
    parents of the follow-ups and the parties' dossiers are locked here, parents first."""
    if connection.vendor != "postgresql":
        return
    for model, ids in ((Solution, changes_of), (Client, requests_of)):
        if ids:
            list(model.objects.filter(pk__in=ids).order_by("pk").select_for_update(no_key=True)
                 .values_list("pk", flat=True))
    dossiers = _any_of(client_id=client_ids, solution_id=solution_ids)
    if dossiers is not None:
        list(Dossier.objects.filter(dossiers).order_by("pk").select_for_update(of=("self",))
             .values_list("pk", flat=True))


# What a client's or a solution's deadlines read of it (the rest of an edit leaves them as they are).
PARTY_FIELDS = {Client: ("name", "kind", "ans_contract_signed_on", "cpe_cards", "software_certificates"),
                Solution: ("name", "version")}


def _party_changed(party: Client | Solution, before: dict[str, Any] | None) -> bool:
    fields = PARTY_FIELDS[type(party)]
    return before is None or any(before.get(name) != _json(getattr(party, name)) for name in fields)


def lock_party(party: Client | Solution, before: dict[str, Any] | None) -> None:
    """Before an edit of a client or a solution that its deadlines read is saved: lock its dossiers (id order).

    The order is that of a transition (its dossier, then the rows that refer to the party): an edit that changes
    a key column of the party (a solution's name and version are unique) holds the party's row exclusively, and a
    transition of one of its dossiers inserting a row that refers to the party (its counts, its deadlines) would
    wait for the edit while the edit waits for the dossier. With the dossiers locked first, it never does."""
    if before is None or not _party_changed(party, before):
        return
    if isinstance(party, Client):
        _lock([party.pk], [], [], [])
    else:
        _lock([], [party.pk], [], [])


def keep_party(party: Client | Solution, before: dict[str, Any] | None) -> None:
    """A client or a solution was saved (`before`: its audited fields before, as `audit.snapshot` reads them): keep
    its deadlines when a field they read changed."""
    if before is not None and not _party_changed(party, before):
        return
    if isinstance(party, Client):
        keep(client_ids=[party.pk])
    else:
        keep(solution_ids=[party.pk])


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def keep_organisations(organisation_ids: Iterable[int]) -> None:
    """Replace every kept deadline of these organisations (a setting they all depend on changed: the pending-VA
    delay, a dispositif's avance deadline), in the caller's transaction."""
    organisation_ids = sorted(set(organisation_ids))
    if organisation_ids:
        _lock_table()
        _replace(OpenDeadline.objects.filter(organisation_id__in=organisation_ids), of_organisations(organisation_ids))


def organisation_saving(sender, instance: Organisation, raw: bool = False, **kwargs: Any) -> None:
    """`pre_save` of an organisation (connected by the app: `organisations` cannot call `dossiers`): note the
    pending-VA delay it had, so `organisation_saved` keeps its deadlines only when that changed."""
    if instance.pk is not None and not raw:
        instance._stored_pending_va_days = Organisation.objects.filter(pk=instance.pk).values_list(
            "pending_va_days", flat=True).first()


def organisation_saved(sender, instance: Organisation, created: bool = False, raw: bool = False,
                       **kwargs: Any) -> None:
    """`post_save`: the pending-VA deadlines of every deployed dossier move with the organisation's delay, in the
    transaction of the save."""
    stored = instance.__dict__.pop("_stored_pending_va_days", None)
    if not created and not raw and stored is not None and stored != instance.pending_va_days:
        keep_organisations([instance.pk])


def keep_dispositif(dispositif_id: int) -> None:
    """A dispositif's avance deadline changed: the organisations with dossiers on it get their rows again."""
    keep_organisations(Dossier.objects.filter(dispositif_id=dispositif_id).order_by()
                       .values_list("organisation_id", flat=True).distinct())


def _lock_table() -> None:
    """Writers wait until the caller commits (PostgreSQL): each then keeps its dossier's rows on what this wrote."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(OpenDeadline._meta.db_table)} "
                           f"IN SHARE ROW EXCLUSIVE MODE")


def _replace(stale: QuerySet | None, fresh: QuerySet) -> None:
    """Delete the rows of `stale` (None: every row) and insert `fresh` in their place."""
    with connection.cursor() as cursor:
        for sql, params in _replacing(stale, fresh):
            cursor.execute(sql, params)


def _replacing(stale: QuerySet | None, fresh: QuerySet) -> list[tuple[str, tuple]]:
    """The statements of `_replace`: one on PostgreSQL, two elsewhere."""
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotSupportedError(f"Kept deadlines are not implemented for {connection.vendor}.")
    quote = connection.ops.quote_name
    table = quote(OpenDeadline._meta.db_table)
    columns = ", ".join(quote(c) for c in ("organisation_id", *KEPT_COLUMNS.values()))
    delete_sql, delete_params = _delete_sql(stale)
    select_sql, select_params = fresh.query.sql_with_params()
    insert = f"INSERT INTO {table} ({columns}) SELECT * FROM ({select_sql}) fresh"
    if connection.vendor == "postgresql":
        # The DELETE in a CTE sees the rows as they were: it never removes what the INSERT adds.
        return [(f"WITH stale AS ({delete_sql}) {insert}", (*delete_params, *tuple(select_params)))]
    return [(delete_sql, delete_params), (insert, tuple(select_params))]


def _delete_sql(stale: QuerySet | None) -> tuple[str, tuple]:
    """`DELETE FROM` the kept table the rows of `stale` (a filter on the table's own columns; None: all)."""
    table = connection.ops.quote_name(OpenDeadline._meta.db_table)
    if stale is None:
        return f"DELETE FROM {table}", ()
    where_sql, params = stale.values("pk").query.sql_with_params()
    return f"DELETE FROM {table} WHERE id IN ({where_sql})", tuple(params)


def rebuild(organisation: Organisation | int | Iterable[Organisation | int] | None = None) -> int:
    """Replace the kept deadlines of one, several or (None) every organisation with the recomputed ones; returns how
    many rows were written. Writers wait meanwhile (PostgreSQL: the table is locked against writes)."""
    organisations = organisation_ids(organisation)
    with transaction.atomic():
        _lock_table()
        if organisations is None:
            _replace(None, live())
        else:
            keep_organisations(organisations)
        scope = Q() if organisations is None else Q(organisation_id__in=organisations)
        return OpenDeadline.objects.filter(scope).count()


# --- the readers' rows --------------------------------------------------------------------------------------------

def rows(organisation: Organisation | int, *, today: date, due_before: date | None = None,
         kinds: Iterable[str] | None = None) -> QuerySet:
    """The organisation's kept deadlines (of `kinds`, default all; due on or before `due_before`, overdue ones
    included), the information kinds already past left out, as rows of `COLUMNS` soonest first: one query on the
    index that leads with the organisation."""
    queryset = OpenDeadline.objects.filter(organisation_id=organisation_id(organisation))
    if kinds is not None:
        queryset = queryset.filter(kind__in=list(kinds))
    if due_before is not None:
        queryset = queryset.filter(due_on__lte=due_before)
    queryset = queryset.exclude(kind__in=sorted(INFORMATION_KINDS), due_on__lt=today)
    return queryset.order_by("due_on", "due_at", "kind", "dossier_id", "object_id").values(
        **{name: F(column) for name, column in KEPT_COLUMNS.items()})


class KeptRows:
    """`rows`, written out as SQL on the kept table: its count and its rows (tuples of `COLUMNS`), or a slice of
    them. The ORM takes longer to build and compile `rows`' queryset than the database to answer a page of it.

    PostgreSQL only (its driver returns dates, aware datetimes and decimals as the ORM would; SQLite's does not):
    `reports.deadlines.kept_read` picks it there, the ORM's `rows` elsewhere. tests/reports/test_deadline_shapes.py
    holds both equal."""

    def __init__(self, organisation: Organisation | int, *, today: date, due_before: date | None = None,
                 kinds: Iterable[str] | None = None, condition: tuple[str, list] | None = None):
        """`condition`: one more (SQL on the kept table's columns, its parameters), e.g. the reminder days."""
        quote = connection.ops.quote_name
        self.table = quote(OpenDeadline._meta.db_table)
        conditions, params = ["organisation_id = %s"], [organisation_id(organisation)]
        self.empty = False
        if kinds is not None:
            kinds = list(kinds)
            self.empty = not kinds
            conditions.append(f"kind IN ({', '.join(['%s'] * len(kinds))})")
            params += kinds
        if due_before is not None:
            conditions.append("due_on <= %s")
            params.append(due_before)
        information = sorted(INFORMATION_KINDS)
        conditions.append(f"NOT (due_on < %s AND kind IN ({', '.join(['%s'] * len(information))}))")
        params += [today, *information]
        if condition is not None:
            conditions.append(f"({condition[0]})")
            params += condition[1]
        self.where, self.params = " AND ".join(conditions), params
        self.columns = ", ".join(quote(column) for column in KEPT_COLUMNS.values())

    def count(self) -> int:
        if self.empty:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self.table} WHERE {self.where}", self.params)
            return cursor.fetchone()[0]

    def fetch(self, offset: int = 0, limit: int | None = None) -> list[tuple]:
        """The rows soonest first, from `offset`, at most `limit` of them (None: all)."""
        if self.empty or limit == 0:
            return []
        sql = (f"SELECT {self.columns} FROM {self.table} WHERE {self.where} "
               f"ORDER BY due_on, due_at, kind, dossier_id, object_id")
        params = list(self.params)
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        if offset:
            sql += " OFFSET %s"
            params.append(offset)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
