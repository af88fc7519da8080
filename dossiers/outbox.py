"""Transactional outbox: a task to run is written in the transaction that needs it, then published to the broker.

`enqueue` stores an `OutboxMessage` row beside the change and asks to publish it right after the commit. When the
broker does not answer (Redis down), the change still commits and the row stays unsent; `drain_outbox`, run every
minute by beat, publishes what is left. A message may therefore be delivered twice (published, then the mark lost):
consumers are idempotent. Without a broker (eager mode) the task runs in-process at publication.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from importlib import import_module
from typing import Any

from celery import current_app
from django.db import connection as db_connection, transaction
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

# Seconds allowed to reach the broker: a transition's commit hook must not hang on a dead Redis.
CONNECT_TIMEOUT = 2.0
DRAIN_LIMIT = 500


def enqueue(task_name: str, args: Sequence[Any] = ()) -> OutboxMessage:
    """Record the task in the current transaction; try to publish it once the transaction commits."""
    message = OutboxMessage.objects.create(task_name=task_name, args=list(args))
    # robust: a failure after the commit is logged, never raised to the caller whose change is already saved.
    transaction.on_commit(partial(publish, message.pk), robust=True)
    return message


@contextmanager
def broker_connection() -> Iterator[Any]:
    """A connection to the broker, tried once with a short timeout (None in eager mode: no broker)."""
    app = current_app
    if app.conf.task_always_eager:
        yield None
        return
    with app.connection_for_write(transport_options={"socket_connect_timeout": CONNECT_TIMEOUT,
                                                     "socket_timeout": CONNECT_TIMEOUT * 2}) as conn:
        conn.ensure_connection(max_retries=0, timeout=CONNECT_TIMEOUT)
        yield conn


def _task(name: str) -> Any:
    """The task object from its dotted name (importing its module registers it in a web process too)."""
    module, _, attribute = name.rpartition(".")
    return getattr(import_module(module), attribute)


def _send(message: OutboxMessage, conn: Any) -> None:
    task = _task(message.task_name)
    if current_app.conf.task_always_eager:
        task.apply_async(args=message.args)
    elif conn is not None:
        task.apply_async(args=message.args, connection=conn, retry=False)
    else:
        with broker_connection() as fresh:
            task.apply_async(args=message.args, connection=fresh, retry=False)


def _claim(message_id: int) -> OutboxMessage | None:
    queryset = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True)
    if db_connection.features.has_select_for_update_skip_locked:
        # Another publisher holding the row is publishing it: skip it rather than wait and publish it twice.
        queryset = queryset.select_for_update(skip_locked=True)
    return queryset.first()


def publish(message_id: int, *, conn: Any = None) -> bool:
    """Publish one message; True when it is sent (or no longer waiting), False when the broker refused it."""
    with transaction.atomic():
        message = _claim(message_id)
        if message is None:
            return True
        message.attempts += 1
        try:
            # A savepoint: in eager mode the task runs here, and a failing task leaves nothing half-written.
            with transaction.atomic():
                _send(message, conn)
        except Exception as exc:  # any broker or task error: log it, keep the row for the drain
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.save(update_fields=["attempts", "last_error"])
            logger.warning("Outbox message %s (%s) not published: %s", message.pk, message.task_name, exc)
            return False
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["attempts", "last_error", "sent_at"])
        return True


def drain(limit: int = DRAIN_LIMIT) -> int:
    """Publish unsent messages, oldest first, over one broker connection; stop at the first refusal."""
    ids = list(OutboxMessage.objects.filter(sent_at__isnull=True).order_by("id").values_list("id", flat=True)[:limit])
    if not ids:
        return 0
    sent = 0
    try:
        with broker_connection() as conn:
            for message_id in ids:
                if not publish(message_id, conn=conn):
                    break
                sent += 1
    except Exception as exc:  # the broker is still away: the next drain will try again
        logger.warning("Outbox drain: broker unreachable, %s message(s) waiting: %s", len(ids), exc)
    return sent
