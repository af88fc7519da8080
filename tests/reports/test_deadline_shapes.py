"""The deadlines read in bulk (one Shaper per read, rows straight from the cursor, URLs from one reversed prefix)
are exactly what the row-by-row reading answered: the ORM's rows, `reverse()` per row, the API's serializer."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from reports import deadlines as dl
from reports.api.reports import DeadlineSerializer, represent_deadline

from .conftest import url
from . import test_deadlines

pytestmark = pytest.mark.django_db

# The fixture of tests/reports/test_deadlines.py: one deadline of each kind, and some that are not deadlines.
every_kind = test_deadlines.every_kind


def one_by_one(organisation, *, today, due_before=None, kinds=None) -> list[dict]:
    """What the readers answered before: the ORM's dict of each row, its label and URL worked out for it alone."""
    now = timezone.make_aware(datetime.combine(today, time.min))
    rows = dl.deadline_queryset(organisation, today=today, due_before=due_before, kinds=kinds)
    answered = []
    for row in rows:
        kind, due_at = row["dl_kind"], row["dl_due_at"]
        if row["dl_dossier"] is not None:
            target = reverse("api:dossier-detail", args=[row["dl_dossier"]])
        elif kind == dl.Kind.PORTABILITY:
            target = reverse("api:client-detail", args=[row["dl_client_id"]])
        else:
            target = reverse("api:solution-detail", args=[row["dl_solution_id"]])
        overdue = (False if kind in dl.INFORMATION_KINDS
                   else due_at <= now if due_at is not None else row["dl_due"] < today)
        answered.append({
            "kind": kind, "label": str(dl.LABELS[kind]),
            "due": timezone.localtime(due_at) if due_at is not None else row["dl_due"],
            "overdue": overdue, "days_left": (row["dl_due"] - today).days,
            "dossier": row["dl_dossier"], "reference": row["dl_reference"], "client_id": row["dl_client_id"],
            "client": row["dl_client"], "solution_id": row["dl_solution_id"], "solution": row["dl_solution"],
            "object_id": row["dl_object"], "url": target,
            "amount": None if row["dl_amount"] is None else f"{row['dl_amount']:.2f}",
        })
    return answered


def test_every_kind_reads_in_bulk_as_it_read_row_by_row(every_kind):
    organisation = every_kind["avance"].organisation
    today = timezone.localdate()
    for day in (today, today - timedelta(days=400), today + timedelta(days=30)):
        for due_before in (None, day, day + timedelta(days=180)):
            bulk = dl.deadlines_for(organisation, today=day, due_before=due_before)
            assert bulk == one_by_one(organisation, today=day, due_before=due_before)
    assert {d["kind"] for d in dl.deadlines_for(organisation)} == set(dl.KINDS)
    # A single row (the home page's) reads the same as a bulk read of it.
    row = dl.deadline_queryset(organisation, today=today)[0]
    now = timezone.make_aware(datetime.combine(today, time.min))
    assert dl.as_deadline(row, today=today, now=now) == one_by_one(organisation, today=today)[0]


def test_urls_follow_the_script_prefix_of_the_read(every_kind):
    organisation = every_kind["avance"].organisation
    set_script_prefix("/segur/")
    try:
        bulk = dl.deadlines_for(organisation)
        assert bulk == one_by_one(organisation, today=timezone.localdate())
        assert all(d["url"].startswith("/segur/api/v1/") for d in bulk)
    finally:
        set_script_prefix("/")
    assert all(d["url"].startswith("/api/v1/") for d in dl.deadlines_for(organisation))


def test_no_kind_asked_reads_nothing_and_one_kind_reads_only_it(every_kind, django_assert_num_queries):
    organisation = every_kind["avance"].organisation
    with django_assert_num_queries(0):
        assert dl.deadlines_for(organisation, kinds=[]) == []
    recovery = dl.deadlines_for(organisation, kinds=[dl.Kind.RECOVERY])
    assert [d["kind"] for d in recovery] == [dl.Kind.RECOVERY] and recovery[0]["amount"] == "3000.00"


def test_the_api_writes_what_its_serializer_writes(api, every_kind):
    organisation = every_kind["avance"].organisation
    deadlines = dl.deadlines_for(organisation)
    assert [represent_deadline(d) for d in deadlines] == DeadlineSerializer(deadlines, many=True).data
    body = api.get(url("deadlines"), {"page_size": 500}).json()
    assert body["results"] == [dict(d) for d in DeadlineSerializer(deadlines, many=True).data]
    assert body["count"] == len(deadlines)


def test_a_page_of_the_api_is_the_slice_of_the_whole(api, every_kind):
    whole = api.get(url("deadlines"), {"page_size": 500}).json()["results"]
    second = api.get(url("deadlines"), {"page_size": 3, "page": 2}).json()
    assert second["results"] == whole[3:6] and second["count"] == len(whole)
    assert api.get(url("deadlines"), {"page_size": 3, "page": 999}).status_code == 404


@pytest.mark.parametrize("kinds", [None, [], [dl.Kind.RECOVERY], {dl.Kind.PORTABILITY, dl.Kind.MAINTENANCE_END},
                                   list(dl.KINDS)])
def test_the_statements_written_out_read_what_the_orm_reads(every_kind, kinds):
    organisation = every_kind["avance"].organisation
    today = timezone.localdate()
    for day in (today, today - timedelta(days=3000), today + timedelta(days=3000)):
        for due_before in (None, day, day - timedelta(days=10)):
            orm = dl.OrmRows(dl.deadline_queryset(organisation, today=day, due_before=due_before, kinds=kinds))
            read = dl.kept_read(organisation, today=day, due_before=due_before, kinds=kinds)
            assert read.fetch() == orm.fetch() and read.count() == orm.count() == len(orm.fetch())
            for offset, limit in ((0, 3), (2, 4), (5, None), (100, 5), (0, 0)):
                assert read.fetch(offset, limit) == orm.fetch(offset, limit)
    other = dl.kept_read(every_kind["avance"].organisation.pk + 999, today=today)
    assert other.fetch() == [] and other.count() == 0


def test_the_reminders_read_in_sql_are_the_days_is_reminder_day_picks(every_kind, django_assert_num_queries):
    organisation = every_kind["avance"].organisation
    today = timezone.localdate()
    reminded_somewhere = set()
    # Every day around today, and the reminder days of each deadline (the maintenance end's are years away).
    dues = {dl.due_date(d) for d in dl.deadlines_for(organisation, today=today - timedelta(days=4000))}
    days = {today + timedelta(days=n) for n in range(-200, 200)} | {
        due - timedelta(days=n) for due in dues for n in (180, 30, 7, 3, 1, 0, -7, -14)}
    for day in sorted(days):
        expected = [d for d in dl.deadlines_for(organisation, today=day,
                                                due_before=day + timedelta(days=dl.REMINDER_HORIZON_DAYS))
                    if dl.is_reminder_day(d)]
        with django_assert_num_queries(1):
            reminders = dl.reminders_for(organisation, today=day)
        assert reminders == expected
        reminded_somewhere |= {d["kind"] for d in reminders}
    assert reminded_somewhere == set(dl.KINDS)
