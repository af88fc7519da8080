"""The follow-up's tasks moved from dossiers.tasks to reports.tasks: messages queued under the old names still run."""
import pytest

from reports.models import ExportJob
from segurtrack.celery import app

from .conftest import bulk_dossiers

MOVED = ["send_daily_digests", "send_digest", "send_deadline_reminders", "send_deadline_reminder", "run_export"]


@pytest.mark.parametrize("name", MOVED)
def test_a_moved_task_answers_to_its_former_name_with_the_same_code(name):
    app.loader.import_default_modules()  # what a worker does at start
    new, old = app.tasks[f"reports.tasks.{name}"], app.tasks[f"dossiers.tasks.{name}"]
    assert new is not old and new.__wrapped__ is old.__wrapped__
    assert type(old).__mro__[1] is type(new).__mro__[1]  # the same base (OutboxTask for run_export)
    assert (old.max_retries, getattr(old, "autoretry_for", ())) == (new.max_retries, getattr(new, "autoretry_for", ()))


@pytest.mark.django_db
def test_an_export_queued_under_the_former_name_is_written(manager_membership):
    app.loader.import_default_modules()
    bulk_dossiers(manager_membership, 2)
    job = ExportJob.objects.create(organisation=manager_membership.organisation, kind="dossiers", format="csv")
    assert app.tasks["dossiers.tasks.run_export"].apply(args=[job.pk]).get() == "done"
    job.refresh_from_db()
    assert (job.status, job.row_count) == (ExportJob.Status.DONE, 2)


def test_a_task_name_never_registered_is_not_found():
    app.loader.import_default_modules()
    assert "dossiers.tasks.run_exports" not in app.tasks
