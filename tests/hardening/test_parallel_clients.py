"""Thirty-two API clients at once on four shared dossiers: no lost update, no duplicate history row, no 5xx.

Each client is a thread with its own APIClient and its own database connection, doing a fixed mix of
uploads, scenario and reference changes, reads, "next step" transitions (with and without an
Idempotency-Key shared by the clients that saw the same state), and changes to the dossiers' clients and
to their shared solution, whose blocker refresh runs while the transitions do. Afterwards each dossier's history is
replayed from its creation row: every change must start from the value the previous one left, every
transition from the state the previous one reached, and the replay must land on the dossier as stored.

On PostgreSQL the requests really run at once (the dossier's row lock decides). SQLite has no row locks
and its shared in-memory test database refuses concurrent writers, so there the same clients take turns
(one request at a time): a weaker proof, the same assertions.
"""
from __future__ import annotations

import threading
from collections import Counter, defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field

import pytest
from django.db import connection
from rest_framework.test import APIClient

from dossiers import rules, services
from dossiers.history import verify_chain
from dossiers.models import Blocker, Document, Dossier, HistoryEntry, OutboxMessage, State
from dossiers.payloads import TRANSITIONS
from organisations.models import Role

from ..factories import (
    ClientFactory, MembershipFactory, PvPiloteFactory, SolutionFactory, attach, pdf_upload, token_for, valid_payload,
)
from .conftest import on_postgres, url

# serialized_rollback: the flush after a transactional test would otherwise empty the reference data.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CLIENTS = 32
DOSSIERS = 4
OPERATIONS_PER_CLIENT = 10
# The main route, one step after the other (no fix loop, no cancellation): the replay checks each step.
MAIN_NEXT = {
    State.DRAFT: "sign_bdc", State.BDC_SIGNED: "file_avance", State.AVANCE_FILED: "validate_avance",
    State.AVANCE_VALIDATED: "record_avance_payment", State.AVANCE_PAID: "mark_deployed",
    State.DEPLOYED: "sign_va", State.VA_SIGNED: "file_solde", State.SOLDE_FILED: "validate_solde",
    State.SOLDE_VALIDATED: "record_solde_payment",
}
# Transitions whose payload also sets the scenario.
SETS_SCENARIO = {"file_avance", "refile_avance", "sign_va"}
# Ordered so that every dossier (position modulo DOSSIERS) sees transitions and the other operations.
MIX = ["transition", "patch_scenario", "upload", "transition_with_key", "patch_client", "patch_reference",
       "transition", "upload", "patch_scenario", "transition_with_key", "read", "patch_solution"]
UPLOAD_KINDS = ["other", "bdc", "va", "invoice"]


@dataclass
class Log:
    """What the clients were answered, appended from every thread (list.append is atomic)."""

    statuses: list[tuple[str, str, int]] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    # (dossier id, transition name, replayed?) for each 200 to a transition
    transitions_ok: list[tuple[int, str, bool]] = field(default_factory=list)
    # (client, dossier id, value) for each 200 to a PATCH, in each client's order
    scenarios_ok: list[tuple[int, int, str]] = field(default_factory=list)
    references_ok: list[tuple[int, int, str]] = field(default_factory=list)
    documents_ok: list[tuple[int, int]] = field(default_factory=list)
    # (client or solution id, name) for each 200 to a PATCH of a client or of the solution
    parties_ok: list[tuple[str, int, str]] = field(default_factory=list)


@pytest.fixture
def shared_dossiers(manager_membership):
    """Four dossiers of one organisation at the start of the route, every document each step needs attached."""
    organisation, user = manager_membership.organisation, manager_membership.user
    solution = SolutionFactory(organisation=organisation)
    PvPiloteFactory(solution=solution)
    dossiers = []
    for _ in range(DOSSIERS):
        dossier = services.create_dossier(organisation=organisation, by=user, client=ClientFactory(
            organisation=organisation), solution=solution, scenario="Scénario 0")
        for kind in ("bdc", "va", "invoice"):
            attach(dossier, kind, user)
        dossiers.append(Dossier.objects.get(pk=dossier.pk))
    return dossiers


