"""Thin Celery tasks: send one delivery (retries planned with backoff), and the sweep beat runs every minute."""
from __future__ import annotations

import logging

from celery import shared_task
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import Delivery

logger = logging.getLogger(__name__)
SWEEP_LIMIT = 500


def _publish(delivery_id: int, countdown: float | None = None, queue: str | None = None) -> None:
    try:
        deliver.apply_async((delivery_id,), countdown=countdown, **({"queue": queue} if queue else {}))
    except Exception as exc:  # broker away: the minute sweep sends it once due
        logger.warning("Webhook delivery %s not queued (%s); the sweep will pick it up", delivery_id, exc)


@shared_task(bind=True)
def deliver(self, delivery_id: int) -> str:
    """One attempt of a delivery; then its retry is queued with backoff, or the dossier's next delivery released."""
    from .sending import attempt

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
