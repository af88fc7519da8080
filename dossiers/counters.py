"""Counters kept by the one writer, in the transaction of each change: dossiers per organisation, state and
solution (hence dispositif) with their amounts, deployed dossiers (VA awaited) per organisation, dispositif and
deployment day with their amount at stake, and blocker rows per organisation, step blocked and rule.

The services call `snapshot` before a change and `record_change` after it, `delete_blockers` and
`record_blockers` around a blocker refresh; bulk writers add a batch with `Deltas` or `rebuild` what they loaded.
Each change is one additive upsert per table (`INSERT … ON CONFLICT DO UPDATE SET count = count + excluded.count`,
PostgreSQL and SQLite alike), so concurrent transactions never lose an increment; rows are upserted in key order,
state cells before pending-VA cells before blocker cells, so two writers never wait on each other in a cycle. On
PostgreSQL the pending-VA cells ride in the state cells' statement (a data-modifying WITH, run after the main
INSERT), so a change costs no more statements than before they were kept.

`recompute` answers the same figures from the dossiers; `rebuild` (the `rebuild_counters` command) replaces the
kept ones with them, and the kept deadlines (`dossiers.deadlines`) with theirs. `counts_for` and `pipeline` are
the readers the home page and the pipeline report use.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import NotSupportedError, connection, transaction
from django.db.models import Count, DecimalField, F, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from organisations.models import Organisation

from . import deadlines
from .models import Blocker, BlockerCount, Dossier, PendingVaDay, State, StateCount

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
ANY_RULE = BlockerCount.ANY_RULE
STATE_KEY = ("organisation_id", "dispositif_id", "solution_id", "state")
STATE_SUMS = ("count", "declared_amount", "avance_paid", "solde_paid")
BLOCKER_KEY = ("organisation_id", "transition", "rule")
PENDING_KEY = ("organisation_id", "dispositif_id", "deployed_on")
PENDING_SUMS = ("count", "amount_at_stake")
# Steps whose blockers wait for the client (the home page leaves them out of "bloqués par une règle").
CLIENT_STEPS = Blocker.CLIENT_STEPS
# States whose dossiers the home page counts against their dispositif's avance deadline.
AVANCE_DUE_STATES = (State.DRAFT, State.BDC_SIGNED)


# --- the writer's side -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    """What the counters know of one dossier: its cell and the amounts it adds to it."""

    organisation_id: int
    dispositif_id: int
    solution_id: int
    state: str
    declared_amount: Decimal
    avance_paid: Decimal
    solde_paid: Decimal
    deployed_on: date | None = None

    @property
    def key(self) -> tuple:
        return self.organisation_id, self.dispositif_id, self.solution_id, self.state

    @property
    def sums(self) -> tuple:
        return 1, self.declared_amount, self.avance_paid, self.solde_paid

    @property
    def pending_key(self) -> tuple | None:
        """Its pending-VA cell, None unless deployed (its VA awaited)."""
        if self.state != State.DEPLOYED:
            return None
        return self.organisation_id, self.dispositif_id, self.deployed_on

    @property
    def pending_sums(self) -> tuple:
        return 1, self.declared_amount - self.avance_paid


def snapshot(dossier: Dossier) -> Snapshot:
    return Snapshot(dossier.organisation_id, dossier.dispositif_id, dossier.solution_id, str(dossier.state),
                    dossier.declared_amount or ZERO, dossier.avance_paid_total or ZERO,
                    dossier.solde_paid_amount or ZERO, dossier.deployed_on)


class Deltas:
    """Changes to the counters gathered in memory, written by `apply` in two statements at most (three on SQLite)."""

    def __init__(self) -> None:
        self.states: dict[tuple, list] = defaultdict(lambda: [0, ZERO, ZERO, ZERO])
        self.pending: dict[tuple, list] = defaultdict(lambda: [0, ZERO])
        self.blockers: Counter = Counter()

    def move(self, before: Snapshot | None, after: Snapshot | None) -> Deltas:
        for one, sign in ((before, -1), (after, 1)):
            if one is not None:
                cell = self.states[one.key]
                for i, value in enumerate(one.sums):
                    cell[i] += sign * value
                if one.pending_key is not None:
                    cell = self.pending[one.pending_key]
                    for i, value in enumerate(one.pending_sums):
                        cell[i] += sign * value
        return self

    def block(self, organisation_id: int, before: Iterable[tuple[str, str]],
              after: Iterable[tuple[str, str]]) -> Deltas:
        """The dossier's blocker rows went from `before` to `after`, each a (step blocked, rule) pair."""
        before, after = list(before), list(after)
        self.blockers.update({(organisation_id, *pair): n for pair, n in Counter(after).items()})
        self.blockers.subtract({(organisation_id, *pair): n for pair, n in Counter(before).items()})
        # A blocked dossier counts once per step it is blocked at (its rows share one step: its next).
        for transition in {transition for transition, _rule in after}:
            self.blockers[(organisation_id, transition, ANY_RULE)] += 1
        for transition in {transition for transition, _rule in before}:
            self.blockers[(organisation_id, transition, ANY_RULE)] -= 1
        return self

    def add_dossiers(self, dossiers: Iterable[Dossier], blockers: Iterable[Blocker] = ()) -> Deltas:
        """New dossiers and their blocker rows (a bulk insert): counted as created, blocked as written."""
        organisation_of = {}
        for dossier in dossiers:
            self.move(None, snapshot(dossier))
            organisation_of[dossier.pk] = dossier.organisation_id
        rules: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for blocker in blockers:
            rules[blocker.dossier_id].append((blocker.transition, blocker.rule))
        for dossier_id, codes in rules.items():
            self.block(organisation_of[dossier_id], (), codes)
        return self

    def apply(self) -> None:
        states = [(key, tuple(sums)) for key, sums in self.states.items() if any(sums)]
        pending = [(key, tuple(sums)) for key, sums in self.pending.items() if any(sums)]
        blockers = [(key, (n,)) for key, n in self.blockers.items() if n]
        _add(StateCount, STATE_KEY, STATE_SUMS, states,
             with_=(PendingVaDay, PENDING_KEY, PENDING_SUMS, pending))
        _add(BlockerCount, BLOCKER_KEY, ("count",), blockers)
        self.states.clear()
        self.pending.clear()
        self.blockers.clear()


