"""What blocks a dossier's next step, stored as `Blocker` rows, and the row lock under which they are written.

The services refresh a dossier's blockers in the transaction of each change, under the dossier's row lock
(`lock`). A change to a client, a solution or a dispositif affects many dossiers: it only schedules a refresh
(`blocker_refresh.schedule`), and the task `dossiers.tasks.refresh_blockers` runs `refresh` after the commit.

This module imports neither the services nor the tasks, so both can import it: the task runs `refresh`, the
services run `lock` and `refresh_blockers`, and the services import the tasks (to enqueue them) without a circle.
"""
from __future__ import annotations

import threading

from django.db import transaction
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

from organisations.models import Membership
from segurtrack import prepared

from . import counters, rules
from .models import Blocker, Dossier, HistoryEntry
from .models.dossier import FINAL_STATES
from .payloads import solde_draft_payload

SELECT_RELATED = ("client", "solution", "dispositif", "dispositif__couloir")
CHUNK = 200
SCOPES = {"client": "client_id", "solution": "solution_id", "dispositif": "dispositif_id"}


# What the rules, the payloads and the transition's answer read (the couloir is read by pages, not by a step).
TRANSITION_RELATED = ("client", "solution", "dispositif")


def lock(dossier_id: int, related: tuple[str, ...] = SELECT_RELATED, *, role_of: int | None = None,
         organisation_id: int | None = None, reserve_history_id: bool = False) -> Dossier:
    """The dossier row, locked until the transaction ends (its row alone: the joined rows are read, not locked),
    with the relations `related` (what the rules read) and whether it has blockers; with `role_of` (a user id),
    also that user's role in the dossier's organisation as `member_role` (None when not a member), read in the
    same statement rather than in a second round trip. With `organisation_id`, another organisation's dossier is
    not found (Dossier.DoesNotExist), as a missing one, and its row is not locked. With `reserve_history_id`
    (PostgreSQL), the id of the history row the caller will write, as `next_history_id`, taken from its sequence
    in the same statement: the caller knows it before writing the row (a refused step leaves a gap, as a rollback
    does).

    Each join costs planning time on every call (the couloir's alone about a third of the statement's), so a caller
    that knows what it reads names only that. The statement is compiled once per shape (`_CompiledLock`): the
    ORM took longer to compile it than the database to run it."""
    connection = transaction.get_connection()
    if connection.get_autocommit():  # what select_for_update says outside a transaction
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    dossier_id = Dossier._meta.pk.get_prep_value(dossier_id)
    low, high = connection.ops.integer_field_range(Dossier._meta.pk.get_internal_type())
    if not low <= dossier_id <= high:  # as the ORM: an id beyond any id finds nothing
        raise Dossier.DoesNotExist("Dossier matching query does not exist.")
    reserve = reserve_history_id and connection.vendor == "postgresql"
    compiled = _CompiledLock.of(connection, related, role_of is not None, organisation_id is not None, reserve)
    return compiled.run(dossier_id, role_of, organisation_id)


def _lock_queryset(connection, related: tuple[str, ...], role_of: int | None,
                   organisation_id: int | None, reserve_history_id: bool = False) -> QuerySet[Dossier]:
    queryset = Dossier.objects.select_related(*related).annotate(
        has_blockers=Exists(Blocker.objects.filter(dossier_id=OuterRef("pk"))))
    if reserve_history_id:
        queryset = queryset.annotate(next_history_id=RawSQL(
            "nextval(pg_get_serial_sequence(%s, 'id'))", (HistoryEntry._meta.db_table,),
            output_field=BigIntegerField()))
    if role_of is not None:
        queryset = queryset.annotate(member_role=Subquery(
            Membership.objects.filter(user_id=role_of, organisation_id=OuterRef("organisation_id"))
            .order_by().values("role")[:1]))
    if connection.features.has_select_for_update_of:
        queryset = queryset.select_for_update(of=("self",))
    else:
        queryset = queryset.select_for_update()
    if organisation_id is not None:
        queryset = queryset.filter(organisation_id=organisation_id)
    return queryset.filter(pk=_STAND_INS[0])


# Stand-ins for the dossier, user and organisation of a compiled lock (never ids), replaced at each call.
_STAND_INS = (-1_000_000_001, -1_000_000_002, -1_000_000_003)


