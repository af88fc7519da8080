"""One delivery attempt: freeze the body, sign it (Standard Webhooks), POST it, record the answer, plan what follows."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder
from standardwebhooks import Webhook

from .models import Delivery
from .targets import TargetRefused, check_target

logger = logging.getLogger(__name__)
USER_AGENT = "segurtrack-webhooks/1"


@dataclass(frozen=True)
class Attempted:
    """What an attempt came to, and what the task must do next (outside the transaction)."""

    outcome: str
    retry_in: float | None = None  # seconds until the next attempt of this delivery
    release: int | None = None  # the next delivery of the same dossier and endpoint, now free to go


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: base × 4^(attempts - 1)."""
    return settings.WEBHOOK_RETRY_BASE_SECONDS * 4 ** (attempts - 1)


def build_body(delivery: Delivery) -> str:
    """`{"type", "timestamp", "data": {"dossier", "history"[, "deadline"]}}`, the dossier as `GET` shows it."""
    from dossiers.api.serializers import DossierSerializer, HistoryEntrySerializer

    entry = delivery.history_entry
    dossier = delivery.dossier
    data = {
        "dossier": DossierSerializer(dossier).data if dossier is not None else None,
        "history": HistoryEntrySerializer(entry).data if entry is not None else None,
    }
    if delivery.deadline is not None:
        data["deadline"] = delivery.deadline
    timestamp = entry.at if entry is not None else delivery.created_at
    body = {"type": delivery.event, "timestamp": timezone.localtime(timestamp).isoformat(), "data": data}
    return json.dumps(body, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))


def signed_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body),
    }


def post(url: str, body: str, headers: dict[str, str]) -> tuple[int | None, str]:
    """The answer's status code (None when no answer) and an error description."""
    try:
        check_target(url)  # resolved again: the name may point elsewhere than when the endpoint was saved
        response = httpx.post(url, content=body.encode(), headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                              follow_redirects=False)
    except TargetRefused as refused:
        return None, str(refused)
    except httpx.TimeoutException:
        return None, f"timeout after {settings.WEBHOOK_TIMEOUT_SECONDS:g}s"
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return response.status_code, "" if response.is_success else f"HTTP {response.status_code}"


def _locked(delivery_id: int) -> Delivery | None:
    queryset = Delivery.objects.select_related("endpoint", "dossier__client", "dossier__solution",
                                               "dossier__dispositif", "history_entry").filter(pk=delivery_id)
    if connection.features.has_select_for_update_skip_locked:
        # Another worker holding this delivery is sending it: skip rather than send it twice.
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.first()


def waits_behind(delivery: Delivery) -> bool:
    """Whether an earlier delivery of the same dossier to the same endpoint is still pending (order per dossier)."""
    if delivery.dossier_id is None:
        return False
    return Delivery.objects.filter(endpoint_id=delivery.endpoint_id, dossier_id=delivery.dossier_id,
                                   status=Delivery.Status.PENDING, id__lt=delivery.pk).exists()


def next_in_line(delivery: Delivery) -> int | None:
    if delivery.dossier_id is None:
        return None
    return Delivery.objects.filter(endpoint_id=delivery.endpoint_id, dossier_id=delivery.dossier_id,
                                   status=Delivery.Status.PENDING, id__gt=delivery.pk).order_by("id").values_list(
        "id", flat=True).first()


def attempt(delivery_id: int) -> Attempted:
    """Make one attempt if the delivery is pending, due and first in its dossier's line. Idempotent."""
    with transaction.atomic():
        delivery = _locked(delivery_id)
        if delivery is None:
            return Attempted("busy or gone")
        now = timezone.now()
        if delivery.status != Delivery.Status.PENDING:
            return Attempted("already " + delivery.status)
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return Attempted("not due")
        endpoint = delivery.endpoint
        if not endpoint.active:
            delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
            delivery.last_error = "endpoint inactive"
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return Attempted("endpoint inactive", release=next_in_line(delivery))
        if waits_behind(delivery):
            return Attempted("waiting")  # the earlier one releases it when it is done
        if not delivery.payload:
            delivery.payload = build_body(delivery)
        code, error = post(endpoint.url, delivery.payload, signed_headers(endpoint.secret, delivery.message_id,
                                                                            delivery.payload, now))
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = code, error[:500]
        result = _settle(delivery, code, timezone.now())
        delivery.save()
    logger.info("Webhook delivery %s (%s) attempt %s: %s", delivery.pk, delivery.event, delivery.attempts,
                result.outcome)
    return result


def _settle(delivery: Delivery, code: int | None, now: datetime) -> Attempted:
    endpoint = delivery.endpoint
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = Delivery.Status.DELIVERED, now, None
        return Attempted("delivered", release=next_in_line(delivery))
    if code == 410:
        # Gone: the receiver asks us to stop. Later deliveries to it fail without being sent.
        endpoint.active, endpoint.deactivated_reason = False, "HTTP 410"
        endpoint.save(update_fields=["active", "deactivated_reason", "updated_at"])
        delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
        return Attempted("gone: endpoint deactivated", release=next_in_line(delivery))
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
        return Attempted("failed", release=next_in_line(delivery))
    delay = backoff(delivery.attempts)
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    return Attempted("retry", retry_in=delay)