def record_change(dossier: Dossier, before: Snapshot | None, after: Snapshot | None = None) -> None:
    """Move the dossier from the cell it was in (`before`, None when just created) to the one it is in now (or
    `after`); one statement, none when neither its cell nor its amounts changed."""
    Deltas().move(before, after or snapshot(dossier)).apply()


def delete_blockers(dossier: Dossier) -> list[tuple[str, str]]:
    """Delete the dossier's blocker rows and return them as (step blocked, rule) pairs, the cells they were counted
    in, in one statement (none when the dossier, read by `services._lock`, is known to have none)."""
    if not getattr(dossier, "has_blockers", True):
        return []
    table = connection.ops.quote_name(Blocker._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE dossier_id = %s RETURNING transition, rule", [dossier.pk])
        return [(transition, rule) for transition, rule in cursor.fetchall()]


def record_blockers(dossier: Dossier, before: Iterable[tuple[str, str]], after: Iterable[str], *,
                    transition: str) -> None:
    """The dossier's blocker rows went from `before` ((step, rule) pairs, as `delete_blockers` returned them) to the
    rules `after`, blocking `transition`: one statement, none when they are the same."""
    before, after = sorted(before), sorted((transition, rule) for rule in after)
    if before != after:
        Deltas().block(dossier.organisation_id, before, after).apply()


def _upsert(model, key: tuple[str, ...], sums: tuple[str, ...], rows: list[tuple[tuple, tuple]]) -> tuple[str, list]:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(c) for c in (*key, *sums))
    placeholders = ", ".join(["(" + ", ".join(["%s"] * (len(key) + len(sums))) + ")"] * len(rows))
    additions = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in sums)
    # Key order; a NULL day (a deployed dossier without its date) sorts first.
    params = [value for k, s in sorted(rows, key=lambda row: tuple((v is not None, v) for v in row[0]))
              for value in (*k, *s)]
    return (f"INSERT INTO {table} ({columns}) VALUES {placeholders} "
            f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET {additions}", params)


def _add(model, key: tuple[str, ...], sums: tuple[str, ...], rows: list[tuple[tuple, tuple]],
         with_: tuple | None = None) -> None:
    """Add each row's sums to its cell, creating the cell at zero first: one statement, rows in key order. `with_`:
    another table's (model, key, sums, rows), added in the same statement on PostgreSQL (after this one's), in a
    second one on SQLite."""
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotSupportedError(f"Kept counters are not implemented for {connection.vendor}.")
    statements = [_upsert(model, key, sums, rows)] if rows else []
    if with_ is not None and with_[3]:
        other = _upsert(*with_)
        if statements and connection.vendor == "postgresql":
            (sql, params), (other_sql, other_params) = statements[0], other
            statements = [(f"WITH kept_too AS ({other_sql}) {sql}", [*other_params, *params])]
        else:
            statements.append(other)
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


# --- recomputed from the dossiers, and rebuilt -------------------------------------------------------------------

def _money(field: str) -> Sum:
    return Sum(Coalesce(F(field), Value(ZERO)), output_field=DecimalField(max_digits=18, decimal_places=2))


def _recomputed(organisations: list[int] | None) -> tuple[dict, dict, dict]:
    """{(organisation, dispositif, solution, state): sums}, {(organisation, step, rule): count} and
    {(organisation, dispositif, deployed_on): (count, amount at stake)} from the dossiers and their blocker rows (four
    queries). The organisation of a blocker row is its dossier's."""
    dossiers = Dossier.objects.order_by()
    blockers = Blocker.objects.order_by()
    if organisations is not None:
        dossiers = dossiers.filter(organisation_id__in=organisations)
        blockers = blockers.filter(dossier__organisation_id__in=organisations)
    states = {
        tuple(row[k] for k in STATE_KEY): (row["n"], row["declared"], row["avance"], row["solde"])
        for row in dossiers.values(*STATE_KEY).annotate(
            n=Count("id"), declared=_money("declared_amount"), avance=_money("avance_paid_total"),
            solde=_money("solde_paid_amount"))
    }
    rules = {(org, transition, rule): n for org, transition, rule, n
             in blockers.values_list("dossier__organisation_id", "transition", "rule").annotate(n=Count("id"))}
    rules.update({(org, transition, ANY_RULE): n for org, transition, n
                  in blockers.values_list("dossier__organisation_id", "transition")
                  .annotate(n=Count("dossier_id", distinct=True))})
    stake = Sum(Coalesce(F("declared_amount"), Value(ZERO)) - Coalesce(F("avance_paid_total"), Value(ZERO)),
                output_field=DecimalField(max_digits=18, decimal_places=2))
    pending = {tuple(row[:3]): row[3:] for row in dossiers.filter(state=State.DEPLOYED).values(*PENDING_KEY)
               .annotate(n=Count("id"), stake=stake).values_list(*PENDING_KEY, "n", "stake")}
    return states, rules, pending


def _per_organisation(states: dict, rules: dict, pending: dict, organisation_id: int) -> dict[str, dict]:
    return {
        "states": {key[1:]: tuple(_exact(v) for v in sums) for key, sums in states.items()
                   if key[0] == organisation_id and any(sums)},
        "blockers": {key[1:]: n for key, n in rules.items() if key[0] == organisation_id and n},
        "pending_va": {key[1:]: tuple(_exact(v) for v in sums) for key, sums in pending.items()
                       if key[0] == organisation_id and any(sums)},
    }


def _exact(value: Any) -> Any:
    return value.quantize(CENT) if isinstance(value, Decimal) else value


def recompute(organisation: Organisation | int) -> dict[str, dict]:
    """The organisation's figures counted from its dossiers: {"states": {(dispositif, solution, state): (count,
    declared, avance paid, solde paid)}, "blockers": {(step, rule): rows, (step, ""): dossiers blocked at that step},
    "pending_va": {(dispositif, deployed_on): (count, amount at stake)}}, zeros left out."""
    org = deadlines.organisation_id(organisation)
    return _per_organisation(*_recomputed([org]), org)


def kept(organisation: Organisation | int) -> dict[str, dict]:
    """The same figures as `recompute`, read from the kept counters."""
    org = deadlines.organisation_id(organisation)
    states = {tuple(row[:4]): row[4:] for row in StateCount.objects.filter(organisation_id=org)
              .values_list(*STATE_KEY, *STATE_SUMS)}
    rules = {(org, transition, rule): n for transition, rule, n in BlockerCount.objects.filter(organisation_id=org)
             .values_list("transition", "rule", "count")}
    pending: dict[tuple, tuple] = {}
    for row in PendingVaDay.objects.filter(organisation_id=org).values_list(*PENDING_KEY, *PENDING_SUMS):
        # Summed: the cells of a NULL day may be several rows (NULLs are distinct in the key).
        before = pending.get(tuple(row[:3]), (0, ZERO))
        pending[tuple(row[:3])] = tuple(a + b for a, b in zip(before, row[3:]))
    return _per_organisation(states, rules, pending, org)


def rebuild(organisation: Organisation | int | Iterable[Organisation | int] | None = None) -> int:
    """Replace the kept counters of one, several or (None) every organisation with the recomputed ones; returns how
    many rows were written. Writers wait meanwhile (PostgreSQL: the counter tables are locked against writes)."""
    organisations = deadlines.organisation_ids(organisation)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Taken before reading: every writer that already counted has committed (the read sees it), every
            # later one waits and then adds its change to what this wrote.
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table)
                               for m in (StateCount, PendingVaDay, BlockerCount))
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        scope = Q() if organisations is None else Q(organisation_id__in=organisations)
        StateCount.objects.filter(scope).delete()
        BlockerCount.objects.filter(scope).delete()
        PendingVaDay.objects.filter(scope).delete()
        states, rules, pending = _recomputed(organisations)
        StateCount.objects.bulk_create(
            StateCount(**dict(zip(STATE_KEY, key)), **dict(zip(STATE_SUMS, sums))) for key, sums in states.items())
        PendingVaDay.objects.bulk_create(
            PendingVaDay(**dict(zip(PENDING_KEY, key)), **dict(zip(PENDING_SUMS, sums))) for key, sums in pending.items())
        BlockerCount.objects.bulk_create(
            BlockerCount(organisation_id=org, transition=transition, rule=rule, count=n)
            for (org, transition, rule), n in rules.items())
    # Whoever loaded dossiers past the writer (COPY, a test's bulk rows) recounts here: their deadlines too.
    deadlines.rebuild(organisations)
    return len(states) + len(rules) + len(pending)


