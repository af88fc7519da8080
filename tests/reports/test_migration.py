"""The models moved from dossiers to reports with their tables: a database migrated on main keeps every row."""
from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dossiers.models import OutboxMessage
from reports.models import CalendarFeed, DigestSent, ExportJob, ReminderSent

BEFORE = [("dossiers", "0010_merge_trust_data"), ("reports", None)]
MOVED = ["digestsent", "remindersent", "exportjob", "calendarfeed"]


def migrate(targets):
    """Migrate to `targets`; the models as they stand there (those of the apps the targets depend on)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([target for target in targets if target[1]]).apps


@pytest.fixture(autouse=True)
def migrated_again():
    """Whatever a test does, the database ends at the latest migrations (the tests after it need them)."""
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_of_main_keeps_its_rows_and_their_permissions(manager_membership):
    old = migrate(BEFORE)
    with pytest.raises(LookupError):
        old.get_model("reports", "ExportJob")
    user_id, organisation_id = manager_membership.user_id, manager_membership.organisation_id
    old.get_model("dossiers", "DigestSent").objects.create(user_id=user_id, organisation_id=organisation_id,
                                                           day=date(2024, 9, 3))
    old.get_model("dossiers", "ReminderSent").objects.create(user_id=user_id, organisation_id=organisation_id,
                                                             day=date(2024, 9, 3), count=2)
    job = old.get_model("dossiers", "ExportJob").objects.create(
        organisation_id=organisation_id, user_id=user_id, kind="pending_va", format="xlsx", params={"couloir": "MS"})
    old.get_model("dossiers", "CalendarFeed").objects.create(membership_id=manager_membership.pk, digest="d" * 64)
    old.get_model("dossiers", "OutboxMessage").objects.create(task_name="dossiers.tasks.run_export", args=[job.pk])
    # Main's content types: the models are the dossiers app's (migrating back gave them back; none are left over).
    ContentType.objects.filter(app_label="reports").delete()
    for model in MOVED:
        ContentType.objects.get_or_create(app_label="dossiers", model=model)

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert DigestSent.objects.get().day == date(2024, 9, 3)
    assert ReminderSent.objects.get().count == 2
    moved_job = ExportJob.objects.get()
    assert (moved_job.pk, moved_job.format, moved_job.params) == (job.pk, "xlsx", {"couloir": "MS"})
    assert CalendarFeed.objects.get().membership == manager_membership
    assert OutboxMessage.objects.get().task_name == "reports.tasks.run_export"
    assert sorted(ContentType.objects.filter(model__in=MOVED).values_list("app_label", "model")) == sorted(
        ("reports", model) for model in MOVED)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrating_back_gives_the_rows_to_dossiers_again(manager_membership):
    DigestSent.objects.create(user=manager_membership.user, organisation=manager_membership.organisation,
                              day=date(2024, 9, 4))
    ContentType.objects.get_for_model(DigestSent)  # the content type the reports app's model has
    old = migrate(BEFORE)
    assert old.get_model("dossiers", "DigestSent").objects.get().day == date(2024, 9, 4)
    assert ContentType.objects.filter(app_label="dossiers", model="digestsent").exists()
    assert not ContentType.objects.filter(app_label="reports", model="digestsent").exists()
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert DigestSent.objects.get().day == date(2024, 9, 4)
