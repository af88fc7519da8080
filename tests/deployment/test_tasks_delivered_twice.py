"""Every background and periodic task stays correct when delivered twice (issue 17): the outbox republishes a task
whose worker died, a broker may redeliver, two beats overlapping a take-over may both fire. Each task is listed
with the test that runs it twice and finds one effect; the list must name every task the apps declare."""
from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from dossiers import tasks
from dossiers.models import HistoryEntry, Notification, OutboxMessage, State
from reports import tasks as report_tasks
from reports.models import DigestSent, ExportJob
from organisations.models import Role
from segurtrack.celery import app
from varequests import services as va_services, tasks as va_tasks
from webhooks import tasks as webhook_tasks
from webhooks.models import Delivery, Endpoint

from ..factories import MembershipFactory, pdf_upload, walk_to
from ..integrations.receiver import Receiver

# task name -> the test (module::function) that delivers it twice and finds one effect.
DELIVERED_TWICE = {
    "dossiers.tasks.notify_history_entry": "tests/deployment/test_tasks_delivered_twice.py::"
                                           "test_notify_history_entry_twice_notifies_each_member_once",
    "dossiers.tasks.refresh_blockers": "tests/dossiers/test_blocker_refresh.py::"
                                       "test_the_task_refreshes_every_open_dossier_in_chunks_and_is_idempotent",
    "dossiers.tasks.drain_outbox": "tests/deployment/test_tasks_delivered_twice.py::"
                                   "test_drain_outbox_twice_publishes_each_message_once",
    "dossiers.tasks.send_daily_digests": "tests/deployment/test_tasks_delivered_twice.py::"
                                         "test_send_daily_digests_twice_sends_one_digest_per_member",
    "dossiers.tasks.send_digest": "tests/reports/test_digests.py::"
                                  "test_the_digest_is_sent_once_even_when_the_task_runs_twice",
    "dossiers.tasks.send_deadline_reminders": "tests/reports/test_digests.py::"
                                              "test_deadline_reminders_go_out_once_a_day_with_a_notification_each",
    "dossiers.tasks.send_deadline_reminder": "tests/reports/test_digests.py::"
                                             "test_deadline_reminders_go_out_once_a_day_with_a_notification_each",
    "dossiers.tasks.run_export": "tests/deployment/test_tasks_delivered_twice.py::"
                                 "test_run_export_twice_writes_one_file",
    "imports.tasks.run_import": "tests/imports/test_background.py::"
                                "test_a_large_file_answers_running_then_the_task_runs_it_once",
    "varequests.tasks.send_va_request_email": "tests/varequests/test_reminders.py::"
                                              "test_the_request_email_is_sent_once_and_not_for_a_closed_link",
    "varequests.tasks.send_va_reminders": (
        "tests/varequests/test_reminders.py::"
        "test_each_reminder_leaves_on_its_business_day_once_even_when_the_task_runs_twice"),
    "varequests.tasks.send_va_reminder": "tests/varequests/test_worker.py::"
                                         "test_a_reminder_run_twice_by_the_worker_sends_one_email",
    "varequests.tasks.notify_va_returned": "tests/deployment/test_tasks_delivered_twice.py::"
                                           "test_notify_va_returned_twice_notifies_each_manager_once",
    "webhooks.tasks.deliver": "tests/deployment/test_tasks_delivered_twice.py::"
                              "test_a_webhook_delivery_delivered_twice_is_sent_once",
    "webhooks.tasks.deliver_due": "tests/deployment/test_tasks_delivered_twice.py::"
                                  "test_the_webhook_sweep_run_twice_sends_each_delivery_once",
}


# The report tasks moved to the reports app keep answering to their former names (messages already queued).
for _name in ("send_daily_digests", "send_digest", "send_deadline_reminders", "send_deadline_reminder", "run_export"):
    DELIVERED_TWICE[f"reports.tasks.{_name}"] = DELIVERED_TWICE[f"dossiers.tasks.{_name}"]


def declared_tasks() -> set[str]:
    """The tasks of the project's own apps, once every app's tasks module is imported (as a worker does)."""
    local = [config.name for config in apps.get_app_configs() if "site-packages" not in str(config.path)]
    for name in local:
        try:
            importlib.import_module(f"{name}.tasks")
        except ModuleNotFoundError as missing:
            if missing.name != f"{name}.tasks":
                raise
    return {task for task in app.tasks if task.split(".")[0] in local}


