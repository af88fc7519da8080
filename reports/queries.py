"""Reads of the reports, the home page and the digest: the SQL that must stay fast, in a fixed number of queries
whatever the data. The dossiers of a scope and their filters are `dossiers.queries`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone, translation

from dossiers import counters
from dossiers.date_sql import AddDays, AddMonths  # noqa: F401 (where the reports' SQL dates were defined)
from dossiers.models import Blocker, Dispositif, Dossier, PendingVaDay, State, StateCount
from dossiers.queries import dossiers_of, filter_dossiers, rule_title
from organisations.models import Organisation

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)
AVANCE_DEADLINE_DAYS = 30
HOME_ROWS = 8             # dossiers listed under each heading of the home page
BLOCKED_ROWS_PER_RULE = 5


# --- pending VA (DOMAIN.md §6: deployed, VA awaited) ------------------------------------------------------------------

# Bucket labels and their age bounds in days (inclusive); ages are today (Europe/Paris) minus deployed_on.
PENDING_VA_BUCKETS: list[tuple[str, int | None, int | None]] = [
    ("0-30", None, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None),
]


def pending_va_queryset(scope: Organisation | int | None, **filters: Any) -> QuerySet[Dossier]:
    """Dossiers deployed whose VA is awaited. Cancelled dossiers are excluded by construction (state)."""
    return filter_dossiers(dossiers_of(scope).filter(state=State.DEPLOYED), filters)


def _overdue(today: date) -> Q:
    # Overdue when the age exceeds the organisation's delay: deployed_on + pending_va_days < today.
    return Q(va_due_on__lt=today)


def _with_va_due(queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
    return queryset.alias(va_due_on=AddDays(F("deployed_on"), F("organisation__pending_va_days")))


def _age_bounds(today: date, low: int | None, high: int | None) -> Q:
    condition = Q()
    if high is not None:
        condition &= Q(deployed_on__gte=today - timedelta(days=high))
    if low is not None:
        condition &= Q(deployed_on__lte=today - timedelta(days=low))
    return condition


def _stake() -> Sum:
    return Sum(Coalesce(F("declared_amount"), Value(ZERO), output_field=MONEY) - F("avance_paid_total"),
               output_field=MONEY)


def pending_va_summary(queryset: QuerySet[Dossier], today: date) -> dict[str, Any]:
    """Totals, buckets and per-dispositif counts of a pending-VA queryset: two queries."""
    queryset = _with_va_due(queryset)
    buckets = {f"b{i}": Count("id", filter=_age_bounds(today, low, high))
               for i, (_label, low, high) in enumerate(PENDING_VA_BUCKETS)}
    totals = queryset.aggregate(total=Count("id"), overdue=Count("id", filter=_overdue(today)),
                                amount_at_stake=_stake(), **buckets)
    by_dispositif = (queryset.values("dispositif__code")
                     .annotate(count=Count("id"), overdue=Count("id", filter=_overdue(today)))
                     .order_by("dispositif__code"))
    return {
        "total": totals["total"],
        "overdue": totals["overdue"],
        "amount_at_stake": (totals["amount_at_stake"] or ZERO).quantize(Decimal("0.01")),
        "buckets": [{"label": label, "count": totals[f"b{i}"]} for i, (label, _l, _h) in enumerate(PENDING_VA_BUCKETS)],
        "by_dispositif": [{"dispositif": row["dispositif__code"], "count": row["count"], "overdue": row["overdue"]}
                          for row in by_dispositif],
    }


# The filters the kept pending-VA cells answer (dossiers.counters: per organisation, dispositif and deployment day).
KEPT_PENDING_VA_FILTERS = frozenset({"dispositif", "couloir", "organisation"})


def pending_va_summary_of(scope: Organisation | int | None, filters: dict[str, Any], queryset: QuerySet[Dossier],
                          today: date) -> dict[str, Any]:
    """The pending-VA summary: from the cells the writers keep when the filters are theirs (a few rows per day
    and dispositif, whatever the number of dossiers), else counted from `queryset` (the same filters applied)."""
    if {name for name, value in filters.items() if value not in (None, "")} <= KEPT_PENDING_VA_FILTERS:
        return pending_va_summary_kept(scope, today, **filters)
    return pending_va_summary(queryset, today)


class PlusDays(AddDays):
    """`AddDays` for a date column and an integer one, as PostgreSQL adds them (`date + integer`), without the
    interval arithmetic and cast `AddDays` does on every row (a third of the kept summary's time)."""

    def as_postgresql(self, compiler, connection, **extra_context):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        days_sql, days_params = compiler.compile(self.source_expressions[1])
        return f"({date_sql} + {days_sql})", (*date_params, *days_params)


# The kept summary's statement on PostgreSQL, written out (the ORM's compilation of its filtered sums cost about as
# much as running it). Per dispositif: count, overdue, amount at stake, then the PENDING_VA_BUCKETS' counts.
# Counts and amounts come from the state cells (a few rows per solution); only the cells of the last days are read by
# day: those younger than 91 days (the first three buckets) or than the longest delay of any organisation (not yet
# overdue), and the undated ones. The rest are deduced: the oldest bucket and the overdue are what is left. So the
# statement reads a bounded number of rows whatever the organisation's size and however long its VAs wait.
PENDING_VA_KEPT_SQL = """
WITH totals AS (
    SELECT k.dispositif_id, SUM(k.count) AS n, SUM(k.declared_amount) - SUM(k.avance_paid) AS stake
    FROM dossiers_statecount k JOIN dossiers_dispositif p ON p.id = k.dispositif_id
    WHERE k.state = 'deployed' AND {where} GROUP BY k.dispositif_id),
recent AS (
    SELECT k.dispositif_id,
           SUM(k.count) FILTER (WHERE k.deployed_on + o.pending_va_days >= %(today)s) AS fresh,
           SUM(k.count) FILTER (WHERE k.deployed_on IS NULL) AS undated,
           SUM(k.count) FILTER (WHERE k.deployed_on >= %(today)s - 30) AS b0,
           SUM(k.count) FILTER (WHERE k.deployed_on >= %(today)s - 60 AND k.deployed_on <= %(today)s - 31) AS b1,
           SUM(k.count) FILTER (WHERE k.deployed_on >= %(today)s - 90 AND k.deployed_on <= %(today)s - 61) AS b2
    FROM dossiers_pendingvaday k JOIN organisations_organisation o ON o.id = k.organisation_id
    JOIN dossiers_dispositif p ON p.id = k.dispositif_id
    WHERE {where} AND (k.deployed_on IS NULL OR k.deployed_on >= %(today)s
                       - (SELECT GREATEST(90, MAX(w.pending_va_days)) FROM organisations_organisation w))
    GROUP BY k.dispositif_id)
SELECT p.code, t.n, t.n - COALESCE(r.fresh, 0) - COALESCE(r.undated, 0), t.stake,
       COALESCE(r.b0, 0), COALESCE(r.b1, 0), COALESCE(r.b2, 0),
       t.n - COALESCE(r.b0, 0) - COALESCE(r.b1, 0) - COALESCE(r.b2, 0) - COALESCE(r.undated, 0)
FROM totals t JOIN dossiers_dispositif p ON p.id = t.dispositif_id
LEFT JOIN recent r ON r.dispositif_id = t.dispositif_id
WHERE t.n <> 0 ORDER BY p.code"""
assert [(low, high) for _label, low, high in PENDING_VA_BUCKETS] == [(None, 30), (31, 60), (61, 90), (91, None)]


def _kept_cells_sql(today: date, conditions: list[tuple[str, Any]]) -> list[tuple]:
    where = " AND ".join(["TRUE", *(f"{column} = %(p{i})s" for i, (column, _v) in enumerate(conditions))])
    params = {"today": today, **{f"p{i}": value for i, (_c, value) in enumerate(conditions)}}
    with connection.cursor() as cursor:
        cursor.execute(PENDING_VA_KEPT_SQL.format(where=where), params)
        return cursor.fetchall()


def _kept_cells_orm(today: date, conditions: list[tuple[str, Any]]) -> list[tuple]:
    lookups = {"k.organisation_id": "organisation_id", "p.couloir_id": "dispositif__couloir_id",
               "p.code": "dispositif__code", "k.dispositif_id": "dispositif_id"}
    cells = PendingVaDay.objects.order_by().filter(**{lookups[column]: value for column, value in conditions})
    cells = cells.alias(va_due_on=PlusDays(F("deployed_on"), F("organisation__pending_va_days")))
    buckets = {f"b{i}": Sum("count", filter=_age_bounds(today, low, high))
               for i, (_label, low, high) in enumerate(PENDING_VA_BUCKETS)}
    return [row for row in cells.values("dispositif__code").annotate(
        n=Sum("count"), overdue=Sum("count", filter=_overdue(today)), stake=Sum("amount_at_stake"), **buckets,
    ).order_by("dispositif__code").values_list("dispositif__code", "n", "overdue", "stake", *buckets) if row[1]]


def pending_va_summary_kept(scope: Organisation | int | None, today: date, *, dispositif: Any = None,
                            couloir: str | None = None, organisation: Any = None) -> dict[str, Any]:
    """`pending_va_summary` from the kept PendingVaDay cells, same answer, in one query: the ages and the overdue
    counts are sums over the cells' days as of `today` (SQL written out on PostgreSQL, the ORM's on SQLite)."""
    conditions: list[tuple[str, Any]] = []
    if scope is not None:
        conditions.append(("k.organisation_id", getattr(scope, "pk", scope)))
    if couloir:
        conditions.append(("p.couloir_id", couloir))
    if dispositif:
        conditions.append(("k.dispositif_id", dispositif.pk) if isinstance(dispositif, Dispositif)
                          else ("p.code", dispositif))
    if organisation:
        conditions.append(("k.organisation_id", getattr(organisation, "pk", organisation)))
    read = _kept_cells_sql if connection.vendor == "postgresql" else _kept_cells_orm
    rows = [(code, n, overdue or 0, stake or ZERO, *(b or 0 for b in buckets))
            for code, n, overdue, stake, *buckets in read(today, conditions)]
    return {
        "total": sum(row[1] for row in rows),
        "overdue": sum(row[2] for row in rows),
        "amount_at_stake": sum((row[3] for row in rows), ZERO).quantize(Decimal("0.01")),
        "buckets": [{"label": label, "count": sum(row[4 + i] for row in rows)}
                    for i, (label, _l, _h) in enumerate(PENDING_VA_BUCKETS)],
        "by_dispositif": [{"dispositif": row[0], "count": row[1], "overdue": row[2]} for row in rows],
    }


PENDING_VA_FIELDS = (
    "id", "reference", "organisation_id", "organisation__pending_va_days", "client_id", "client__name",
    "client__finess_geo", "client__siret", "solution_id", "solution__name", "solution__version", "dispositif__code",
    "dispositif__couloir_id", "deployed_on", "declared_amount", "avance_paid_total",
)


def pending_va_rows(queryset: QuerySet[Dossier]) -> QuerySet[dict[str, Any]]:
    """The rows of the report, oldest deployment first (one query; age and overdue are derived per row)."""
    return queryset.order_by("deployed_on", "id").values(*PENDING_VA_FIELDS)


@dataclass(frozen=True)
class PendingVa:
    """A pending-VA row with its derived figures."""

    row: dict[str, Any]
    today: date

    @property
    def age_days(self) -> int:
        return (self.today - self.row["deployed_on"]).days

    @property
    def overdue(self) -> bool:
        return self.age_days > self.row["organisation__pending_va_days"]

    @property
    def amount_at_stake(self) -> Decimal:
        return ((self.row["declared_amount"] or ZERO) - (self.row["avance_paid_total"] or ZERO)).quantize(
            Decimal("0.01"))


# --- pipeline ---------------------------------------------------------------------------------------------------------

# The filters the kept counters answer (dossiers.counters: cells per organisation, dispositif, solution and state).
KEPT_FILTERS = frozenset({"dispositif", "couloir", "solution", "organisation"})


def pipeline(scope: Organisation | int | None, **filters: Any) -> list[dict[str, Any]]:
    """Count and amounts per state, every state listed (zero included), in one query: read from the counters the
    writers keep when the filters are theirs (no scan of the organisation's dossiers), else counted live.

    On PostgreSQL the kept counters are summed by a statement written out (`_KEPT_PIPELINE`): the ORM took longer
    to compile `counters.pipeline`'s than the database to run it. Same rows (tests/reports/test_pipeline_read.py)."""
    if not set(filters) <= KEPT_FILTERS:
        return pipeline_live(scope, **filters)
    if connection.vendor != "postgresql":
        return counters.pipeline(scope, **filters)
    conditions, params = [], []
    if scope is not None:
        conditions.append("c.organisation_id = %s")
        params.append(scope.pk if isinstance(scope, Organisation) else scope)
    for given, condition in ((filters.get("dispositif"), "p.code = %s"), (filters.get("couloir"), "p.couloir_id = %s"),
                             (filters.get("solution"), "c.solution_id = %s"),
                             (filters.get("organisation"), "c.organisation_id = %s")):
        if given:  # as counters.pipeline: an empty filter is no filter
            conditions.append(condition)
            params.append(given)
    join = _DISPOSITIF_JOIN if filters.get("dispositif") or filters.get("couloir") else ""
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    with connection.cursor() as cursor:
        cursor.execute(_KEPT_PIPELINE.format(join=join, where=where), params)
        found = {state: sums for state, *sums in cursor.fetchall()}
    rows = []
    for state, label in _state_labels(translation.get_language()).items():
        count, declared, avance, solde = found.get(state) or _NO_SUMS
        rows.append({"state": state, "label": label, "count": count or 0,
                     "declared_amount": (declared or ZERO).quantize(CENT),
                     "avance_paid": (avance or ZERO).quantize(CENT), "solde_paid": (solde or ZERO).quantize(CENT)})
    return rows


CENT = Decimal("0.01")
_NO_SUMS = (0, ZERO, ZERO, ZERO)
_KEPT_PIPELINE = (f"SELECT c.state, SUM(c.count), SUM(c.declared_amount), SUM(c.avance_paid), SUM(c.solde_paid) "
                  f"FROM {StateCount._meta.db_table} c {{join}} {{where}} GROUP BY c.state")
_DISPOSITIF_JOIN = f"JOIN {Dispositif._meta.db_table} p ON p.id = c.dispositif_id"


@lru_cache(maxsize=16)
def _state_labels(language: str | None) -> dict[str, str]:
    """The states' labels in a language, in the states' order: constants of the code and its catalogues, which a
    deploy alone changes."""
    with translation.override(language):
        return {state.value: str(state.label) for state in State}


def pipeline_live(scope: Organisation | int | None, **filters: Any) -> list[dict[str, Any]]:
    """The pipeline counted from the dossiers themselves (any filter; the reference the kept counters equal)."""
    rows = filter_dossiers(dossiers_of(scope), filters).values("state").annotate(
        count=Count("id"),
        declared_amount=Coalesce(Sum("declared_amount"), Value(ZERO), output_field=MONEY),
        avance_paid=Coalesce(Sum("avance_paid_total"), Value(ZERO), output_field=MONEY),
        solde_paid=Coalesce(Sum("solde_paid_amount"), Value(ZERO), output_field=MONEY),
    ).order_by("state")
    found = {row["state"]: row for row in rows}
    result = []
    for state in State:
        row = found.get(state.value, {})
        result.append({
            "state": state.value, "label": str(state.label), "count": row.get("count", 0),
            **{key: Decimal(row.get(key) or ZERO).quantize(Decimal("0.01"))
               for key in ("declared_amount", "avance_paid", "solde_paid")},
        })
    return result


# --- blockers ---------------------------------------------------------------------------------------------------------

def blockers_by_rule(organisation: Organisation | int, *, references: int = 3) -> list[dict[str, Any]]:
    """Rules blocking the organisation's dossiers: count and the first few references per rule (one query)."""
    rows = (Blocker.objects.filter(dossier__organisation=organisation)
            .annotate(count=Window(Count("id"), partition_by=[F("rule")]),
                      rank=Window(RowNumber(), partition_by=[F("rule")], order_by=[F("dossier_id").asc()]))
            .filter(rank__lte=references)
            .order_by("rule", "dossier_id")
            .values("rule", "count", "dossier_id", "dossier__reference"))
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        item = grouped.setdefault(row["rule"], {"rule": row["rule"], "count": row["count"], "references": []})
        item["references"].append(row["dossier__reference"] or f"#{row['dossier_id']}")
    return sorted(grouped.values(), key=lambda item: (-item["count"], item["rule"]))


class KnownCount:
    """Rows whose total is already known (a report's summary counted them): the paginator slices the rows and
    takes the total as given, instead of a second COUNT over the same joins."""

    def __init__(self, rows, count: int):
        self.rows, self.total = rows, count

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index):
        return self.rows[index]


