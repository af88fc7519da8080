"""Daily digest and deadline reminders: once per member and day, mirrored in-app, nothing when nothing to say."""
from smtplib import SMTPException
from unittest import mock

import pytest
from django.core import mail

from dossiers import deadlines
from dossiers.models import Blocker, Notification, PortabilityRequest, State
from reports import tasks
from reports.models import DigestSent, ReminderSent

from ..factories import ClientFactory, MembershipFactory, days_ago, walk_to
from .conftest import deployed

@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def colleague(organisation):
    return MembershipFactory(organisation=organisation, user__username="camille", user__email="camille@example.org")


@pytest.fixture
def eventful(manager_membership, organisation):
    """Something to report: an overdue VA, a portability request due in 3 days, a dossier blocked."""
    manager_membership.user.email = "manon@example.org"
    manager_membership.user.save()
    late = deployed(manager_membership, 45)
    PortabilityRequest.objects.create(client=ClientFactory(organisation=organisation), requested_on=days_ago(12))
    deadlines.rebuild(organisation)  # the request was written past the writer
    walk_to(State.DRAFT, membership=manager_membership)  # no BDC yet: blocked by bdc.document
    return late


def today() -> str:
    return days_ago(0).isoformat()


def test_the_digest_tells_deadlines_blockers_and_overdue_vas(manager_membership, eventful):
    assert tasks.send_digest(manager_membership.pk, today()) == "sent"
    message, = mail.outbox
    assert message.to == ["manon@example.org"] and "Résumé du" in message.subject
    assert "Demande de portabilité des données" in message.body and "dans 3 jours" in message.body
    assert "VA attendue après déploiement" in message.body and "en retard de 15 jours" in message.body
    assert "bdc.document" in message.body and eventful.reference in message.body
    note = Notification.objects.get(user=manager_membership.user, kind="digest")
    assert note.message.startswith("Résumé du") and "1 VA en retard" in note.message


def test_the_digest_is_sent_once_even_when_the_task_runs_twice(manager_membership, eventful):
    assert tasks.send_digest(manager_membership.pk, today()) == "sent"
    assert tasks.send_digest(manager_membership.pk, today()) == "already sent"
    assert len(mail.outbox) == 1
    assert DigestSent.objects.filter(user=manager_membership.user).count() == 1
    assert Notification.objects.filter(kind="digest").count() == 1


def test_a_mail_error_rolls_the_record_back_so_the_retry_sends_once(manager_membership, eventful):
    # Mail errors are retried (database errors too: tasks.DATABASE_ERRORS).
    assert {SMTPException, ConnectionError} <= set(tasks.send_digest.autoretry_for)
    with mock.patch.object(tasks, "send_mail", side_effect=SMTPException("421 try again later")):
        with pytest.raises(SMTPException):
            tasks.send_digest(manager_membership.pk, today())
    assert not DigestSent.objects.exists() and not Notification.objects.exists() and mail.outbox == []
    assert tasks.send_digest(manager_membership.pk, today()) == "sent"  # what the retry does
    assert len(mail.outbox) == 1 and DigestSent.objects.count() == 1


def test_the_fan_out_sends_one_digest_per_member(manager_membership, colleague, eventful, outsider_membership):
    assert tasks.send_daily_digests.delay(today()).get() == 3
    assert sorted(m.to[0] for m in mail.outbox) == ["camille@example.org", "manon@example.org"]
    # The other organisation has nothing to report: no digest, no record.
    assert not DigestSent.objects.filter(user=outsider_membership.user).exists()
    assert tasks.send_daily_digests.delay(today()).get() == 3
    assert len(mail.outbox) == 2


def test_a_member_with_nothing_to_report_gets_no_digest(manager_membership):
    assert tasks.send_digest(manager_membership.pk, today()) == "nothing to report"
    assert mail.outbox == [] and not DigestSent.objects.exists() and not Notification.objects.exists()


def test_a_member_without_e_mail_still_gets_the_in_app_digest(colleague, eventful):
    colleague.user.email = ""
    colleague.user.save()
    assert tasks.send_digest(colleague.pk, today()) == "sent"
    assert mail.outbox == [] and Notification.objects.filter(user=colleague.user, kind="digest").count() == 1


def test_deadline_reminders_go_out_once_a_day_with_a_notification_each(manager_membership, organisation):
    manager_membership.user.email = "manon@example.org"
    manager_membership.user.save()
    reminded = deployed(manager_membership, 23)  # pending VA due in 7 days: a reminder day
    deployed(manager_membership, 20)  # due in 10 days: no reminder today
    assert tasks.send_deadline_reminders.delay(today()).get() == 1
    assert tasks.send_deadline_reminder(manager_membership.pk, today()) == "already sent"
    message, = mail.outbox
    assert "Rappels" in message.subject and reminded.reference in message.body
    note, = Notification.objects.filter(kind="deadline_reminder")
    assert note.dossier_id == reminded.pk and ReminderSent.objects.count() == 1


def test_no_reminder_when_no_deadline_is_on_its_reminder_day(manager_membership):
    deployed(manager_membership, 20)
    assert tasks.send_deadline_reminder(manager_membership.pk, today()) == "nothing to remind"
    assert mail.outbox == [] and not ReminderSent.objects.exists()


def test_blockers_are_grouped_by_rule_with_a_few_references(manager_membership):
    drafts = [walk_to(State.DRAFT, membership=manager_membership) for _ in range(4)]
    assert Blocker.objects.filter(rule="bdc.document").count() == 4
    from reports.queries import blockers_by_rule

    groups = blockers_by_rule(manager_membership.organisation)
    bdc = next(g for g in groups if g["rule"] == "bdc.document")
    assert bdc["count"] == 4 and bdc["references"] == [d.reference for d in drafts[:3]]


def test_a_recovery_in_the_digest_says_what_is_still_owed(manager_membership):
    from dossiers import services
    from reports import deadlines as dl, digests

    dossier = walk_to(State.RECOVERY_ISSUED, membership=manager_membership)
    services.run_transition(dossier.pk, "record_recovery", by=manager_membership.user,
                            data={"repaid_on": "2024-08-20", "amount": "500.00"})
    [recovery] = dl.deadlines_for(manager_membership.organisation, kinds=[dl.Kind.RECOVERY])
    assert "reste dû : 2\u202f500,00 €" in digests.describe(recovery)
    PortabilityRequest.objects.create(client=dossier.client, requested_on=days_ago(2))
    deadlines.keep(requests_of=[dossier.client_id])  # written past the writer
    [portability] = dl.deadlines_for(manager_membership.organisation, kinds=[dl.Kind.PORTABILITY])
    assert portability["amount"] is None and "reste dû" not in digests.describe(portability)
