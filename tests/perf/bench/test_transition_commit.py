"""A committed transition through the service against a committed raw UPDATE + INSERT on the same row.

The dossier goes round the avance's fix loop (request_avance_fix, then refile_avance, then again), so every run
commits a real step; the raw side writes the same row and one history row in its own committed transaction.
Two ways of timing ours:
- "as a request sees it": the outbox's after-response queue is open (what a web request does), so the notification's
  publication (in eager mode: the task itself, run in-process) is left out of the timed call and done afterwards;
- "notification inline": no request around the call, so the commit hook publishes (and runs) it at once, as every
  transition did before the after-response queue.

Where a committed transition's time went (cProfile and the captured statements, 5,000 generated dossiers, eager
mode, before the after-response queue): about half in the notification published by the commit hook and run
in-process (its task: a read of the entry, the members, the notifications' insert, the outbox message marked done:
five statements and as many ORM compilations); the rest in 7 statements (lock, role, history row, webhook
endpoints, UPDATE of every column, state counts, outbox row) of which the lock's planning (a 5-table join for
a one-row read: 0.5 ms of planning against 0.1 ms of execution) and the ORM's SQL compilation are the largest
parts; the blocker refresh read the documents the rules had just read. Now: the notification runs after the
response, the UPDATE names only the changed columns, the lock joins 3 tables (no couloir: 0.24 ms of planning),
the blocker refresh reuses the rules' facts. What was left then was mostly round trips (7 against the raw side's 2)
and the ORM's compilation of each statement.

Since: the role is read with the lock; the history row, the notification's outbox message and the dossier's UPDATE
are one statement; the lock is compiled once per shape; and the step, the state counts, the kept deadlines and the
webhook endpoints' read go in one PostgreSQL pipeline (the history row's id reserved with the lock), so the
database is waited for at BEGIN, the lock, the pipeline (and its Sync) and the COMMIT: 5 statements. Of what was
left, the kept deadlines' statement was the largest (its planning: 2 to 4 ms under load, against 0.2 ms of
execution).

Since: the lock and the kept deadlines are prepared on the server (segurtrack/prepared.py: planned once per
connection, then a generic plan) and psycopg no longer splits their text at its placeholders on every call
(both exceeded its cache's limits): 6.7 ms to 2.8 ms on the 200,000-dossier copy, same minute.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from dossiers import outbox, services
from organisations.models import Organisation

from .conftest import compare, count_queries

N = 200
LOOP = {"avance_filed": "request_avance_fix", "avance_to_fix": "refile_avance"}


def _dossier_id(organisation: Organisation) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM dossiers_dossier WHERE organisation_id = %s AND state = 'avance_filed' "
                       "ORDER BY history_seq DESC, id LIMIT 1", [organisation.pk])
        return cursor.fetchone()[0]


def _payload(name: str, today: str) -> dict:
    if name == "request_avance_fix":
        return {"on": today, "reason": "Pièce illisible"}
    return {"filed_on": today}


def _run(transition, *, deferred: list[int] | None):
    """ours: one committed step of the loop; with `deferred`, inside an after-response queue left undrained."""
    def ours():
        begin = getattr(outbox, "begin_request", None)
        if deferred is not None and begin is not None:
            begin()
        transition()
        if deferred is not None and begin is not None:
            deferred.extend(message_id for message_id, _context in outbox._request.pending or [])
            outbox._request.pending = None
    return ours


def _transition(pk: int, manager, today: str):
    def step():
        name = LOOP[_state(pk)]
        outcome = services.run_transition(pk, name, by=manager, data=_payload(name, today))
        assert outcome.dossier.state in LOOP
    return step


_STATES: dict[int, str] = {}


def _state(pk: int) -> str:
    """The loop's state, tracked here rather than read (a read would add a query to ours)."""
    if pk not in _STATES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT state FROM dossiers_dossier WHERE id = %s", [pk])
            _STATES[pk] = cursor.fetchone()[0]
    state = _STATES[pk]
    _STATES[pk] = "avance_to_fix" if state == "avance_filed" else "avance_filed"
    return state


def _raw_side(raw, pk: int, manager):
    def raw_side():
        with raw.transaction(), raw.cursor() as cursor:
            cursor.execute(
                "UPDATE dossiers_dossier SET state_changed_at = now(), updated_at = now(), "
                "history_seq = history_seq + 1, history_hash = %s WHERE id = %s RETURNING history_seq",
                ["0" * 64, pk])
            seq = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO dossiers_historyentry (dossier_id, seq, at, user_id, username, action, from_state, "
                "to_state, data, prev_hash, hash) VALUES (%s, %s, now(), %s, %s, 'bench_raw', 'avance_filed', "
                "'avance_filed', '{}', %s, %s)",
                [pk, seq, manager.pk, manager.username, "0" * 64, "1" * 64])
    return raw_side


def _publish(deferred: list[int]) -> None:
    for message_id in deferred:
        outbox.publish(message_id)
    deferred.clear()


def test_committed_transition_as_a_request_sees_it(raw, sized):
    organisation = sized[1]
    manager = get_user_model().objects.get(memberships__organisation=organisation, memberships__role="manager")
    pk = _dossier_id(organisation)
    today = timezone.localdate().isoformat()
    assert not transaction.get_connection().in_atomic_block, "the transitions must commit"
    deferred: list[int] = []
    ours = _run(_transition(pk, manager, today), deferred=deferred)
    n = count_queries(ours)
    result = compare("one transition committed, as a request sees it", sized, ours, _raw_side(raw, pk, manager),
                     n=N, target=3, queries=n,
                     notes="notification published after the response")
    _publish(deferred)
    print(f"\ncommitted transition, as a request sees it: {result.ratio:.2f}x raw, {n} queries")


def test_committed_transition_with_its_notification_inline(raw, sized):
    organisation = sized[1]
    manager = get_user_model().objects.get(memberships__organisation=organisation, memberships__role="manager")
    pk = _dossier_id(organisation)
    today = timezone.localdate().isoformat()
    ours = _run(_transition(pk, manager, today), deferred=None)
    n = count_queries(ours)
    result = compare("one transition committed, notification inline", sized, ours, _raw_side(raw, pk, manager),
                     n=N, target=None, queries=n,
                     notes="comparison: the eager notification runs in the call")
    print(f"\ncommitted transition, notification inline: {result.ratio:.2f}x raw, {n} queries")