# --- the home page --------------------------------------------------------------------------------------------------------

# States in which the dossier waits for the client, not for the vendor (design, issue 16): `deployed`, where the
# client's signed VA is awaited. The rules that block the next step there (`sign_va`: the VA document, the ESMS
# prerequisites, the MSS indicator) are all the client's to meet, so such a dossier is counted "en attente du
# client" and not "bloqué par une règle". The other states wait on the vendor (draft: the order form to get signed
# and attached; the filings; the fixes) or on the ASP (filed, validated, cancellation), never on the client alone.
WAITING_FOR_CLIENT_STATES = frozenset({State.DEPLOYED})   # their next steps are Blocker.CLIENT_STEPS
HOME_DEADLINE_DAYS = AVANCE_DEADLINE_DAYS   # deadlines due within this many days are listed, overdue ones first


@dataclass(frozen=True)
class BlockedDossier:
    pk: int
    reference: str
    client_name: str


@dataclass
class BlockedRule:
    rule: str
    title: str
    count: int
    dossiers: list[BlockedDossier] = field(default_factory=list)


@dataclass
class Home:
    state_counts: list[tuple[str, str, int]]
    total: int
    blocked_total: int                 # dossiers with an open blocker, those waiting for the client excluded
    blocked_rules: list[BlockedRule]
    avance_due_count: int              # avance filing deadline within AVANCE_DEADLINE_DAYS, not yet passed
    waiting_count: int                 # dossiers waiting for the client (WAITING_FOR_CLIENT_STATES)
    waiting: list[Dossier]             # the oldest first
    deadlines: list[dict[str, Any]]    # overdue first, then the soonest (reports.deadlines.as_deadline)
    more_deadlines: bool
    pending_va_days: int


