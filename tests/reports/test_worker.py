"""Integration with a real Celery worker on the local Redis (PostgreSQL), or the same scenario eagerly (SQLite).

The worker runs as a subprocess on a queue of its own, against the very database pytest-django created; the test
process publishes to Redis (not eager) for the duration of each test and restores the Celery configuration after.
SQLite's test database lives in this process's memory, out of a worker's reach: there the scenario runs with
in-process tasks (no skip — CI runs on PostgreSQL and allows none).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection, connections

from dossiers import deadlines, services, tasks
from dossiers.models import Notification, OutboxMessage, PortabilityRequest, State
from reports import tasks as report_tasks
from reports.models import DigestSent
from segurtrack.celery import app

from ..factories import ClientFactory, MembershipFactory, attach, days_ago, valid_payload, walk_to
from .conftest import broker_unreachable, celery_config

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
CELERY = Path(sys.executable).with_name("celery")
WAIT_SECONDS = 20


def wait_for(predicate: Callable[[], Any], timeout: float = WAIT_SECONDS, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what or predicate}")


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A `celery worker` subprocess consuming one queue of its own; its log tells which tasks finished."""

    mode = "worker"

    def __init__(self, log: Path):
        self.queue = f"segurtrack-test-{uuid.uuid4().hex[:10]}"
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": REDIS_URL,
               "DJANGO_SETTINGS_MODULE": "segurtrack.settings", "PYTHONPATH": str(settings.BASE_DIR),
               # Mail goes to the worker's standard output, hence to its log.
               "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [str(CELERY), "-A", "segurtrack", "worker", "-P", "solo", "-c", "1", "--without-heartbeat",
                 "--without-mingle", "--without-gossip", "-Q", self.queue, "-n", f"{self.queue}@%h", "-l", "info"],
                cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: "ready." in self.text() or self.process.poll() is not None, what="the worker to start")
        assert self.process.poll() is None, self.text()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.delete(self.queue, *client.keys(f"_kombu.binding*.{self.queue}"))
        client.close()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @contextmanager
    def active(self) -> Iterator["Worker"]:
        """Publish to Redis, to this worker's queue, for the block."""
        with celery_config(task_always_eager=False, broker_url=REDIS_URL, task_default_queue=self.queue):
            yield self

    def finished(self, task_name: str, count: int) -> None:
        pattern = re.compile(rf"Task {re.escape(task_name)}\[[^\]]+\] (succeeded|raised|failed)")
        wait_for(lambda: len(pattern.findall(self.text())) >= count, what=f"{count} × {task_name}")

    def mails_to(self, address: str) -> int:
        return self.text().count(f"To: {address}")


class Eager:
    """The same scenario with in-process tasks (SQLite)."""

    mode = "eager"

    @contextmanager
    def active(self) -> Iterator["Eager"]:
        with celery_config(task_always_eager=True):
            yield self

    def finished(self, task_name: str, count: int) -> None:
        return None

    def mails_to(self, address: str) -> int:
        return sum(address in message.to for message in mail.outbox)


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Worker]:
    with django_db_blocker.unblock():
        started = Worker(tmp_path_factory.mktemp("celery") / "worker.log")
        try:
            started.start()
            yield started
        finally:
            started.stop()


@pytest.fixture
def background(request, settings) -> Worker | Eager:
    if connection.vendor == "postgresql":
        return request.getfixturevalue("worker")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return Eager()


# serialized_rollback: the flush after a transactional test would otherwise empty the reference data.
transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.celery_worker
@transactional
def test_a_digest_enqueued_twice_is_sent_once(background, manager_membership, organisation):
    address = f"digest-{uuid.uuid4().hex[:8]}@example.org"
    manager_membership.user.email = address
    manager_membership.user.save()
    PortabilityRequest.objects.create(client=ClientFactory(organisation=organisation), requested_on=days_ago(10))
    deadlines.rebuild(organisation)  # created past the writer (dossiers.followups keeps the deadlines)
    day = days_ago(0).isoformat()
    with background.active():
        report_tasks.send_digest.delay(manager_membership.pk, day)
        report_tasks.send_digest.delay(manager_membership.pk, day)
        background.finished("reports.tasks.send_digest", 2)
    assert DigestSent.objects.filter(user=manager_membership.user).count() == 1
    assert Notification.objects.filter(user=manager_membership.user, kind="digest").count() == 1
    assert background.mails_to(address) == 1