# --- readers -----------------------------------------------------------------------------------------------------

def counts_for(organisation: Organisation | int, *, now=None, avance_days: int = 30) -> dict[str, Any]:
    """The home page's figures in one query: dossiers per state and in all, VA awaited, avance deadline within
    `avance_days`, dossiers blocked by a rule and blocker rows per rule (most first), the dossiers waiting for the
    client (blocked at one of CLIENT_STEPS) left out."""
    org = deadlines.organisation_id(organisation)
    now = now or timezone.now()
    due = Q(state__in=AVANCE_DUE_STATES, dispositif__avance_deadline__gte=now,
            dispositif__avance_deadline__lte=now + timedelta(days=avance_days))
    states = (StateCount.objects.filter(organisation_id=org).values("state")
              .annotate(kind=Value("state"), n=Sum("count"), due=Coalesce(Sum("count", filter=due), 0))
              .values_list("kind", "state", "n", "due").order_by())
    rules = (BlockerCount.objects.filter(organisation_id=org).exclude(transition__in=CLIENT_STEPS).values("rule")
             .annotate(kind=Value("rule"), n=Sum("count"), due=Value(0, output_field=IntegerField()))
             .values_list("kind", "rule", "n", "due").order_by())
    by_state = {value: 0 for value in State.values}
    blocked, avance_due = {}, 0
    for kind, name, n, due_count in states.union(rules, all=True):
        if kind == "state":
            by_state[name] += n
            avance_due += due_count
        elif n:
            blocked[name] = n
    blocked_total = blocked.pop(ANY_RULE, 0)
    return {
        "by_state": by_state, "total": sum(by_state.values()), "va_awaited": by_state[State.DEPLOYED],
        "avance_due": avance_due, "blocked_total": blocked_total,
        "blocked_rules": sorted(blocked.items(), key=lambda item: (-item[1], item[0])),
    }