# Per rule blocking a dossier at a vendor's step (its kept count above zero), its first dossiers: a few rows of the
# partial index blocker_org_rule_vendor each, whatever the number of blocked dossiers.
BLOCKED_ROWS_SQL = f"""
SELECT r.rule, b.dossier_id, d.reference, c.name
FROM (SELECT rule FROM dossiers_blockercount
      WHERE organisation_id = %s AND rule <> '' AND transition NOT IN ({", ".join(f"'{s}'" for s in Blocker.CLIENT_STEPS)})
      GROUP BY rule HAVING SUM(count) > 0) r
CROSS JOIN LATERAL (
    SELECT b.dossier_id FROM dossiers_blocker b
    WHERE b.organisation_id = %s AND b.rule = r.rule
      AND NOT (b.transition IN ({", ".join(f"'{s}'" for s in Blocker.CLIENT_STEPS)}))
    ORDER BY b.dossier_id LIMIT {BLOCKED_ROWS_PER_RULE}) b
JOIN dossiers_dossier d ON d.id = b.dossier_id
JOIN dossiers_client c ON c.id = d.client_id
ORDER BY r.rule, b.dossier_id"""


def _first_blocked(org: int) -> list[tuple[str, int, str, str]]:
    """(rule, dossier id, reference, client name) of the first dossiers per rule, rule by rule. SQLite has no
    LATERAL: there the same rows are numbered by a window over the organisation's blocker rows (fine at its sizes)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(BLOCKED_ROWS_SQL, [org, org])
            return cursor.fetchall()
    rows = (Blocker.objects.filter(organisation_id=org).exclude(transition__in=Blocker.CLIENT_STEPS)
            .annotate(position=Window(RowNumber(), partition_by=[F("rule")], order_by=[F("dossier_id").asc()]))
            .filter(position__lte=BLOCKED_ROWS_PER_RULE).order_by("rule", "dossier_id")
            .values_list("rule", "dossier_id", "dossier__reference", "dossier__client__name"))
    return list(rows)


def _blocked_rows(org: int, counts: list[tuple[str, int]]) -> list[BlockedRule]:
    """Per rule blocking the organisation's dossiers, those waiting for the client left out (`counts`, kept), its
    count and its first dossiers, the oldest first (one query through an index: a few rows per rule). The dossiers
    waiting for the client are told apart by the step their blocker rows block (`Blocker.CLIENT_STEPS`), which every
    change of state refreshes."""
    grouped = {rule: BlockedRule(rule, rule_title(rule), n) for rule, n in counts}
    for rule, dossier_id, reference, client_name in _first_blocked(org):
        if rule in grouped:
            grouped[rule].dossiers.append(BlockedDossier(dossier_id, reference or f"#{dossier_id}", client_name))
    return sorted(grouped.values(), key=lambda group: (-group.count, group.rule))


def home(organisation, *, now=None) -> Home:
    """What needs action, in 4 queries whatever the number of dossiers: the kept counters (per state, avance due,
    blocked by a rule), the first dossiers blocked by each rule, the deadlines overdue or due within 30 days, the
    dossiers waiting for the client."""
    from . import deadlines as dl  # reports.deadlines builds on this module's date arithmetic

    now = now or timezone.now()
    today = timezone.localdate(now)
    org = organisation.pk
    kept = counters.counts_for(org, now=now, avance_days=AVANCE_DEADLINE_DAYS)
    by_state = kept["by_state"]
    state_counts = [(value, label, by_state.get(value, 0)) for value, label in State.choices]
    blocked_rules = _blocked_rows(org, kept["blocked_rules"])

    # The kept rows' statement written out (on PostgreSQL) and shaped at once, without the API address the page
    # never shows: the ORM took longer to compile the queryset than the database to answer it.
    shape = dl.Shaper(today=today, now=now, with_url=False)
    rows = dl.kept_read(organisation, today=today, due_before=today + timedelta(days=HOME_DEADLINE_DAYS)).fetch(
        0, HOME_ROWS + 1)
    deadlines = [shape(row) for row in rows[:HOME_ROWS]]
    # Overdue first (the rows come soonest first; an avance deadline passed this morning is dated today).
    deadlines.sort(key=lambda deadline: not deadline["overdue"])

    # What the page shows of them (reference, client, deployment date): one join, where the list's five cost more to
    # plan (about 7 ms on the largest organisation) than the rows cost to read.
    waiting = list(dossiers_of(org).select_related("client").filter(state__in=WAITING_FOR_CLIENT_STATES)
                   .only("id", "reference", "deployed_on", "client__name")
                   .order_by(F("deployed_on").asc(nulls_last=True), "id")[:HOME_ROWS])
    for dossier in waiting:
        dossier.age_days = (today - dossier.deployed_on).days if dossier.deployed_on else None
        dossier.overdue = dossier.age_days is not None and dossier.age_days > organisation.pending_va_days
    return Home(
        state_counts=state_counts, total=kept["total"], blocked_total=kept["blocked_total"], blocked_rules=blocked_rules,
        avance_due_count=kept["avance_due"],
        waiting_count=sum(by_state.get(state, 0) for state in WAITING_FOR_CLIENT_STATES), waiting=waiting,
        deadlines=deadlines, more_deadlines=len(rows) > HOME_ROWS, pending_va_days=organisation.pending_va_days,
    )
