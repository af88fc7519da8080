"""Transactional outbox: a task to run is written in the transaction that needs it, then published to the broker.

`enqueue` stores an `OutboxMessage` row beside the change and asks to publish it right after the commit. When the
broker does not answer (Redis down), the change still commits and the row stays waiting; `drain_outbox`, run every
minute by beat, publishes what is left (a message the broker refused again waits longer each time: backoff).

Published is not done. A task declared with `base=OutboxTask` receives its message id and marks the message done
only after its effect has committed; a task that died on the way (database dropped, worker killed, retries spent)
leaves it waiting, and the drain publishes it again once `REDELIVER_AFTER` has passed. A message may therefore be
delivered more than once: consumers are idempotent. A task without that base is done once published.

For a new consumer (webhook deliveries, e-mails…): `@shared_task(base=OutboxTask, autoretry_for=...)` and
`outbox.enqueue(task, [id])` inside the transaction that makes the work necessary. The caller hands the task object
(an import, checked when the module loads, not a string found wrong at publication); the row stores its registered
name, which stays the message's address when the drain publishes it later, from another process.
Without a broker (eager mode) the task runs in-process at publication.

Inside a web request, publication waits for the response: the commit hook only notes the message, and the
`request_finished` signal (sent when the server closes the response, after its body went out) publishes what the
request noted, in order. So neither the in-process run of the task (eager mode: the notifications, the webhook
fan-out) nor the broker's round trip counts in the request's time. Outside a request (a task, a command, a shell),
publication follows the commit at once, as before.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from importlib import import_module
from typing import Any

import structlog
from celery import Task, current_app
from django.core.signals import request_finished, request_started
from django.db import connection as db_connection, transaction
from datetime import timedelta

from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

# Seconds allowed to reach the broker: a transition's commit hook must not hang on a dead Redis.
CONNECT_TIMEOUT = 2.0
DRAIN_LIMIT = 500
# A published message whose task has not reported done by then is published again. Longer than a task's own
# retries (about four minutes of backoff), so a healthy retry is not doubled.
REDELIVER_AFTER = timedelta(minutes=15)
# After a refused publication, wait this long times 2^(attempts - 2) (the first retry is the next drain).
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
# The keyword argument that carries the message id to an OutboxTask.
MESSAGE_KWARG = "outbox_message"


class OutboxTask(Task):
    """A task that marks its outbox message done once it has returned, i.e. once its effect has committed.

    An exception (including Celery's Retry) leaves the message waiting for the drain to publish it again.
    """

    # Celery checks call arguments against `run`'s signature at publication; the message id is an extra keyword
    # that __call__ takes off before `run`.
    typing = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        message_id = kwargs.pop(MESSAGE_KWARG, None)
        # self.run, not super().__call__: the worker has already pushed the request (id, retries, delivery).
        result = self.run(*args, **kwargs)
        if message_id is not None:
            mark_done(message_id)
        return result


def mark_done(message_id: int) -> None:
    OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True).update(done_at=timezone.now(), last_error="")


def backoff(attempts: int) -> timedelta:
    """How long a message refused `attempts` times waits before the drain tries it again."""
    if attempts <= 1:
        return timedelta(0)
    return min(BACKOFF_BASE * 2 ** min(attempts - 2, 16), BACKOFF_MAX)


def enqueue(task: Task, args: Sequence[Any] = ()) -> OutboxMessage:
    """Record the task in the current transaction; try to publish it once the transaction commits."""
    message = OutboxMessage.objects.create(task_name=task.name, args=list(args))
    publish_after_commit(message.pk)
    return message


def insert_sql(task: Task, args_sql: str) -> tuple[str, list[Any]]:
    """`enqueue`'s INSERT as SQL for a caller's own statement (a data-modifying CTE, so a transition writes its
    history row and the message naming it in one round trip): `args_sql` is an SQL expression giving the args'
    JSON array (e.g. `jsonb_build_array(h.id)`). It returns the new row's id; the caller hands it to
    `publish_after_commit`, as `enqueue` does."""
    now = timezone.now()
    return (f"INSERT INTO {OutboxMessage._meta.db_table} (task_name, args, created_at, sent_at, done_at, "
            f"available_at, attempts, last_error) SELECT %s, {args_sql}, %s, NULL, NULL, %s, 0, ''"), [
        task.name, now, now]


def publish_after_commit(message_id: int) -> None:
    """Publish the message once the current transaction commits (see `_committed`)."""
    # robust: a failure after the commit is logged, never raised to the caller whose change is already saved.
    transaction.on_commit(partial(_committed, message_id), robust=True)


# --- publication after the response -------------------------------------------------------------------------------

_request = threading.local()


def _committed(message_id: int) -> None:
    """The commit hook: inside a request, note the message for after the response; elsewhere publish it now."""
    pending = getattr(_request, "pending", None)
    if pending is None:
        publish(message_id)
    else:
        # With the request's log context (its request_id): the publication runs once the middleware has unbound it,
        # and the task's log lines name the request that enqueued it.
        pending.append((message_id, structlog.contextvars.get_contextvars()))


def begin_request(**_: Any) -> None:
    """From here on, what commits is published once the response has been sent. What an earlier request of this
    thread left unpublished (a response never closed) is published first rather than forgotten."""
    if getattr(_request, "pending", None):
        finish_request()
    _request.pending = []


def finish_request(**_: Any) -> int:
    """Publish what the request's commits noted, oldest first; the last step of the response. Returns how many."""
    pending = getattr(_request, "pending", None)
    _request.pending = None
    if not pending:
        return 0
    for message_id, context in pending:
        try:
            with structlog.contextvars.bound_contextvars(**context):
                publish(message_id)
        except Exception:  # the rows stay waiting for the drain; the response is gone, nobody to tell
            logger.exception("Outbox message %s not published after the response", message_id)
    # Django's own handler closed an obsolete connection before this one ran; the publications may have opened it
    # again: close it now unless it is meant to persist (CONN_MAX_AGE), or the test holds it in a transaction.
    if not db_connection.in_atomic_block:
        db_connection.close_if_unusable_or_obsolete()
    return len(pending)


request_started.connect(begin_request, dispatch_uid="dossiers.outbox.begin_request")
request_finished.connect(finish_request, dispatch_uid="dossiers.outbox.finish_request")


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


def reports_done(task: Any) -> bool:
    return isinstance(task, OutboxTask)


def _send(message: OutboxMessage, conn: Any) -> None:
    task = _task(message.task_name)
    kwargs = {MESSAGE_KWARG: message.pk} if reports_done(task) else {}
    if current_app.conf.task_always_eager:
        task.apply_async(args=message.args, kwargs=kwargs)
    elif conn is not None:
        task.apply_async(args=message.args, kwargs=kwargs, connection=conn, retry=False)
    else:
        with broker_connection() as fresh:
            task.apply_async(args=message.args, kwargs=kwargs, connection=fresh, retry=False)


def _claim(message_id: int) -> OutboxMessage | None:
    queryset = OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True, available_at__lte=timezone.now())
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
            message.available_at = timezone.now() + backoff(message.attempts)
            message.save(update_fields=["attempts", "last_error", "available_at"])
            logger.warning("Outbox message %s (%s) not published: %s", message.pk, message.task_name, exc)
            return False
        now = timezone.now()
        message.sent_at = now
        message.available_at = now + REDELIVER_AFTER
        fields = ["attempts", "sent_at", "available_at"]
        if not reports_done(_task(message.task_name)):
            message.done_at, message.last_error = now, ""
            fields += ["done_at", "last_error"]
        message.save(update_fields=fields)
        return True


def waiting() -> Any:
    """Messages not done whose time has come: never published, refused and backed off, or published and lost."""
    return OutboxMessage.objects.filter(done_at__isnull=True, available_at__lte=timezone.now())


def drain(limit: int = DRAIN_LIMIT) -> int:
    """Publish waiting messages, oldest first, over one broker connection; stop at the first refusal."""
    ids = list(waiting().order_by("id").values_list("id", flat=True)[:limit])
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