class _CompiledLock:
    """The lock's statement compiled once per connection and shape (the relations, with a role, with an
    organisation), with stand-in values; each call runs it with its own and builds the instances as the ORM does
    (`ModelIterable`: the dossier, its related rows, the annotations, each value through the field's converters).
    Per thread, as Django's connections are."""

    _local = threading.local()

    @classmethod
    def of(cls, connection, related: tuple[str, ...], with_role: bool, with_organisation: bool,
           reserve_history_id: bool) -> _CompiledLock:
        cache = cls._local.__dict__.setdefault("compiled", {})
        key = (related, with_role, with_organisation, reserve_history_id)
        compiled = cache.get(key)
        if compiled is None or compiled.connection is not connection:
            compiled = cache[key] = cls(connection, *key)
        return compiled

    def __init__(self, connection, related: tuple[str, ...], with_role: bool, with_organisation: bool,
                 reserve_history_id: bool):
        queryset = _lock_queryset(connection, related, _STAND_INS[1] if with_role else None,
                                  _STAND_INS[2] if with_organisation else None, reserve_history_id)
        self.connection = connection
        self.compiler = compiler = queryset.query.get_compiler(connection=connection)
        self.sql, params = compiler.as_sql()
        self.params = tuple(params)
        assert _STAND_INS[0] in self.params, "the dossier's id must be a parameter of the compiled lock"
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start:self.end]]
        self.populators = get_related_populators(klass_info, select, connection.alias)
        self.annotations = dict(compiler.annotation_col_map or {})
        self.converters = compiler.get_converters([s[0] for s in select[0:compiler.col_count]])

    def run(self, dossier_id: int, role_of: int | None, organisation_id: int | None) -> Dossier:
        values = dict(zip(_STAND_INS, (dossier_id, role_of, organisation_id)))
        params = [values[p] if type(p) is int and p in values else p for p in self.params]
        with prepared.cursor(self.connection) as cursor:  # planned once per connection, not on every call
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if not rows:
            raise Dossier.DoesNotExist("Dossier matching query does not exist.")
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        row = rows[0]
        dossier = Dossier.from_db(self.connection.alias, self.init_list, row[self.start:self.end])
        for populator in self.populators:
            populator.populate(row, dossier)
        for name, position in self.annotations.items():
            setattr(dossier, name, row[position])
        return dossier


def refresh_blockers(dossier: Dossier, known: rules.Context | None = None) -> list[str]:
    """Store the rules now blocking the dossier's next step (the solde draft counts for a solde). `known`: the
    context the change's own rules read (a transition's), whose facts still hold and are not read again."""
    payload = solde_draft_payload(dossier) if rules.NEXT_STEP.get(dossier.state) == "file_solde" else {}
    failures = rules.next_step_blockers(dossier, payload, known)
    transition = rules.NEXT_STEP.get(dossier.state, "")
    # The old rows go in one statement that returns their rules (none to delete when `lock` saw none), so the kept
    # blocked-by-rule counts move in the same transaction without a read.
    before = counters.delete_blockers(dossier)
    Blocker.objects.bulk_create([Blocker(dossier_id=dossier.pk, organisation_id=dossier.organisation_id,
                                         transition=transition, rule=f.rule) for f in failures])
    counters.record_blockers(dossier, before, [f.rule for f in failures], transition=transition)
    dossier.has_blockers = bool(failures)
    return [f.rule for f in failures]


def refresh_blockers_of(queryset: QuerySet[Dossier]) -> int:
    """Refresh every dossier of a queryset (after a change to a client, a solution or a PV pilote)."""
    count = 0
    for dossier in queryset.select_related(*SELECT_RELATED).exclude(state__in=FINAL_STATES).iterator(chunk_size=500):
        refresh_blockers(dossier)
        count += 1
    return count


def affected(scope: str, object_id: int) -> Q:
    return Q(**{SCOPES[scope]: object_id}) & ~Q(state__in=FINAL_STATES)


def refresh(scope: str, object_id: int, *, chunk: int | None = None) -> int:
    """Refresh the blockers of every open dossier of the scope, each in its own short transaction under its row
    lock (the lock the transitions take); returns how many were refreshed. Idempotent."""
    chunk = chunk or CHUNK
    done, after = 0, 0
    while True:
        ids = list(Dossier.objects.filter(affected(scope, object_id), pk__gt=after).order_by("pk")
                   .values_list("pk", flat=True)[:chunk])
        for dossier_id in ids:
            with transaction.atomic():
                try:
                    dossier = lock(dossier_id)
                except Dossier.DoesNotExist:  # deleted meanwhile
                    continue
                if dossier.state in FINAL_STATES:
                    continue
                refresh_blockers(dossier)
                done += 1
        if len(ids) < chunk:
            return done
        after = ids[-1]
