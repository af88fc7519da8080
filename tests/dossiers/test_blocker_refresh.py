"""A client or solution change refreshes its dossiers' blockers in a task: chunked, under each row lock, idempotent."""
from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from dossiers import blocker_refresh, blockers, rules, services, tasks
from dossiers.models import Blocker, Client, Dossier, OutboxMessage, State

from ..factories import ClientFactory, SolutionFactory, pdf_upload, token_for, walk_to


def expected_blockers(dossier: Dossier) -> set[tuple[str, str]]:
    dossier = Dossier.objects.select_related(*services.SELECT_RELATED).get(pk=dossier.pk)
    transition = rules.NEXT_STEP.get(dossier.state, "")
    draft = services.solde_draft_payload(dossier) if transition == "file_solde" else {}
    return {(transition, f.rule) for f in rules.next_step_blockers(dossier, draft)}


def stored_blockers(dossier: Dossier) -> set[tuple[str, str]]:
    return set(Blocker.objects.filter(dossier=dossier).values_list("transition", "rule"))


def drafts(client: Client, count: int) -> list[Dossier]:
    solution = SolutionFactory(organisation=client.organisation)
    return Dossier.objects.bulk_create([
        Dossier(organisation=client.organisation, client=client, solution=solution,
                dispositif_id=solution.dispositif_id, reference=f"DRAFT-{client.pk}-{i}") for i in range(count)])


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 30])
def test_a_client_patch_only_queues_the_refresh_whatever_its_number_of_dossiers(
        manager_membership, django_assert_max_num_queries, django_capture_on_commit_callbacks, count):
    client = ClientFactory(organisation=manager_membership.organisation)
    drafts(client, count)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(manager_membership)}")
    address = f"/api/v1/clients/{client.pk}/"
    # 15, plus the client's dossiers locked before its row changes (deadlines.lock_party), the rename reaching the
    # dossiers' kept client name (one UPDATE), the client's kept deadlines (its dossiers locked again, then their
    # rows replaced): 19, whatever the number of dossiers.
    with django_capture_on_commit_callbacks(execute=False) as callbacks, django_assert_max_num_queries(19):
        response = api.patch(address, {"name": "Centre renommé"}, format="json")
    assert response.status_code == 200
    assert not Blocker.objects.filter(dossier__client=client).exists()  # nothing refreshed inside the request
    message = OutboxMessage.objects.get(task_name=tasks.refresh_blockers.name)
    assert message.args == ["client", client.pk] and len(callbacks) == 1
    assert set(Dossier.objects.filter(client=client).values_list("client_name", flat=True)) == {"Centre renommé"}


@pytest.mark.django_db
def test_the_task_refreshes_every_open_dossier_in_chunks_and_is_idempotent(manager_membership, monkeypatch):
    monkeypatch.setattr(blockers, "CHUNK", 2)
    client = ClientFactory(organisation=manager_membership.organisation)
    paid = walk_to(State.SOLDE_PAID, membership=manager_membership, client=client)
    open_ones = drafts(client, 5)
    Client.objects.filter(pk=client.pk).update(finess_geo="", siret="")  # now every open dossier is blocked
    other = walk_to(State.DRAFT, membership=manager_membership)  # another client's dossier: untouched
    Blocker.objects.all().delete()

    assert tasks.refresh_blockers("client", client.pk) == 5
    for dossier in open_ones:
        assert stored_blockers(dossier) == expected_blockers(dossier)
        assert ("sign_bdc", "client.identified") in stored_blockers(dossier)
    assert stored_blockers(paid) == set() and stored_blockers(other) == set()

    assert tasks.refresh_blockers("client", client.pk) == 5  # a second delivery changes nothing
    assert all(stored_blockers(d) == expected_blockers(d) for d in open_ones)
    assert Blocker.objects.count() == sum(len(expected_blockers(d)) for d in open_ones)


@pytest.mark.django_db
def test_a_solution_scope_refreshes_its_dossiers_and_an_unknown_scope_is_refused(manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    Blocker.objects.all().delete()
    assert tasks.refresh_blockers("solution", dossier.solution_id) == 1
    assert stored_blockers(dossier) == expected_blockers(dossier) != set()
    with pytest.raises(ValueError):
        blocker_refresh.schedule("organisation", 1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_refresh_waits_for_the_dossier_row_lock_and_writes_the_blockers_of_the_state_it_finds(
        manager_membership):
    """A transition holds the row lock: the refresh waits, then refreshes from the state the transition left."""
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    services.add_document(dossier.pk, by=manager_membership.user, kind="bdc",
                          upload=pdf_upload("bdc.pdf"))
    holder = connections.create_connection("default")
    outcome: dict[str, object] = {}

    def refresh() -> None:
        try:
            outcome["count"] = tasks.refresh_blockers("client", dossier.client_id)
        except Exception as error:  # noqa: BLE001 — reported below
            outcome["error"] = error
        finally:
            connection.close()

    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f'SELECT id FROM "{Dossier._meta.db_table}" WHERE id = %s FOR UPDATE', [dossier.pk])
            worker = threading.Thread(target=refresh)
            worker.start()
            deadline = time.monotonic() + 20
            waiting = False
            while time.monotonic() < deadline and not waiting:
                # Inside a transaction pg_stat_activity is a snapshot taken on first read: clear it each time.
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
                waiting = cursor.fetchone()[0] > 0
                time.sleep(0.05)
            assert waiting, f"the refresh did not wait for the dossier's row lock: {outcome}"
            assert worker.is_alive()
            # What the lock holder (a transition) does meanwhile: the dossier moves on, its blockers with it.
            cursor.execute(f'UPDATE "{Dossier._meta.db_table}" SET state = %s WHERE id = %s',
                           [State.BDC_SIGNED, dossier.pk])
            cursor.execute(f'DELETE FROM "{Blocker._meta.db_table}" WHERE dossier_id = %s', [dossier.pk])
            cursor.execute("COMMIT")
        worker.join(timeout=20)
    finally:
        holder.close()
    assert outcome == {"count": 1}
    dossier.refresh_from_db()
    assert dossier.state == State.BDC_SIGNED
    assert stored_blockers(dossier) == expected_blockers(dossier)
    assert {transition for transition, _ in stored_blockers(dossier)} <= {"file_avance"}
