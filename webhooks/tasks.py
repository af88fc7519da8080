"""Thin Celery tasks: send one delivery (retries planned with backoff), and the sweep beat runs every minute.

Without a broker (eager mode: the demo, `scripts/run.sh`) Celery would run an attempt inside the web request's
commit hook and ignore countdowns. There, attempts run on timer threads of the web process instead, so the change
never waits for a receiver and retries still come with their backoff (`WEBHOOK_EAGER_THREADS`, off in tests that
drive attempts themselves).
"""
from __future__ import annotations

import logging
import threading

from celery import current_app, shared_task
from django.conf import settings
from django.db import connections
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import Delivery

logger = logging.getLogger(__name__)
SWEEP_LIMIT = 500
_thread = threading.local()


def _threaded() -> bool:
    return current_app.conf.task_always_eager and settings.WEBHOOK_EAGER_THREADS


def _on_timer(delivery_id: int, countdown: float | None = None) -> None:
    def run() -> None:
        _thread.inside = True
        try:
            deliver.apply(args=(delivery_id,))
        except Exception:  # a thread has nobody to raise to: log it, the delivery stays pending
            logger.exception("Webhook delivery %s failed in the background", delivery_id)
        finally:
            connections.close_all()

    timer = threading.Timer(countdown or 0, run)
    timer.daemon = True
    timer.start()


def _publish(delivery_id: int, countdown: float | None = None, queue: str | None = None) -> None:
    if _threaded():
        _on_timer(delivery_id, countdown)
        return
    try:
        deliver.apply_async((delivery_id,), countdown=countdown, **({"queue": queue} if queue else {}))
    except Exception as exc:  # broker away: the minute sweep sends it once due
        logger.warning("Webhook delivery %s not queued (%s); the sweep will pick it up", delivery_id, exc)


@shared_task(bind=True)
def deliver(self, delivery_id: int) -> str:
    """One attempt of a delivery; then its retry is queued with backoff, or the dossier's next delivery released."""
    from .sending import attempt

    if _threaded() and not getattr(_thread, "inside", False):
        _on_timer(delivery_id)  # published by the outbox in a request's commit hook: do not make it wait
        return "in background"
    result = attempt(delivery_id)
    # Follow-ups go to the queue this message came from (a worker may serve a queue of its own).
    queue = (self.request.delivery_info or {}).get("routing_key")
    if result.retry_in is not None:
        _publish(delivery_id, countdown=result.retry_in, queue=queue)
    if result.release is not None:
        _publish(result.release, queue=queue)
    return result.outcome


@shared_task
def deliver_due() -> int:
    """Queue every pending delivery that is due and first in its dossier's line (a retry or a release was lost)."""
    earlier = Delivery.objects.filter(endpoint_id=OuterRef("endpoint_id"), dossier_id=OuterRef("dossier_id"),
                                      status=Delivery.Status.PENDING, id__lt=OuterRef("id"))
    ids = list(Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now(),
                                       endpoint__active=True).exclude(Exists(earlier))
               .order_by("id").values_list("id", flat=True)[:SWEEP_LIMIT])
    for delivery_id in ids:
        _publish(delivery_id)
    return len(ids)
