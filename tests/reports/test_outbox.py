"""The outbox: a transition's notification is written with it, published after commit, drained when Redis is back."""
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

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
    assert message.sent_at is not None and message.done_at is not None and message.attempts == 1
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
    assert message.sent_at is None and message.done_at is None and message.last_error == "RuntimeError: bug"
    assert not Notification.objects.exists()


def test_the_drain_publishes_oldest_first_and_skips_what_is_done(manager_membership, monkeypatch):
    published = []
    monkeypatch.setattr(outbox, "_send", lambda message, conn: published.append(message.pk))
    first, second = (OutboxMessage.objects.create(task_name="dossiers.tasks.drain_outbox") for _ in range(2))
    OutboxMessage.objects.filter(pk=first.pk).update(sent_at="2025-01-01T00:00:00Z", done_at="2025-01-01T00:00:01Z")
    third = OutboxMessage.objects.create(task_name="dossiers.tasks.drain_outbox")
    assert outbox.drain() == 2 and published == [second.pk, third.pk]


# --- published is not done -------------------------------------------------------------------------------------------

def outbox_message_for(draft_ready, manager_membership, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        outcome = sign(draft_ready, manager_membership)
    return OutboxMessage.objects.get(), outcome


def test_a_published_message_whose_task_died_stays_waiting_and_is_published_again(
        draft_ready, manager_membership, django_capture_on_commit_callbacks, monkeypatch):
    message, outcome = outbox_message_for(draft_ready, manager_membership, django_capture_on_commit_callbacks)
    sent = []
    # The broker took the message, then the worker died before the effect: nothing reports it done.
    monkeypatch.setattr(outbox, "_send", lambda m, conn: sent.append(m.pk))
    assert outbox.publish(message.pk) is True
    message.refresh_from_db()
    assert message.sent_at is not None and message.done_at is None
    assert outbox.drain() == 0 and sent == [message.pk]  # not yet: the task may still be retrying
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now() - timedelta(seconds=1))
    monkeypatch.undo()  # the lease has passed: the drain publishes it again, and this time the task runs
    assert outbox.drain() == 1
    message.refresh_from_db()
    assert message.done_at is not None and message.attempts == 2
    assert Notification.objects.filter(history_entry=outcome.history).count() == 1
    assert outbox.drain() == 0


def test_the_task_marks_its_message_done_only_after_its_effect(draft_ready, manager_membership,
                                                               django_capture_on_commit_callbacks, monkeypatch):
    message, outcome = outbox_message_for(draft_ready, manager_membership, django_capture_on_commit_callbacks)
    run = tasks.notify_history_entry.run

    def effect_then_check(entry_id):
        count = run(entry_id)
        assert OutboxMessage.objects.get(pk=message.pk).done_at is None  # the effect first, the mark after
        return count

    monkeypatch.setattr(tasks.notify_history_entry, "run", effect_then_check)
    assert tasks.notify_history_entry.apply(args=[outcome.history.pk],
                                            kwargs={outbox.MESSAGE_KWARG: message.pk}).get() == 1
    assert OutboxMessage.objects.get(pk=message.pk).done_at is not None


def test_a_database_error_in_the_task_is_retried_and_the_notification_arrives(
        draft_ready, manager_membership, django_capture_on_commit_callbacks, monkeypatch):
    message, outcome = outbox_message_for(draft_ready, manager_membership, django_capture_on_commit_callbacks)
    run, calls = tasks.notify_history_entry._orig_run, []

    def flaky(entry_id):
        calls.append(entry_id)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return run(entry_id)

    monkeypatch.setattr(tasks.notify_history_entry, "_orig_run", flaky)
    # As the worker runs it (Celery's retry re-runs it in-process here; the real worker is tests/reports/test_worker.py).
    tasks.notify_history_entry.apply(args=[outcome.history.pk], kwargs={outbox.MESSAGE_KWARG: message.pk}, throw=False)
    assert len(calls) == 2
    assert OutboxMessage.objects.get(pk=message.pk).done_at is not None
    assert Notification.objects.filter(history_entry=outcome.history).count() == 1


def test_a_message_the_broker_keeps_refusing_waits_longer_each_time():
    assert [outbox.backoff(n).total_seconds() for n in range(1, 8)] == [0, 30, 60, 120, 240, 480, 900]
    assert outbox.backoff(40) == outbox.BACKOFF_MAX


def test_a_refused_publication_is_backed_off(manager_membership, monkeypatch):
    message = OutboxMessage.objects.create(task_name="dossiers.tasks.drain_outbox", attempts=3)

    def refuse(m, conn):
        raise ConnectionError("broker away")

    monkeypatch.setattr(outbox, "_send", refuse)
    before = timezone.now()
    assert outbox.publish(message.pk) is False
    message.refresh_from_db()
    assert message.attempts == 4 and message.available_at >= before + timedelta(seconds=120)
    assert outbox.drain() == 0 and OutboxMessage.objects.get(pk=message.pk).attempts == 4  # not due yet


def test_a_task_without_the_outbox_base_is_done_once_published(manager_membership, monkeypatch):
    message = OutboxMessage.objects.create(task_name="dossiers.tasks.drain_outbox")
    assert outbox.publish(message.pk) is True
    message.refresh_from_db()
    assert message.sent_at is not None and message.done_at is not None