def test_every_task_is_listed_with_a_test_that_delivers_it_twice():
    assert declared_tasks() == set(DELIVERED_TWICE)
    for task, test in DELIVERED_TWICE.items():
        path, function = test.split("::")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert callable(getattr(module, function, None)), (task, test)


# --- the tasks no other test delivered twice -------------------------------------------------------------------------

@pytest.fixture
def colleague(organisation):
    return MembershipFactory(organisation=organisation, role=Role.VIEWER, user__username="cora",
                             user__email="cora@example.org")


@pytest.mark.django_db
def test_notify_history_entry_twice_notifies_each_member_once(manager_membership, colleague):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    entry = HistoryEntry.objects.filter(dossier=dossier, action="sign_bdc").get()
    assert tasks.notify_history_entry(entry.pk) == 1
    assert tasks.notify_history_entry(entry.pk) == 0
    assert Notification.objects.filter(history_entry=entry).count() == 1


@pytest.mark.django_db
def test_drain_outbox_twice_publishes_each_message_once(manager_membership, colleague):
    walk_to(State.BDC_SIGNED, membership=manager_membership)  # commit hooks do not run here: the outbox waits
    waiting = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    assert waiting >= 1
    assert tasks.drain_outbox() == waiting
    assert tasks.drain_outbox() == 0
    assert Notification.objects.filter(user=colleague.user, history_entry__action="sign_bdc").count() == 1


@pytest.mark.django_db
def test_send_daily_digests_twice_sends_one_digest_per_member(manager_membership, colleague):
    walk_to(State.DRAFT, membership=manager_membership)  # a draft is in the digest (nothing filed yet)
    day = timezone.localdate().isoformat()
    members = report_tasks.send_daily_digests(day)
    assert members == 2 and report_tasks.send_daily_digests(day) == 2
    # One digest row and notification per member; one e-mail, to the only member with an address.
    assert DigestSent.objects.count() == 2 == Notification.objects.filter(kind="digest").count()
    assert [message.to for message in mail.outbox] == [["cora@example.org"]]


@pytest.mark.django_db
def test_run_export_twice_writes_one_file(api, manager_membership, django_capture_on_commit_callbacks, tmp_path):
    with django_capture_on_commit_callbacks(execute=False):
        job_id = api.post(reverse("reports:export-list"), {"kind": "dossiers"}, format="json").json()["id"]
    assert report_tasks.run_export(job_id) == "done"
    first = ExportJob.objects.get(pk=job_id).file.name
    assert report_tasks.run_export(job_id) == "not queued"
    assert ExportJob.objects.get(pk=job_id).file.name == first
    assert [p.name for p in (tmp_path / "documents").rglob("*") if p.is_file()] == [first.rsplit("/", 1)[-1]]


@pytest.mark.django_db
def test_notify_va_returned_twice_notifies_each_manager_once(manager_membership, admin_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    va_request = va_services.request_va(dossier.pk, by=manager_membership.user, email="j.martin@clinique.example",
                                        name="Dr Jeanne Martin")
    va_services.return_va(va_request.pk, upload=pdf_upload("va.pdf"))
    va_tasks.notify_va_returned(va_request.pk)
    va_tasks.notify_va_returned(va_request.pk)
    notified = Notification.objects.filter(kind="va_returned").values_list("user_id", flat=True)
    assert sorted(notified) == sorted([manager_membership.user_id, admin_membership.user_id])


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def pending_delivery(settings, organisation, manager_membership, receiver) -> Delivery:
    settings.WEBHOOK_EAGER_THREADS = False
    Endpoint.objects.create(organisation=organisation, url=receiver.url, events=["*"])
    walk_to(State.DRAFT, membership=manager_membership)
    delivery = Delivery.objects.get(event="dossier.created")
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=5))
    return delivery


@pytest.mark.django_db
def test_a_webhook_delivery_delivered_twice_is_sent_once(pending_delivery, receiver):
    assert webhook_tasks.deliver.apply(args=(pending_delivery.pk,)).get() == "delivered"
    assert webhook_tasks.deliver.apply(args=(pending_delivery.pk,)).get() == "already delivered"
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_the_webhook_sweep_run_twice_sends_each_delivery_once(pending_delivery, receiver):
    assert webhook_tasks.deliver_due() == 1
    assert webhook_tasks.deliver_due() == 0
    assert len(receiver.requests) == 1
    assert Delivery.objects.get(pk=pending_delivery.pk).status == Delivery.Status.DELIVERED
