"""Blockers of the dossiers a client, solution or dispositif change affects: refreshed by a task, one locked dossier at a time.

A change to a client or a solution used to refresh every dossier inside the request, without their row locks: slow
(one PATCH took 46 s) and racing the transitions (IntegrityError on the blocker rows). The change now only records a
task in its transaction (outbox); the task (`blockers.refresh`) reads the affected dossiers' ids in chunks and
refreshes each one in its own short transaction under the dossier's row lock, the lock the transitions take. Running
it twice gives the same blockers (idempotent); a dossier that reached a final state meanwhile is skipped.
"""
from __future__ import annotations

from . import outbox, tasks
from .blockers import SCOPES


def schedule(scope: str, object_id: int) -> None:
    """Record the refresh in the current transaction; it runs after the commit (see dossiers.outbox)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    outbox.enqueue(tasks.refresh_blockers, [scope, object_id])
