"""Without a broker (the demo's eager mode) attempts run on timer threads: the change does not wait for the
receiver, and retries still come with their backoff."""
import time

import pytest

from webhooks.models import Delivery, Endpoint

from ..reports.conftest import celery_config
from ..reports.test_worker import transactional, wait_for
from .receiver import Receiver
from .test_webhooks_worker import sign_bdc


@pytest.fixture
def receiver():
    started = Receiver(answers=[500, 200], delay=1.5).start()
    yield started
    started.stop()


@transactional
def test_in_eager_mode_a_slow_failing_receiver_neither_slows_the_change_nor_misses_its_retry(
        receiver, organisation, manager_membership, settings):
    settings.WEBHOOK_EAGER_THREADS = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.3
    endpoint = Endpoint.objects.create(organisation=organisation, url=receiver.url, events=["dossier.transitioned"])
    with celery_config(task_always_eager=True):
        started = time.monotonic()
        sign_bdc(manager_membership)
        assert time.monotonic() - started < 1.5  # the receiver takes 1.5 s per request
        wait_for(lambda: Delivery.objects.filter(endpoint=endpoint, status="delivered").exists(), timeout=15,
                 what="the retried delivery")
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.attempts, delivery.last_status_code) == (2, 200)
    assert [r.answered for r in receiver.requests] == [500, 200]
    assert receiver.requests[1].at - receiver.requests[0].at >= 0.3
