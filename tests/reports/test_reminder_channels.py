"""Deadline reminders by the channel each member chose (issue 16 point 5 leftover): in the application, a separate
e-mail and a notification each; in the daily digest, a section of that digest and no separate e-mail; never,
nothing."""
import pytest
from django.core import mail

from dossiers.models import Channel, Notification, NotificationPreference
from reports import tasks
from reports.digests import build_digest
from reports.models import DigestSent, ReminderSent

from ..factories import MembershipFactory, days_ago
from .conftest import deployed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def reminded(manager_membership):
    """A VA due in 7 days (a reminder day) and one due in 10 (none today); the manager has an e-mail address."""
    manager_membership.user.email = "manon@example.org"
    manager_membership.user.save()
    due = deployed(manager_membership, 23)
    deployed(manager_membership, 20)
    return due


def choose(membership, channel: str) -> None:
    NotificationPreference.objects.create(membership=membership, kind="deadline_reminder", channel=channel)


def today() -> str:
    return days_ago(0).isoformat()


def test_in_the_application_the_reminder_is_its_own_e_mail_and_stays_out_of_the_digest(manager_membership, reminded):
    assert tasks.send_deadline_reminder(manager_membership.pk, today()) == "sent"
    assert [m.subject.startswith("[segurtrack] Rappels d'échéances") for m in mail.outbox] == [True]
    assert list(Notification.objects.filter(kind="deadline_reminder").values_list("dossier_id", flat=True)) == [
        reminded.pk]
    assert tasks.send_digest(manager_membership.pk, today()) == "sent"
    digest = mail.outbox[-1].body
    assert "Rappels du jour" not in digest


def test_in_the_digest_the_reminder_goes_into_that_days_digest_and_no_separate_e_mail(manager_membership, reminded):
    choose(manager_membership, Channel.DIGEST)
    assert tasks.send_deadline_reminder(manager_membership.pk, today()) == "in the digest"
    assert mail.outbox == [] and not ReminderSent.objects.exists()
    assert not Notification.objects.filter(kind="deadline_reminder").exists()
    assert tasks.send_digest(manager_membership.pk, today()) == "sent"
    assert len(mail.outbox) == 1 and DigestSent.objects.count() == 1
    body = mail.outbox[0].body
    reminders = body[body.index("Rappels du jour :"):body.index("Échéances (7 prochains jours")]
    assert reminded.reference in reminders and reminders.count("\n- ") == 1


def test_never_means_neither_the_e_mail_nor_the_digest_section(manager_membership, reminded):
    choose(manager_membership, Channel.NONE)
    assert tasks.send_deadline_reminder(manager_membership.pk, today()) == "not wanted"
    assert tasks.send_digest(manager_membership.pk, today()) == "sent"   # the VA overdue list etc. still go out
    assert len(mail.outbox) == 1 and "Rappels du jour" not in mail.outbox[0].body


def test_a_digest_reader_with_nothing_to_remind_today_gets_no_reminder_section(manager_membership):
    choose(manager_membership, Channel.DIGEST)
    deployed(manager_membership, 20)   # due in 10 days: not a reminder day
    digest = build_digest(manager_membership.organisation, days_ago(0), manager_membership)
    assert digest.reminders == [] and "Rappels du jour" not in digest.body()


def test_one_members_channel_does_not_change_another_members(manager_membership, reminded, organisation):


    colleague = MembershipFactory(organisation=organisation, user__email="camille@example.org")
    choose(manager_membership, Channel.DIGEST)
    assert tasks.send_deadline_reminder(colleague.pk, today()) == "sent"
    assert tasks.send_deadline_reminder(manager_membership.pk, today()) == "in the digest"
    assert [m.to for m in mail.outbox] == [["camille@example.org"]]


def test_the_digest_reads_the_reminders_in_a_fixed_number_of_queries(manager_membership, reminded,
                                                                     django_assert_num_queries):
    choose(manager_membership, Channel.DIGEST)
    organisation = manager_membership.organisation
    # The organisation's (3 here: no VA overdue to count), the notices, the channel, the day's reminders.
    with django_assert_num_queries(6):
        small = build_digest(organisation, days_ago(0), manager_membership)
    for _ in range(3):
        deployed(manager_membership, 23)
    with django_assert_num_queries(6):
        large = build_digest(organisation, days_ago(0), manager_membership)
    assert (len(small.reminders), len(large.reminders)) == (1, 4)
