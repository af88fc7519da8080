"""Which event each change emits, what a delivery sends, and the checks made at send time (eager, no worker)."""
import json
from datetime import date
from decimal import Decimal

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from segurtrack import errors
from dossiers import services
from dossiers.models import Dossier, State
from webhooks import sending
from webhooks.models import Delivery, Endpoint

from ..factories import attach, walk_to
from .receiver import Receiver

pytestmark = pytest.mark.django_db

CLOSED_PORT = "http://127.0.0.1:9/hook"


@pytest.fixture
def endpoint(organisation) -> Endpoint:
    return Endpoint.objects.create(organisation=organisation, url=CLOSED_PORT, events=["*"])


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def events_of(dossier: Dossier) -> list[tuple[str, str]]:
    return list(Delivery.objects.filter(dossier=dossier).order_by("id").values_list("event", "history_entry__action"))


def test_each_history_row_emits_its_event(endpoint, manager_membership):
    user = manager_membership.user
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    amendment = services.add_amendment(dossier.pk, by=user, filed_on=date(2024, 6, 25), amount=Decimal("9000.00"))
    services.update_amendment(amendment.pk, by=user, status="validated")
    services.update_dossier(dossier.pk, by=user, changes={"reference": "CRM-1"})
    events = events_of(dossier)
    assert events[0] == ("dossier.created", "create")
    assert ("dossier.document_added", "add_document") in events
    assert ("dossier.transitioned", "sign_bdc") in events and ("dossier.transitioned", "file_avance") in events
    assert events[-3:] == [("dossier.amendment_changed", "file_amendment"),
                           ("dossier.amendment_changed", "amendment_validated"),
                           ("dossier.updated", "change_reference")]
    assert len(events) == dossier.history.count()  # one event per history row, none twice


def test_a_change_rolled_back_leaves_no_delivery(endpoint, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    before = Delivery.objects.count()
    with pytest.raises(errors.InvalidInput):
        services.update_dossier(dossier.pk, by=manager_membership.user,
                                changes={"scenario": "Autre", "solde_draft": {"invoice_total": "pas un montant"}})
    assert Delivery.objects.count() == before


def test_a_delivery_is_signed_and_its_body_frozen_for_retries(endpoint, manager_membership, receiver):
    Endpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    receiver.answers = [500, 200]
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    attach(dossier, "bdc", manager_membership.user)
    delivery = Delivery.objects.filter(event="dossier.document_added").get()
    assert sending.attempt(delivery.pk).outcome == "waiting"  # the `dossier.created` delivery comes first
    first = Delivery.objects.get(event="dossier.created")
    assert sending.attempt(first.pk).outcome == "retry"
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=first.created_at)
    assert sending.attempt(first.pk).release == delivery.pk
    Dossier.objects.filter(pk=dossier.pk).update(scenario="changé depuis")
    bodies = [r.body for r in receiver.requests]
    assert bodies[0] == bodies[1]  # the retry sends the same bytes
    created = Webhook(endpoint.secret).verify(bodies[0], receiver.requests[0].headers)
    assert created["type"] == "dossier.created" and created["data"]["history"]["action"] == "create"
    assert json.loads(Delivery.objects.get(pk=first.pk).payload) == created


def test_under_production_settings_a_private_target_is_refused_at_send_time(endpoint, manager_membership, receiver,
                                                                          settings):
    Endpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)  # saved while private targets were allowed
    walk_to(State.DRAFT, membership=manager_membership)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    delivery = Delivery.objects.get()
    assert sending.attempt(delivery.pk).outcome == "retry"
    delivery.refresh_from_db()
    assert receiver.requests == []
    assert delivery.last_status_code is None and "privées" in delivery.last_error


def test_a_delivery_fails_after_the_last_attempt_and_releases_the_next(endpoint, manager_membership, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"scenario": "Autre"})
    first, second = Delivery.objects.order_by("id")
    assert sending.attempt(first.pk).outcome == "retry"
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=first.created_at)
    result = sending.attempt(first.pk)
    assert (result.outcome, result.release) == ("failed", second.pk)
    first.refresh_from_db()
    assert (first.status, first.attempts, first.next_attempt_at) == ("failed", 2, None)


def test_the_backoff_grows_fourfold(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    assert [sending.backoff(n) for n in range(1, 6)] == [60, 240, 960, 3840, 15360]


def test_the_delivery_log_costs_the_same_for_one_delivery_or_forty(admin_api, endpoint,
                                                                  django_assert_max_num_queries):
    Delivery.objects.create(endpoint=endpoint, event="dossier.updated")
    address = f"/api/v1/webhooks/{endpoint.pk}/deliveries/"
    admin_api.get(address)
    with django_assert_max_num_queries(4):  # token, membership's role check, endpoint, deliveries
        assert len(admin_api.get(address).json()) == 1
    Delivery.objects.bulk_create([Delivery(endpoint=endpoint, event="dossier.updated") for _ in range(39)])
    with django_assert_max_num_queries(4):
        assert len(admin_api.get(address).json()) == 40
    with django_assert_max_num_queries(4):
        assert admin_api.get("/api/v1/webhooks/").json()["count"] == 1


def test_after_a_rotation_deliveries_verify_with_the_new_secret_only(admin_api, endpoint, manager_membership,
                                                                    receiver):
    Endpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    walk_to(State.DRAFT, membership=manager_membership)
    old = endpoint.secret
    new = admin_api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/").json()["secret"]
    assert sending.attempt(Delivery.objects.get().pk).outcome == "delivered"
    request = receiver.requests[0]
    assert Webhook(new).verify(request.body, request.headers)["type"] == "dossier.created"
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request.body, request.headers)