@pytest.mark.celery_worker
@transactional
def test_a_transition_made_while_redis_is_down_is_notified_once_redis_is_back(background, manager_membership):
    colleague = MembershipFactory(organisation=manager_membership.organisation, user__username="camille")
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    attach(dossier, "bdc", manager_membership.user)
    with background.active():
        with broker_unreachable():
            started = time.monotonic()
            outcome = services.run_transition(dossier.pk, "sign_bdc", by=manager_membership.user,
                                              data=valid_payload("sign_bdc"))
            assert time.monotonic() - started < 5  # the commit hook gives up quickly
        dossier.refresh_from_db()
        assert dossier.state == State.BDC_SIGNED
        message = OutboxMessage.objects.get(args=[outcome.history.pk])
        assert message.sent_at is None and message.attempts == 1 and message.last_error
        assert not Notification.objects.filter(history_entry=outcome.history).exists()
        assert tasks.drain_outbox() == 1  # what beat runs every minute, now that the broker answers
        wait_for(lambda: Notification.objects.filter(history_entry=outcome.history).exists(),
                 what="the worker to notify")
        background.finished("dossiers.tasks.notify_history_entry", 1)
    message.refresh_from_db()
    assert message.sent_at is not None
    assert list(Notification.objects.filter(history_entry=outcome.history).values_list("user_id", flat=True)) == [
        colleague.user_id]


def test_the_beat_schedule_holds_the_periodic_tasks():
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert set(schedule) == {"reports.tasks.send_daily_digests", "dossiers.tasks.drain_outbox",
                             "reports.tasks.send_deadline_reminders",
                             "varequests.tasks.send_va_reminders",
                             "webhooks.tasks.deliver_due"}
    assert schedule["dossiers.tasks.drain_outbox"] == 60.0
    digest = schedule["reports.tasks.send_daily_digests"]
    assert digest.hour == {7} and digest.minute == {30}
    assert schedule["reports.tasks.send_deadline_reminders"].hour == {7}
    app.loader.import_default_modules()  # the task autodiscovery a worker runs at start (else order-dependent)
    for name in schedule:
        assert name in app.tasks


@pytest.mark.celery_worker
@transactional
def test_a_notification_whose_database_connection_is_killed_inside_the_task_still_arrives(worker, manager_membership):
    """The lost-notification attack: the worker's database connection is terminated in the middle of the task."""
    colleague = MembershipFactory(organisation=manager_membership.organisation, user__username="camille")
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    attach(dossier, "bdc", manager_membership.user)
    locker = connections.create_connection("default")
    try:
        with locker.cursor() as cursor:
            # Hold the notification table: the task blocks on it, and is killed right there.
            cursor.execute("BEGIN")
            cursor.execute(f'LOCK TABLE "{Notification._meta.db_table}" IN ACCESS EXCLUSIVE MODE')
            with worker.active():
                outcome = services.run_transition(dossier.pk, "sign_bdc", by=manager_membership.user,
                                                  data=valid_payload("sign_bdc"))
                message = OutboxMessage.objects.get(args=[outcome.history.pk])
                assert message.sent_at is not None and message.done_at is None
                waiting = wait_for(lambda: blocked_backends(cursor), what="the task to wait on the lock")
                cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [waiting])
                cursor.execute("ROLLBACK")
                wait_for(lambda: Notification.objects.filter(history_entry=outcome.history).exists(),
                         what="the retried task to notify")
    finally:
        locker.close()
    assert "Retry in" in worker.text()  # the task met the dead connection and was retried with backoff
    wait_for(lambda: OutboxMessage.objects.filter(pk=message.pk, done_at__isnull=False).exists(),
             what="the message to be marked done")
    assert list(Notification.objects.filter(history_entry=outcome.history).values_list("user_id", flat=True)) == [
        colleague.user_id]


def blocked_backends(cursor) -> list[int]:
    """Server processes of this database waiting on a lock (the worker's), not the test's nor the locker's."""
    # The locker is inside a transaction, where pg_stat_activity is a snapshot taken on first read: clear it.
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                   " AND pid <> pg_backend_pid() AND pid <> %s", [connection.connection.info.backend_pid])
    return [pid for (pid,) in cursor.fetchall()]
