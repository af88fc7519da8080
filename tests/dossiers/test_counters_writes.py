"""What keeping the counters costs a transition (a constant number of statements), and that concurrent
transactions never lose an increment (PostgreSQL row locks, two threads)."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from dossiers import counters, services
from dossiers.models import BlockerCount, PendingVaDay, State, StateCount

from ..factories import SolutionFactory, valid_payload, walk_to

COUNTER_TABLES = (StateCount._meta.db_table, BlockerCount._meta.db_table, PendingVaDay._meta.db_table)


def statements(action) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        action()
    return [query["sql"] for query in captured.captured_queries]


def transition(dossier, name: str, membership):
    return lambda: services.run_transition(dossier.pk, name, by=membership.user, data=valid_payload(name, dossier))


@pytest.mark.django_db
@pytest.mark.parametrize(("state", "name", "added"), [
    # The dossier changes cell and gains a blocker (the VA document is missing): one upsert per table, its new
    # pending-VA cell riding in the state cells' statement.
    (State.AVANCE_PAID, "mark_deployed", 2),
    # The dossier changes cell, its blockers (none) stay: one upsert.
    (State.AVANCE_FILED, "validate_avance", 1),
])
def test_a_transition_adds_a_constant_number_of_statements_for_its_counters(manager_membership, monkeypatch, state,
                                                                             name, added):
    plain, counted = (walk_to(state, membership=manager_membership) for _ in range(2))
    with monkeypatch.context() as patched:
        patched.setattr(counters, "record_change", lambda *args, **kwargs: None)
        patched.setattr(counters, "record_blockers", lambda *args, **kwargs: None)
        without = statements(transition(plain, name, manager_membership))
    kept = statements(transition(counted, name, manager_membership))
    extra = [sql for sql in kept if any(table in sql for table in COUNTER_TABLES)]
    assert len(kept) - len(without) == len(extra) == added
    # writes, no reads (the pending-VA cells' upsert in a WITH before the state cells')
    assert all(sql.startswith(("INSERT INTO", "WITH kept_too AS (INSERT INTO")) and "ON CONFLICT" in sql
               for sql in extra)
    if name == "mark_deployed":
        assert [sql for sql in extra if PendingVaDay._meta.db_table in sql and StateCount._meta.db_table in sql]
    counted.refresh_from_db()
    assert counters.kept(manager_membership.organisation)["states"][
        (counted.dispositif_id, counted.solution_id, counted.state)][0] == 1


@pytest.mark.django_db
def test_a_blocker_refresh_that_changes_nothing_writes_no_counter(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)  # blocked: the VA document is missing
    done = statements(lambda: services.update_dossier(dossier.pk, by=manager_membership.user,
                                                      changes={"installed_version": "5.3"}))
    assert not [sql for sql in done if any(table in sql for table in COUNTER_TABLES)]
    assert counters.kept(manager_membership.organisation)["blockers"] == {("sign_va", "va.document"): 1,
                                                                    ("sign_va", counters.ANY_RULE): 1}


# --- two threads, PostgreSQL -------------------------------------------------------------------------------------

def _run(errors: list, action) -> None:
    try:
        action()
    except Exception as error:  # noqa: BLE001 — reported by the test
        errors.append(error)
    finally:
        connection.close()


def _someone_waits_on_a_lock() -> bool:
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_transactions_adding_to_a_new_cell_at_once_both_count(organisation):
    solution = SolutionFactory(organisation=organisation)
    dossier = counters.Snapshot(organisation.pk, solution.dispositif_id, solution.pk, State.DRAFT,
                                Decimal("10.50"), Decimal("0.00"), Decimal("0.00"))
    added, release = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def first() -> None:
        with transaction.atomic():
            counters.Deltas().move(None, dossier).apply()
            added.set()
            release.wait(20)  # holds its uncounted-yet insert of the cell open

    def second() -> None:
        added.wait(20)
        with transaction.atomic():
            counters.Deltas().move(None, dossier).apply()  # the same new cell: waits for the first to commit

    threads = [threading.Thread(target=_run, args=(errors, action)) for action in (first, second)]
    for thread in threads:
        thread.start()
    try:
        assert added.wait(20)
        assert _someone_waits_on_a_lock(), "the second transaction did not wait for the first"
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=20)
    assert not errors
    cell = StateCount.objects.get(organisation=organisation, solution=solution, state=State.DRAFT)
    assert (cell.count, cell.declared_amount) == (2, Decimal("21.00"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_transitions_of_one_organisation_in_two_threads_keep_exact_counts(manager_membership):
    solution = SolutionFactory(organisation=manager_membership.organisation)
    dossiers = [walk_to(State.AVANCE_FILED, membership=manager_membership, solution=solution) for _ in range(6)]
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def validate(batch) -> None:
        barrier.wait(timeout=20)
        for dossier in batch:
            transition(dossier, "validate_avance", manager_membership)()

    threads = [threading.Thread(target=_run, args=(errors, lambda b=batch: validate(b)))
               for batch in (dossiers[0::2], dossiers[1::2])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    organisation = manager_membership.organisation
    assert counters.kept(organisation) == counters.recompute(organisation)
    assert counters.kept(organisation)["states"] == {
        (solution.dispositif_id, solution.pk, State.AVANCE_VALIDATED): (6, Decimal("60000.00"), 0, 0)}
