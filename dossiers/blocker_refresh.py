"""Blockers of the dossiers a client, solution or dispositif change affects: refreshed by a task, one locked dossier at a time.

A change to a client or a solution used to refresh every dossier inside the request, without their row locks: slow
(one PATCH took 46 s) and racing the transitions (IntegrityError on the blocker rows). The change now only records a
task in its transaction (outbox); the task reads the affected dossiers' ids in chunks and refreshes each one in its
own short transaction under the dossier's row lock, the lock the transitions take. Running it twice gives the same
blockers (idempotent); a dossier that reached a final state meanwhile is skipped.
"""
from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from . import outbox
from .models import Dossier
from .models.dossier import FINAL_STATES

CHUNK = 200
SCOPES = {"client": "client_id", "solution": "solution_id", "dispositif": "dispositif_id"}
TASK = "dossiers.tasks.refresh_blockers"


def schedule(scope: str, object_id: int) -> None:
    """Record the refresh in the current transaction; it runs after the commit (see dossiers.outbox)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    outbox.enqueue(TASK, [scope, object_id])


def affected(scope: str, object_id: int) -> Q:
    return Q(**{SCOPES[scope]: object_id}) & ~Q(state__in=FINAL_STATES)


def refresh(scope: str, object_id: int, *, chunk: int = CHUNK) -> int:
    """Refresh the blockers of every open dossier of the scope; returns how many were refreshed."""
    from .services import _lock, refresh_blockers

    done, after = 0, 0
    while True:
        ids = list(Dossier.objects.filter(affected(scope, object_id), pk__gt=after).order_by("pk")
                   .values_list("pk", flat=True)[:chunk])
        for dossier_id in ids:
            with transaction.atomic():
                try:
                    dossier = _lock(dossier_id)
                except Dossier.DoesNotExist:  # deleted meanwhile
                    continue
                if dossier.state in FINAL_STATES:
                    continue
                refresh_blockers(dossier)
                done += 1
        if len(ids) < chunk:
            return done
        after = ids[-1]
