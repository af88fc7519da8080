"""What blocks a dossier's next step, stored as `Blocker` rows, and the row lock under which they are written.

The services refresh a dossier's blockers in the transaction of each change, under the dossier's row lock
(`lock`). A change to a client, a solution or a dispositif affects many dossiers: it only schedules a refresh
(`blocker_refresh.schedule`), and the task `dossiers.tasks.refresh_blockers` runs `refresh` after the commit.

This module imports neither the services nor the tasks, so both can import it: the task runs `refresh`, the
services run `lock` and `refresh_blockers`, and the services import the tasks (to enqueue them) without a circle.
"""
from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from . import counters, rules
from .models import Blocker, Dossier
from .models.dossier import FINAL_STATES
from .payloads import solde_draft_payload

SELECT_RELATED = ("client", "solution", "dispositif", "dispositif__couloir")
CHUNK = 200
SCOPES = {"client": "client_id", "solution": "solution_id", "dispositif": "dispositif_id"}


# What the rules, the payloads and the transition's answer read (the couloir is read by pages, not by a step).
TRANSITION_RELATED = ("client", "solution", "dispositif")


def lock(dossier_id: int, related: tuple[str, ...] = SELECT_RELATED) -> Dossier:
    """The dossier row, locked until the transaction ends (its row alone: the joined rows are read, not locked),
    with the relations `related` (what the rules read) and whether it has blockers.

    Each join costs planning time on every call (the couloir's alone about a third of the statement's), so a caller
    that knows what it reads names only that."""
    queryset = Dossier.objects.select_related(*related).annotate(
        has_blockers=Exists(Blocker.objects.filter(dossier_id=OuterRef("pk"))))
    if transaction.get_connection().features.has_select_for_update_of:
        queryset = queryset.select_for_update(of=("self",))
    else:
        queryset = queryset.select_for_update()
    return queryset.get(pk=dossier_id)


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