def run_clients(tokens: list[str], dossiers: list[Dossier]) -> Log:
    payloads = {d.pk: {name: valid_payload(name, d) for name in MAIN_NEXT.values()} for d in dossiers}
    log = Log()
    barrier = threading.Barrier(len(tokens))
    one_at_a_time = threading.Lock() if connection.vendor == "sqlite" else nullcontext()

    def send(client: APIClient, method: str, address: str, **kwargs):
        with one_at_a_time:
            response = getattr(client, method)(address, **kwargs)
        log.statuses.append((method.upper(), address, response.status_code))
        return response

    def work(index: int, token: str) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            barrier.wait(timeout=60)
            for step in range(OPERATIONS_PER_CLIENT):
                dossier_id = dossiers[(index + step) % len(dossiers)].pk
                operation = MIX[(index + step) % len(MIX)]
                detail = url("dossier-detail", dossier_id)
                if operation.startswith("transition"):
                    state = send(client, "get", detail).json()["state"]
                    name = MAIN_NEXT.get(state)
                    if name is None:
                        continue
                    headers = {"Idempotency-Key": f"{dossier_id}:{state}:{name}"} if operation.endswith("key") else {}
                    response = send(client, "post", url("dossier-transition", dossier_id, name),
                                    data=payloads[dossier_id][name], format="json", headers=headers)
                    if response.status_code == 200:
                        log.transitions_ok.append(
                            (dossier_id, name, response.headers.get("Idempotent-Replayed") == "true"))
                elif operation == "patch_scenario":
                    value = f"Scénario client {index} n°{step}"
                    response = send(client, "patch", detail, data={"scenario": value}, format="json")
                    if response.status_code == 200:
                        assert response.json()["scenario"] == value
                        log.scenarios_ok.append((index, dossier_id, value))
                elif operation == "patch_reference":
                    value = f"REF-{index}-{step}"
                    response = send(client, "patch", detail, data={"reference": value}, format="json")
                    if response.status_code == 200:
                        log.references_ok.append((index, dossier_id, value))
                elif operation in ("patch_client", "patch_solution"):
                    # A harmless name change: the change itself is what refreshes every dossier's blockers.
                    dossier = dossiers[(index + step) % len(dossiers)]
                    kind, target = ("client", dossier.client_id) if operation == "patch_client" else (
                        "solution", dossier.solution_id)
                    value = f"{kind.capitalize()} {index}-{step}"
                    response = send(client, "patch", url(f"{kind}-detail", target), data={"name": value},
                                    format="json")
                    if response.status_code == 200:
                        log.parties_ok.append((kind, target, value))
                elif operation == "upload":
                    kind = UPLOAD_KINDS[(index + step) % len(UPLOAD_KINDS)]
                    content = b"%PDF-1.4\n% client " + f"{index}-{step}".encode() + b"\n%%EOF\n"
                    response = send(client, "post", url("document-list", dossier_id), format="multipart",
                                    data={"kind": kind, "file": pdf_upload(f"{kind}-{index}-{step}.pdf", content)})
                    if response.status_code == 201:
                        log.documents_ok.append((dossier_id, response.json()["id"]))
                else:
                    for name in ("dossier-detail", "dossier-history", "dossier-checklist", "document-list"):
                        send(client, "get", url(name, dossier_id))
        except Exception as error:  # the test client re-raises a view's exception (a 500) in this thread
            log.crashes.append(f"client {index}: {type(error).__name__}: {str(error)[:300]}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, token)) for i, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a client is still running after 3 minutes"
    return log


def replay(entries: list[HistoryEntry]) -> tuple[str, str, str]:
    """Walk the history from its creation row; every row must start where the previous one left the dossier."""
    create = entries[0]
    assert create.action == "create" and create.seq == 1
    state, scenario, reference = create.to_state, create.data["scenario"], create.data["reference"]
    for entry in entries[1:]:
        assert entry.from_state == state, f"row {entry.seq} ({entry.action}) starts from a state already left"
        if entry.action in TRANSITIONS:
            assert MAIN_NEXT.get(state) == entry.action, f"row {entry.seq}: {entry.action} from {state}"
            assert entry.to_state != state
            state = entry.to_state
            if entry.action in SETS_SCENARIO and entry.data.get("scenario"):
                scenario = entry.data["scenario"]
        else:
            assert entry.to_state == state
        if entry.action == "change_scenario":
            assert entry.data["from"] == scenario, f"row {entry.seq} overwrote a scenario it had not read"
            scenario = entry.data["to"]
        if entry.action == "change_reference":
            assert entry.data["from"] == reference, f"row {entry.seq} overwrote a reference it had not read"
            reference = entry.data["to"]
    return state, scenario, reference


def in_client_order(changes: list[tuple[int, int, str]], dossier_id: int, logged: list[str]) -> None:
    """Each successful PATCH is in the history once, and one client's changes appear in the order it made them."""
    position = {value: i for i, value in enumerate(logged)}
    assert len(position) == len(logged), "one change logged twice"
    by_client: dict[int, list[str]] = defaultdict(list)
    for client, dossier, value in changes:
        if dossier == dossier_id:
            by_client[client].append(value)
    for client, values in by_client.items():
        assert all(value in position for value in values), f"client {client}: a 200 PATCH missing from the history"
        assert [position[v] for v in values] == sorted(position[v] for v in values), f"client {client}: out of order"
    assert sum(len(v) for v in by_client.values()) == len(logged), "a change in the history nobody was answered 200"


@pytest.mark.slow
def test_thirty_two_parallel_clients_lose_no_update_and_keep_every_history_chain_sound(
        manager_membership, shared_dossiers):
    organisation = manager_membership.organisation
    tokens = [token_for(manager_membership)] + [
        token_for(MembershipFactory(organisation=organisation, role=Role.MANAGER)) for _ in range(CLIENTS - 1)]
    documents_before = {d.pk: set(d.documents.values_list("pk", flat=True)) for d in shared_dossiers}

    log = run_clients(tokens, shared_dossiers)

    assert not log.crashes, log.crashes
    statuses = Counter(status for _, _, status in log.statuses)
    assert all(200 <= status < 500 for status in statuses), statuses
    assert statuses[200] > 0 and len(log.statuses) >= CLIENTS * OPERATIONS_PER_CLIENT
    patched = Counter(kind for kind, _, _ in log.parties_ok)
    assert patched["client"] > 0 and patched["solution"] > 0, patched  # changed while the transitions ran
    for dossier in shared_dossiers:
        dossier.refresh_from_db()
        entries = list(HistoryEntry.objects.filter(dossier=dossier).order_by("seq"))
        # No duplicate row, no gap: the unique (dossier, seq) held and every append saw the previous head.
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        assert (dossier.history_seq, dossier.history_hash) == (entries[-1].seq, entries[-1].hash)
        assert verify_chain(dossier.pk) == []

        state, scenario, reference = replay(entries)
        assert (dossier.state, dossier.scenario, dossier.reference) == (state, scenario, reference)

        # Each state change happened once: one history row per first (not replayed) 200, and vice versa.
        moves = [e.action for e in entries if e.action in TRANSITIONS]
        answered = [name for pk, name, replayed in log.transitions_ok if pk == dossier.pk and not replayed]
        assert Counter(moves) == Counter(answered) and len(set(moves)) == len(moves)
        assert moves, "no transition went through on this dossier"
        replays = [name for pk, name, replayed in log.transitions_ok if pk == dossier.pk and replayed]
        assert set(replays) <= set(moves)
        # One notification queued per transition, in the transition's own transaction.
        transition_rows = sorted(e.pk for e in entries if e.action in TRANSITIONS)
        queued = sorted(m.args[0] for m in OutboxMessage.objects.filter(task_name="dossiers.tasks.notify_history_entry")
                        if m.args and m.args[0] in {e.pk for e in entries})
        assert queued == transition_rows

        in_client_order(log.scenarios_ok, dossier.pk, [e.data["to"] for e in entries if e.action == "change_scenario"])
        in_client_order(log.references_ok, dossier.pk,
                        [e.data["to"] for e in entries if e.action == "change_reference"])

        # Every upload answered 201 is stored once, with its history row; nothing else was stored.
        uploaded = {doc for pk, doc in log.documents_ok if pk == dossier.pk}
        stored = set(Document.objects.filter(dossier=dossier).values_list("pk", flat=True))
        assert stored == documents_before[dossier.pk] | uploaded
        assert sorted(e.data["document"] for e in entries if e.action == "add_document") == sorted(stored)

        # The blockers are those of the state the dossier ended in, not of a state a concurrent writer left.
        draft = services.solde_draft_payload(dossier) if rules.NEXT_STEP.get(dossier.state) == "file_solde" else {}
        expected = {(rules.NEXT_STEP.get(dossier.state, ""), f.rule) for f in rules.next_step_blockers(dossier, draft)}
        assert set(Blocker.objects.filter(dossier=dossier).values_list("transition", "rule")) == expected
    if on_postgres():
        # The requests did overlap: some clients fired a step another had just taken.
        assert statuses[409] > 0, statuses
