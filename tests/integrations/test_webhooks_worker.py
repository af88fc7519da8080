"""Webhooks end to end: PostgreSQL, a real Celery worker on Redis, and a receiver on a loopback port.

The worker runs with a short backoff base and timeout (environment), so retries happen within seconds.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from dossiers import services, tasks
from dossiers.models import OutboxMessage, State
from webhooks.models import Delivery, Endpoint, new_secret

from ..factories import attach, valid_payload, walk_to
from ..reports.conftest import broker_unreachable
from ..reports.test_worker import Worker, transactional, wait_for
from .receiver import Receiver

BACKOFF_BASE = 1.0
WORKER_ENV = {"WEBHOOK_RETRY_BASE_SECONDS": str(BACKOFF_BASE), "WEBHOOK_TIMEOUT_SECONDS": "1",
              "WEBHOOK_MAX_ATTEMPTS": "6", "WEBHOOK_ALLOW_PRIVATE": "1"}

# PostgreSQL only (as CI runs): the worker process must see the test database.
pytestmark = pytest.mark.celery_worker


@pytest.fixture(scope="module")
def webhook_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Worker]:
    saved = {name: os.environ.get(name) for name in WORKER_ENV}
    with django_db_blocker.unblock():
        worker = Worker(tmp_path_factory.mktemp("celery") / "webhooks-worker.log")
        os.environ.update(WORKER_ENV)
        try:
            worker.start()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        try:
            yield worker
        finally:
            worker.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def endpoint_for(admin_api, url: str, events: list[str] | None = None) -> tuple[int, str]:
    response = admin_api.post("/api/v1/webhooks/", {"url": url, "events": events or ["*"]}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"], response.json()["secret"]


def sign_bdc(membership) -> tuple:
    dossier = walk_to(State.DRAFT, membership=membership)
    attach(dossier, "bdc", membership.user)
    outcome = services.run_transition(dossier.pk, "sign_bdc", by=membership.user, data=valid_payload("sign_bdc"))
    return dossier, outcome


def log(admin_api, endpoint_id: int) -> list[dict]:
    response = admin_api.get(f"/api/v1/webhooks/{endpoint_id}/deliveries/")
    assert response.status_code == 200
    return response.json()


@transactional
def test_a_transition_reaches_the_receiver_signed_and_standardwebhooks_verifies_it(
        webhook_worker, receiver, admin_api, manager_membership):
    endpoint_id, secret = endpoint_for(admin_api, receiver.url, ["dossier.transitioned"])
    with webhook_worker.active():
        dossier, outcome = sign_bdc(manager_membership)
        wait_for(lambda: receiver.requests, what="the delivery")
    request = receiver.requests[0]
    body = Webhook(secret).verify(request.body, request.headers)
    assert request.path == "/hooks/segur"
    assert request.headers["webhook-id"].startswith("msg_") and request.headers["webhook-signature"].startswith("v1,")
    assert body["type"] == "dossier.transitioned"
    assert body["data"]["dossier"]["id"] == dossier.pk and body["data"]["dossier"]["state"] == State.BDC_SIGNED
    assert body["data"]["history"]["action"] == "sign_bdc" and body["data"]["history"]["seq"] == outcome.history.seq
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(request.body, request.headers)
    wait_for(lambda: log(admin_api, endpoint_id)[0]["status"] == "delivered", what="the log to say delivered")
    entry = log(admin_api, endpoint_id)[0]
    assert (entry["event"], entry["attempts"], entry["last_status_code"], entry["next_attempt_at"]) == (
        "dossier.transitioned", 1, 200, None)
    assert len(receiver.requests) == 1


@transactional
def test_a_failing_receiver_is_retried_with_backoff_and_the_log_shows_it(
        webhook_worker, receiver, admin_api, manager_membership):
    receiver.answers = [500, 503, 200]
    endpoint_id, secret = endpoint_for(admin_api, receiver.url, ["dossier.transitioned"])
    with webhook_worker.active():
        sign_bdc(manager_membership)
        wait_for(lambda: receiver.requests, what="the first attempt")
        wait_for(lambda: log(admin_api, endpoint_id)[0]["attempts"] == 1, what="the first attempt logged")
        first = log(admin_api, endpoint_id)[0]
        assert (first["status"], first["last_status_code"]) == ("pending", 500)
        assert first["next_attempt_at"] is not None
        wait_for(lambda: len(receiver.requests) == 3, timeout=30, what="two retries")
        wait_for(lambda: log(admin_api, endpoint_id)[0]["status"] == "delivered", what="the log to say delivered")
    entry = log(admin_api, endpoint_id)[0]
    assert (entry["attempts"], entry["last_status_code"], entry["next_attempt_at"]) == (3, 200, None)
    gaps = [b.at - a.at for a, b in zip(receiver.requests, receiver.requests[1:])]
    # Exponential: base, then 4 × base (the worker's ETA is to the second, hence the slack).
    assert BACKOFF_BASE * 0.8 <= gaps[0] < gaps[1] and gaps[1] >= BACKOFF_BASE * 3
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1  # the same message each time: receivers can deduplicate
    for request in receiver.requests:
        Webhook(secret).verify(request.body, request.headers)


@transactional
def test_with_redis_down_the_transition_succeeds_and_the_delivery_follows_when_it_returns(
        webhook_worker, receiver, admin_api, manager_membership):
    endpoint_id, secret = endpoint_for(admin_api, receiver.url, ["dossier.transitioned"])
    with webhook_worker.active():
        with broker_unreachable():
            started = time.monotonic()
            dossier, outcome = sign_bdc(manager_membership)
            assert time.monotonic() - started < 5
        dossier.refresh_from_db()
        assert dossier.state == State.BDC_SIGNED
        delivery = Delivery.objects.get(endpoint_id=endpoint_id)
        assert (delivery.status, delivery.attempts) == ("pending", 0)
        assert OutboxMessage.objects.filter(task_name="webhooks.tasks.deliver", args=[delivery.pk],
                                            sent_at__isnull=True).exists()
        time.sleep(1)
        assert receiver.requests == []
        assert tasks.drain_outbox() >= 1  # beat's minute drain, now that Redis answers
        wait_for(lambda: receiver.requests, what="the delivery after Redis returned")
    body = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert body["data"]["history"]["seq"] == outcome.history.seq


@transactional
def test_a_410_deactivates_the_endpoint_and_later_changes_send_nothing(
        webhook_worker, receiver, admin_api, manager_membership):
    receiver.answers = [410]
    endpoint_id, _ = endpoint_for(admin_api, receiver.url)
    with webhook_worker.active():
        dossier = walk_to(State.DRAFT, membership=manager_membership)
        wait_for(lambda: not Endpoint.objects.get(pk=endpoint_id).active, what="the endpoint to be deactivated")
        entry = log(admin_api, endpoint_id)[0]
        assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("failed", 1, 410)
        services.update_dossier(dossier.pk, by=manager_membership.user, changes={"scenario": "Autre"})
    assert len(log(admin_api, endpoint_id)) == 1
    assert len(receiver.requests) == 1
    assert admin_api.get(f"/api/v1/webhooks/{endpoint_id}/").json()["active"] is False


@transactional
def test_one_dossiers_events_arrive_in_order_even_when_the_first_needs_a_retry(
        webhook_worker, receiver, admin_api, manager_membership):
    receiver.answers = [500, 200]
    endpoint_id, secret = endpoint_for(admin_api, receiver.url, ["dossier.updated"])
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    with webhook_worker.active():
        for n in range(3):
            services.update_dossier(dossier.pk, by=manager_membership.user, changes={"scenario": f"Scénario {n}"})
        wait_for(lambda: sum(r.answered == 200 for r in receiver.requests) == 3, timeout=30,
                 what="three deliveries")
    seqs = [(Webhook(secret).verify(r.body, r.headers)["data"]["history"]["seq"], r.answered)
            for r in receiver.requests]
    first = seqs[0][0]
    assert seqs == [(first, 500), (first, 200), (first + 1, 200), (first + 2, 200)]
    assert [d["status"] for d in log(admin_api, endpoint_id)] == ["delivered"] * 3


@transactional
def test_a_receiver_that_times_out_never_slows_the_change_and_is_retried(
        webhook_worker, receiver, admin_api, manager_membership):
    receiver.delay = 3  # beyond the worker's 1 s timeout
    endpoint_id, _ = endpoint_for(admin_api, receiver.url, ["dossier.transitioned"])
    with webhook_worker.active():
        started = time.monotonic()
        sign_bdc(manager_membership)
        assert time.monotonic() - started < 1
        wait_for(lambda: log(admin_api, endpoint_id)[0]["attempts"] >= 1, what="the timed-out attempt")
    entry = log(admin_api, endpoint_id)[0]
    assert (entry["status"], entry["last_status_code"]) == ("pending", None)
    assert Delivery.objects.get(pk=entry["id"]).last_error.startswith("timeout")
