"""Reminders to the signatory on day 7 and day 14 (jours ouvrés, the client's department), once each."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from dossiers.models import State
from segurtrack.celery import app
from varequests import services, tasks
from varequests.models import VaEmail, VaRequest

from ..factories import ClientFactory, pdf_upload, walk_to
from .conftest import link_in, path_of

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def asked_on(va_request: VaRequest, day: date) -> VaRequest:
    """Move a request back to `day`, 10:00 in Paris (its link kept open for the test)."""
    VaRequest.objects.filter(pk=va_request.pk).update(
        created_at=datetime.combine(day, time(10), tzinfo=PARIS), expires_at=timezone.now() + timedelta(days=30))
    va_request.refresh_from_db()
    return va_request


def run(day: date) -> int:
    return tasks.send_va_reminders(day.isoformat())


def kinds(va_request: VaRequest) -> list[str]:
    return sorted(VaEmail.objects.filter(va_request=va_request).values_list("kind", flat=True))


def test_due_days_skip_weekends_and_the_departments_holidays():
    # 24 April 2026 + 7 = Friday 1 May (Fête du Travail) → Monday 4 May; + 14 = Friday 8 May (1945) → Monday 11 May.
    assert services.reminder_due_on(date(2026, 4, 24), 7, department="75") == date(2026, 5, 4)
    assert services.reminder_due_on(date(2026, 4, 24), 14, department="75") == date(2026, 5, 11)
    # 27 March + 7 = Good Friday 3 April: a working day in Paris, a holiday in Moselle (then Easter Monday).
    assert services.reminder_due_on(date(2026, 3, 27), 7, department="75") == date(2026, 4, 3)
    assert services.reminder_due_on(date(2026, 3, 27), 7, department="57") == date(2026, 4, 7)
    # A weekday that is a working day stays as it is; a Saturday moves to Monday.
    assert services.reminder_due_on(date(2026, 3, 2), 7, department="75") == date(2026, 3, 9)
    assert services.reminder_due_on(date(2026, 3, 7), 7, department="75") == date(2026, 3, 16)


def test_each_reminder_leaves_on_its_business_day_once_even_when_the_task_runs_twice(deployed, ask):
    va_request = asked_on(ask(deployed)[0], date(2026, 4, 24))
    mail.outbox.clear()
    assert run(date(2026, 4, 30)) == 0 and run(date(2026, 5, 1)) == 0  # day 7 is a public holiday
    assert mail.outbox == []
    assert run(date(2026, 5, 4)) == 1
    assert run(date(2026, 5, 4)) == 0
    tasks.send_va_reminder(va_request.pk, "2026-05-04")  # a duplicate message for the same day
    assert len(mail.outbox) == 1 and kinds(va_request) == ["reminder_7"]
    assert mail.outbox[0].subject.startswith("Rappel : VA à signer") and mail.outbox[0].to == [va_request.email]
    assert run(date(2026, 5, 8)) == 0  # day 14 is 8 May, a public holiday
    assert run(date(2026, 5, 11)) == 1 and run(date(2026, 5, 12)) == 0
    assert len(mail.outbox) == 2 and kinds(va_request) == ["reminder_14", "reminder_7"]


def test_the_moselle_client_is_reminded_after_good_friday_and_easter_monday(manager_membership, organisation, ask):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership,
                      client=ClientFactory(organisation=organisation, department="57"))
    va_request = asked_on(ask(dossier)[0], date(2026, 3, 27))
    mail.outbox.clear()
    assert run(date(2026, 4, 3)) == 0 and run(date(2026, 4, 6)) == 0
    assert run(date(2026, 4, 7)) == 1 and kinds(va_request) == ["reminder_7"]


def test_a_late_run_sends_only_the_latest_reminder(deployed, ask):
    va_request = asked_on(ask(deployed)[0], date(2026, 3, 2))
    mail.outbox.clear()
    assert run(date(2026, 3, 20)) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].subject.startswith("Rappel")
    assert kinds(va_request) == ["reminder_14", "reminder_7"]
    assert run(date(2026, 3, 23)) == 0


def test_no_reminder_once_returned_revoked_or_expired(manager, manager_membership, ask):
    returned, revoked, expired = (asked_on(ask(walk_to(State.DEPLOYED, membership=manager_membership))[0],
                                           date(2026, 3, 2)) for _ in range(3))
    services.return_va(returned.pk, upload=pdf_upload("va.pdf"))
    services.revoke(revoked.pk, by=manager)
    VaRequest.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    mail.outbox.clear()
    assert run(date(2026, 3, 9)) == 0
    for va_request in (returned, revoked, expired):
        assert tasks.send_va_reminder(va_request.pk, "2026-03-09") == "closed"
    assert mail.outbox == []
    assert not VaEmail.objects.filter(kind__startswith="reminder").exists()


def test_the_request_email_is_sent_once_and_not_for_a_closed_link(manager, deployed, ask):
    va_request, _token = ask(deployed)
    mail.outbox.clear()
    assert tasks.send_va_request_email(va_request.pk) == "sent"
    assert tasks.send_va_request_email(va_request.pk) == "already sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.alternatives and message.alternatives[0][1] == "text/html"
    services.revoke(va_request.pk, by=manager)
    VaEmail.objects.all().delete()
    assert tasks.send_va_request_email(va_request.pk) == "closed"
    assert len(mail.outbox) == 1


def test_a_reminder_through_smtp_carries_a_link_that_works(deployed, ask, smtp_server, settings):
    settings.SITE_URL = "http://testserver"
    va_request = asked_on(ask(deployed)[0], date(2026, 3, 2))
    assert run(date(2026, 3, 9)) == 1
    (message,) = smtp_server.wait_for(1)
    assert "Petit rappel" in message.get_body(preferencelist=("plain",)).get_content()
    page = Client().get(path_of(link_in(message)))
    assert page.status_code == 200 and deployed.client.name in page.content.decode()
    va_request.refresh_from_db()
    assert va_request.status == "opened"


def test_a_mail_failure_leaves_the_reminder_to_send_again(deployed, ask, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens
    va_request = asked_on(ask(deployed)[0], date(2026, 3, 2))
    with pytest.raises(OSError):
        tasks.send_va_reminder.run(va_request.pk, "2026-03-09")
    assert kinds(va_request) == []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.send_va_reminder.run(va_request.pk, "2026-03-09") == "sent"
    assert kinds(va_request) == ["reminder_7"]


def test_beat_runs_the_reminders_every_morning():
    entry = app.conf.beat_schedule["send-va-reminders"]
    assert entry["task"] == "varequests.tasks.send_va_reminders" and entry["task"] in app.tasks
    assert entry["schedule"].hour == {8} and entry["schedule"].minute == {0}


def test_the_daily_run_takes_a_fixed_number_of_queries(manager_membership, ask, django_assert_max_num_queries):
    for count in (3, 12):
        while VaRequest.objects.count() < count:
            asked_on(ask(walk_to(State.DEPLOYED, membership=manager_membership))[0], date(2026, 3, 2))
        # Only the fan-out's own reads: the per-request tasks are not run here.
        with mock.patch.object(tasks.send_va_reminder, "delay") as delay, django_assert_max_num_queries(3):
            assert run(date(2026, 3, 9)) == count
        assert delay.call_count == count