def pipeline(scope: Organisation | int | None, *, dispositif: str | None = None, couloir: str | None = None,
             solution: int | None = None, organisation: int | None = None) -> list[dict[str, Any]]:
    """`queries.pipeline` from the kept counters, same rows and filters, in one query."""
    cells = StateCount.objects.order_by()
    if scope is not None:
        cells = cells.filter(organisation_id=deadlines.organisation_id(scope))
    for given, lookup in ((dispositif, "dispositif__code"), (couloir, "dispositif__couloir_id"),
                          (solution, "solution_id"), (organisation, "organisation_id")):
        if given:
            cells = cells.filter(**{lookup: given})
    found = {row["state"]: row for row in cells.values("state").annotate(
        n=Sum("count"), declared=Sum("declared_amount"), avance=Sum("avance_paid"), solde=Sum("solde_paid"))}
    rows = []
    for state in State:
        row = found.get(state.value, {})
        rows.append({"state": state.value, "label": str(state.label), "count": row.get("n") or 0,
                     "declared_amount": Decimal(row.get("declared") or ZERO).quantize(CENT),
                     "avance_paid": Decimal(row.get("avance") or ZERO).quantize(CENT),
                     "solde_paid": Decimal(row.get("solde") or ZERO).quantize(CENT)})
    return rows
