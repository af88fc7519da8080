"""The database connection lost in the middle of a write: the caller gets an error, nothing is half-applied.

On PostgreSQL the drop is real: at a chosen point inside the service, another connection terminates this
connection's server process (`pg_terminate_backend`) and waits until it is gone, so the service's next
statement (or its COMMIT) meets a dead socket. SQLite has no server process to kill: there the same
points raise the `OperationalError` a dropped connection would, which proves the rollback but not the
driver's behaviour on a dead socket (that part is PostgreSQL-only).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError, connection, connections

from dossiers import rules, services
from dossiers.services import transitions
from dossiers.history import verify_chain
from dossiers.models import (
    Blocker, Document, Dossier, HistoryEntry, Notification, OutboxMessage, PvPilote, State,
)

from ..factories import attach, pdf_upload, valid_payload, walk_to
from .conftest import on_postgres, stored_files

# serialized_rollback: the flush after a transactional test would otherwise empty the reference data.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
DROPPED = (OperationalError, InterfaceError)


class Drop:
    """Drops the default connection when called (once), and remembers that it did."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.done = False

    def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        if not on_postgres():
            raise OperationalError("simulated: server closed the connection unexpectedly")
        self.pid = connection.connection.info.backend_pid
        killer = connections.create_connection("default")
        try:
            with killer.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [self.pid])
                assert cursor.fetchone()[0] is True
                for _ in range(200):
                    cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [self.pid])
                    if cursor.fetchone() is None:
                        break
                    time.sleep(0.02)
                else:
                    pytest.fail(f"backend {self.pid} still alive after pg_terminate_backend")
        finally:
            killer.close()


def dropping_before(original: Callable, drop: Drop) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        drop()
        return original(*args, **kwargs)
    return wrapper


def snapshot(dossier_id: int) -> dict[str, Any]:
    """Everything a transition writes, read on a fresh connection."""
    return {
        "dossier": Dossier.objects.filter(pk=dossier_id).values().get(),
        "history": list(HistoryEntry.objects.filter(dossier_id=dossier_id).order_by("seq").values_list(
            "seq", "action", "from_state", "to_state", "hash")),
        "documents": list(Document.objects.filter(dossier_id=dossier_id).order_by("pk").values_list(
            "pk", "kind", "sha256", "file")),
        "blockers": sorted(Blocker.objects.filter(dossier_id=dossier_id).values_list("transition", "rule")),
        "outbox": OutboxMessage.objects.count(),
        "notifications": Notification.objects.count(),
    }


def expected_blockers(dossier: Dossier) -> list[tuple[str, str]]:
    transition = rules.NEXT_STEP.get(dossier.state, "")
    draft = services.solde_draft_payload(dossier) if transition == "file_solde" else {}
    return sorted((transition, f.rule) for f in rules.next_step_blockers(dossier, draft))


@pytest.fixture
def deployed_dossier(manager_membership):
    """A deployed dossier with its VA attached: sign_va writes the dossier, a history row, blockers and the outbox."""
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    attach(dossier, "va", manager_membership.user)
    return Dossier.objects.get(pk=dossier.pk)


def patch_drop_point(monkeypatch, point: str, drop: Drop) -> None:
    # The history row, the dossier's UPDATE and the outbox row are one statement (`transitions._save_step`).
    if point == "before the history row":
        monkeypatch.setattr(transitions, "next_history_entry", dropping_before(transitions.next_history_entry, drop))
    elif point == "during the dossier save":
        monkeypatch.setattr(transitions, "_save_step", dropping_before(transitions._save_step, drop))
    elif point == "after the save, during the blockers refresh":
        monkeypatch.setattr(transitions, "refresh_blockers", dropping_before(services.refresh_blockers, drop))
    elif point == "at the outbox row":  # written by the step's statement: the drop meets the webhook listener
        monkeypatch.setattr(transitions, "history_saved", dropping_before(transitions.history_saved, drop))
    elif point == "at COMMIT":
        # The outermost atomic block's commit: every statement sent, the COMMIT meets a dead connection.
        wrapper = connections["default"]
        monkeypatch.setattr(wrapper, "commit", dropping_before(wrapper.commit, drop))
    else:
        raise AssertionError(point)


