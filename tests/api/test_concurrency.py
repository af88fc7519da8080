"""Sixteen clients posting the same transition at once: one wins, fifteen are refused, one history row.

Real concurrency on PostgreSQL (the dossier's row lock decides). SQLite has no row locks and its shared
in-memory test database refuses concurrent writers outright, so there the requests are serialised: the
state check alone must then refuse the fifteen late ones.
"""
import threading
from collections import Counter
from contextlib import nullcontext

import pytest
from django.db import connection
from rest_framework.test import APIClient

from dossiers.models import State

from ..factories import token_for, valid_payload, walk_to
from .conftest import url

# serialized_rollback: the flush after a transactional test would otherwise empty the reference data.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
CLIENTS = 16


def post_at_once(membership, address: str, payload: dict, **headers: str) -> list[tuple[int, dict]]:
    key = token_for(membership)
    barrier = threading.Barrier(CLIENTS)
    one_at_a_time = threading.Lock() if connection.vendor == "sqlite" else nullcontext()
    answers: list[tuple[int, dict]] = []
    crashes: list[str] = []

    def attempt() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        try:
            barrier.wait(timeout=30)
            with one_at_a_time:
                response = client.post(address, payload, format="json", headers=headers)
            answers.append((response.status_code, response.json()))
        except Exception as error:  # the test client re-raises a view's exception (a 500) in this thread
            crashes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not crashes and len(answers) == CLIENTS, crashes
    return answers


def test_one_of_sixteen_simultaneous_transitions_wins_and_the_others_get_409(manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    history = dossier.history.count()
    answers = post_at_once(manager_membership, url("dossier-transition", dossier.pk, "validate_avance"),
                           valid_payload("validate_avance"))
    assert Counter(status for status, _ in answers) == {200: 1, 409: CLIENTS - 1}
    assert {body["errors"][0]["rule"] for status, body in answers if status == 409} == {
        "state.transition_not_allowed"}
    dossier.refresh_from_db()
    assert dossier.state == State.AVANCE_VALIDATED
    assert dossier.history.count() == history + 1


def test_sixteen_simultaneous_retries_with_one_idempotency_key_run_the_transition_once(manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    history = dossier.history.count()
    answers = post_at_once(manager_membership, url("dossier-transition", dossier.pk, "validate_avance"),
                           valid_payload("validate_avance"), **{"Idempotency-Key": "retry-42"})
    assert {status for status, _ in answers} == {200}
    assert all(body == answers[0][1] for _, body in answers)
    assert dossier.history.count() == history + 1
