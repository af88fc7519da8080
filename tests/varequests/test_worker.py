"""With a real Celery worker on Redis and a real SMTP server: the request e-mail, the managers' notification and
the reminders run in the worker; a reminder task run twice sends one e-mail. (On SQLite, whose test database a
worker cannot reach, the same scenario runs with in-process tasks.)"""
from __future__ import annotations

import os
import re
import subprocess
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from dossiers.models import Notification, State
from varequests import services, tasks
from varequests.models import VaEmail, VaRequest

from ..factories import pdf_upload, walk_to
from ..reports.conftest import celery_config
from ..reports.test_worker import CELERY, REDIS_URL, Worker, database_url, wait_for
from .conftest import link_in, path_of

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class SmtpWorker(Worker):
    """The reports' worker, mailing through the test's SMTP server and linking to the test client's host."""

    def __init__(self, log, smtp_port: int):
        super().__init__(log)
        self.smtp_port = smtp_port

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": REDIS_URL,
               "DJANGO_SETTINGS_MODULE": "segurtrack.settings", "PYTHONPATH": str(settings.BASE_DIR),
               "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
               "EMAIL_PORT": str(self.smtp_port), "SITE_URL": "http://testserver",
               # The fan-out's own tasks go to this worker's queue too.
               "CELERY_TASK_DEFAULT_QUEUE": self.queue}
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [str(CELERY), "-A", "segurtrack", "worker", "-P", "solo", "-c", "1", "--without-heartbeat",
                 "--without-mingle", "--without-gossip", "-Q", self.queue, "-n", f"{self.queue}@%h", "-l", "info"],
                cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: "ready." in self.text() or self.process.poll() is not None, what="the worker to start")
        assert self.process.poll() is None, self.text()

    def settled(self, task_name: str) -> None:
        """Every task of that name the worker received has finished (and there was at least one)."""
        received = re.compile(rf"Task {re.escape(task_name)}\[[^\]]+\] received")
        done = re.compile(rf"Task {re.escape(task_name)}\[[^\]]+\] (succeeded|raised|failed)")
        wait_for(lambda: 0 < len(received.findall(self.text())) == len(done.findall(self.text())),
                 what=f"every {task_name} to finish")


class InProcess:
    def __init__(self, settings_fixture):
        settings_fixture.SITE_URL = "http://testserver"

    def active(self):
        return celery_config(task_always_eager=True)

    def finished(self, task_name: str, count: int) -> None:
        return None

    def settled(self, task_name: str) -> None:
        return None


@pytest.fixture
def background(smtp_server, tmp_path, settings, django_db_blocker):
    if connection.vendor != "postgresql":
        yield InProcess(settings)
        return
    worker = SmtpWorker(tmp_path / "worker.log", smtp_server.port)
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()


@pytest.mark.celery_worker
@transactional
def test_the_worker_emails_the_link_and_notifies_the_managers(background, smtp_server, manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    with background.active():
        va_request = services.request_va(dossier.pk, by=manager_membership.user,
                                         email="signataire@clinique.example", name="Paul Signataire")
        (message,) = smtp_server.wait_for(1, timeout=30)
        assert message["To"] == "signataire@clinique.example"
        browser = Client()
        assert browser.get(path_of(link_in(message))).status_code == 200
        assert browser.post(path_of(link_in(message)), {"file": pdf_upload("va.pdf")}).status_code == 200
        wait_for(lambda: Notification.objects.filter(kind="va_returned").exists(), what="the managers' notification")
        background.finished("varequests.tasks.notify_va_returned", 1)
    assert VaRequest.objects.get(pk=va_request.pk).status == "returned"
    assert list(Notification.objects.filter(kind="va_returned").values_list("user_id", flat=True)) == [
        manager_membership.user_id]


@pytest.mark.celery_worker
@transactional
def test_a_reminder_run_twice_by_the_worker_sends_one_email(background, smtp_server, manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    with background.active():
        va_request = services.request_va(dossier.pk, by=manager_membership.user,
                                         email="signataire@clinique.example", name="Paul Signataire")
        smtp_server.wait_for(1, timeout=30)
        VaRequest.objects.filter(pk=va_request.pk).update(
            created_at=datetime.combine(date(2026, 3, 2), time(10), tzinfo=ZoneInfo("Europe/Paris")),
            expires_at=timezone.now() + timedelta(days=30))
        tasks.send_va_reminders.delay("2026-03-09")
        tasks.send_va_reminders.delay("2026-03-09")
        background.finished("varequests.tasks.send_va_reminders", 2)
        wait_for(lambda: VaEmail.objects.filter(kind="reminder_7").exists(), what="the reminder")
        tasks.send_va_reminder.delay(va_request.pk, "2026-03-09")  # and once more, directly
        background.settled("varequests.tasks.send_va_reminder")
    assert len(smtp_server.messages) == 2
    assert "Rappel" in " ".join(str(smtp_server.messages[1]["Subject"]).split())
    assert VaEmail.objects.filter(va_request=va_request).count() == 2