DROP_POINTS = ["before the history row", "during the dossier save", "after the save, during the blockers refresh",
               "at the outbox row", "at COMMIT"]


@pytest.mark.slow
@pytest.mark.parametrize("point", DROP_POINTS)
def test_a_connection_dropped_during_a_transition_applies_nothing_and_a_retry_succeeds(
        monkeypatch, manager, deployed_dossier, point):
    before = snapshot(deployed_dossier.pk)
    payload = valid_payload("sign_va", deployed_dossier)
    drop = Drop()
    with monkeypatch.context() as patched:
        patch_drop_point(patched, point, drop)
        with pytest.raises(DROPPED):
            services.run_transition(deployed_dossier.pk, "sign_va", by=manager, data=payload)
    assert drop.done, "the drop point was never reached"
    if on_postgres():
        # Django dropped the dead connection (and may already have opened another one).
        assert drop.pid is not None
        assert connection.connection is None or connection.connection.info.backend_pid != drop.pid

    connection.close()  # the rest reads through a fresh connection
    assert snapshot(deployed_dossier.pk) == before
    assert verify_chain(deployed_dossier.pk) == []

    outcome = services.run_transition(deployed_dossier.pk, "sign_va", by=manager, data=payload)
    dossier = Dossier.objects.get(pk=deployed_dossier.pk)
    assert outcome.dossier.state == dossier.state == State.VA_SIGNED
    after = snapshot(dossier.pk)
    assert after["history"][:-1] == before["history"]
    assert after["history"][-1][1:4] == ("sign_va", State.DEPLOYED, State.VA_SIGNED)
    assert (dossier.history_seq, dossier.history_hash) == (after["history"][-1][0], after["history"][-1][4])
    assert after["outbox"] == before["outbox"] + 1
    assert after["blockers"] == expected_blockers(dossier) != before["blockers"]
    assert verify_chain(dossier.pk) == []


@pytest.mark.parametrize("point", ["during the document row", "at COMMIT"])
def test_a_connection_dropped_while_adding_a_document_leaves_neither_a_row_nor_a_file(
        monkeypatch, manager, deployed_dossier, point):
    before = snapshot(deployed_dossier.pk)
    files_before = stored_files()
    drop = Drop()
    with monkeypatch.context() as patched:
        if point == "at COMMIT":
            wrapper = connections["default"]
            patched.setattr(wrapper, "commit", dropping_before(wrapper.commit, drop))
        else:
            patched.setattr(Document, "save", dropping_before(Document.save, drop))
        with pytest.raises(DROPPED):
            services.add_document(deployed_dossier.pk, by=manager, kind="invoice", upload=pdf_upload("facture.pdf"))
    assert drop.done

    connection.close()
    assert snapshot(deployed_dossier.pk) == before
    assert verify_chain(deployed_dossier.pk) == []
    assert stored_files() == files_before, "a file was left on disk for a document that does not exist"

    document = services.add_document(deployed_dossier.pk, by=manager, kind="invoice", upload=pdf_upload("facture.pdf"))
    assert set(stored_files()) == set(files_before) | {Path(document.file.path)}
    assert verify_chain(deployed_dossier.pk) == []


def test_a_connection_dropped_at_commit_while_adding_a_pv_pilote_leaves_neither_a_row_nor_a_file(
        monkeypatch, manager, deployed_dossier):
    solution = deployed_dossier.solution
    pv_pilotes = list(PvPilote.objects.filter(solution=solution).values_list("pk", flat=True))
    files_before = stored_files()
    drop = Drop()
    with monkeypatch.context() as patched:
        wrapper = connections["default"]
        patched.setattr(wrapper, "commit", dropping_before(wrapper.commit, drop))
        with pytest.raises(DROPPED):
            services.add_pv_pilote(solution, by=manager, signed_on=date(2024, 6, 1), status="validated",
                                   upload=pdf_upload("pv.pdf"))
    assert drop.done

    connection.close()
    assert list(PvPilote.objects.filter(solution=solution).values_list("pk", flat=True)) == pv_pilotes
    assert stored_files() == files_before
