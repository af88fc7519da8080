"""The outbox: a transition's notification is written with it, published after commit, drained when Redis is back."""
import pytest

from dossiers import outbox, services, tasks
from dossiers.models import HistoryEntry, Notification, OutboxMessage, State
from dossiers.services import RulesFailed

from ..factories import MembershipFactory, attach, valid_payload, walk_to
from .conftest import broker_unreachable


@pytest.fixture
def draft_ready(manager_membership):
    """A draft with its BDC attached, and a colleague to notify."""
    MembershipFactory(organisation=manager_membership.organisation, user__username="camille")
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    attach(dossier, "bdc", manager_membership.user)
    OutboxMessage.objects.all().delete()
    return dossier


def sign(dossier, membership):
    return services.run_transition(dossier.pk, "sign_bdc", by=membership.user, data=valid_payload("sign_bdc"))


def test_the_message_is_written_with_the_transition_and_published_after_commit(
        draft_ready, manager_membership, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = sign(draft_ready, manager_membership)
    message = OutboxMessage.objects.get()
    assert (message.task_name, message.args, message.sent_at) == (
        "dossiers.tasks.notify_history_entry", [outcome.history.pk], None)
    assert len(callbacks) == 1 and not Notification.objects.exists()
    callbacks[0]()
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1
    assert Notification.objects.filter(history_entry=outcome.history).count() == 1


def test_a_refused_transition_leaves_no_message(draft_ready, manager_membership, django_capture_on_commit_callbacks):
    draft_ready.documents.all().delete()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RulesFailed):
        sign(draft_ready, manager_membership)
    assert not OutboxMessage.objects.exists()


def test_with_redis_down_the_transition_succeeds_and_the_drain_delivers_later(
        draft_ready, manager_membership, django_capture_on_commit_callbacks):
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        outcome = sign(draft_ready, manager_membership)
    draft_ready.refresh_from_db()
    assert draft_ready.state == State.BDC_SIGNED
    message = OutboxMessage.objects.get()
    assert message.sent_at is None and message.attempts == 1 and "OperationalError" in message.last_error
    with broker_unreachable():
        assert tasks.drain_outbox() == 0  # still down: nothing published, nothing lost
    assert OutboxMessage.objects.get().sent_at is None and not Notification.objects.exists()
    assert tasks.drain_outbox() == 1  # Redis is back (eager here: the task runs in-process)
    assert OutboxMessage.objects.get().sent_at is not None
    assert Notification.objects.filter(history_entry=outcome.history).count() == 1
    assert tasks.drain_outbox() == 0 and Notification.objects.count() == 1


def test_a_failing_task_keeps_its_message_and_leaves_nothing_half_written(manager_membership, monkeypatch):
    entry = HistoryEntry.objects.filter(dossier=walk_to(State.DRAFT, membership=manager_membership)).first()
    message = OutboxMessage.objects.create(task_name="dossiers.tasks.notify_history_entry", args=[entry.pk])

    def broken(entry_id):
        Notification.objects.create(user=manager_membership.user, organisation=manager_membership.organisation,
                                    message="à moitié")
        raise RuntimeError("bug")

    monkeypatch.setattr(tasks.notify_history_entry, "run", broken)
    assert outbox.publish(message.pk) is False
    message.refresh_from_db()
    assert message.sent_at is None and message.last_error == "RuntimeError: bug"
    assert not Notification.objects.exists()


def test_the_drain_publishes_oldest_first_and_skips_what_is_sent(manager_membership, monkeypatch):
    published = []
    monkeypatch.setattr(outbox, "_send", lambda message, conn: published.append(message.pk))
    first, second = (OutboxMessage.objects.create(task_name="dossiers.tasks.drain_outbox") for _ in range(2))
    OutboxMessage.objects.filter(pk=first.pk).update(sent_at="2025-01-01T00:00:00Z")
    third = OutboxMessage.objects.create(task_name="dossiers.tasks.drain_outbox")
    assert outbox.drain() == 2 and published == [second.pk, third.pk]
