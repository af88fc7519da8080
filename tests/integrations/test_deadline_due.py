"""`deadline.due`: the daily deadline task announces each deadline that falls due, once."""
import json

import pytest
from django.utils import timezone

from reports import tasks
from webhooks.models import DeadlineAnnounced, Delivery, Endpoint
from webhooks.sending import build_body

from ..reports.conftest import deployed

pytestmark = pytest.mark.django_db

CLOSED_PORT = "http://127.0.0.1:9/hook"


@pytest.fixture
def endpoint(organisation) -> Endpoint:
    return Endpoint.objects.create(organisation=organisation, url=CLOSED_PORT, events=["deadline.due"])


def run_daily_task(capture) -> None:
    with capture(execute=False):
        tasks.send_deadline_reminders(timezone.localdate().isoformat())


def test_a_deadline_falling_due_today_is_announced_once(endpoint, manager_membership,
                                                        django_capture_on_commit_callbacks):
    due_today = deployed(manager_membership, age=30)  # pending VA: deployed_on + 30 days
    deployed(manager_membership, age=29)  # due tomorrow: not yet
    deployed(manager_membership, age=45)  # fell due 15 days ago, before the look-back: never announced late
    run_daily_task(django_capture_on_commit_callbacks)
    run_daily_task(django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.event, delivery.dossier_id, delivery.endpoint) == ("deadline.due", due_today.pk, endpoint)
    assert delivery.deadline["kind"] == "pending_va" and delivery.deadline["dossier"] == due_today.pk
    body = json.loads(build_body(delivery))
    assert body["type"] == "deadline.due"
    assert body["data"]["dossier"]["id"] == due_today.pk and body["data"]["history"] is None
    assert body["data"]["deadline"]["due"] == timezone.localdate().isoformat()
    assert DeadlineAnnounced.objects.count() == 1


def test_nothing_is_announced_to_endpoints_that_do_not_want_it(organisation, manager_membership,
                                                               django_capture_on_commit_callbacks):
    Endpoint.objects.create(organisation=organisation, url=CLOSED_PORT, events=["dossier.transitioned"])
    deployed(manager_membership, age=30)
    run_daily_task(django_capture_on_commit_callbacks)
    assert not Delivery.objects.filter(event="deadline.due").exists()
    assert not DeadlineAnnounced.objects.exists()


def test_another_organisations_deadline_reaches_none_of_our_endpoints(endpoint, outsider_membership,
                                                                      django_capture_on_commit_callbacks):
    deployed(outsider_membership, age=30)
    run_daily_task(django_capture_on_commit_callbacks)
    assert not Delivery.objects.exists()
