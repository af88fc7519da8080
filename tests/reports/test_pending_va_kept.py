"""The pending-VA summary read from the kept PendingVaDay cells (dossiers.counters): equal to the live count for
every filter the cells answer and as today's date moves; a change through the writer shows on the next request;
the filters the cells do not answer are counted live."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dossiers import counters, services
from dossiers.models import Dispositif, PendingVaDay

from ..factories import DOCUMENTS_BEFORE, attach, days_ago, valid_payload
from .conftest import url
from .test_pending_va import pending  # noqa: F401 (the eight dossiers on the bucket boundaries)

from reports import queries

pytestmark = pytest.mark.django_db


def live(scope, today, **filters):
    return queries.pending_va_summary(queries.pending_va_queryset(scope, **filters), today)


@pytest.mark.parametrize("days_later", [0, 1, 29, 45, 200])
def test_the_kept_summary_equals_the_live_count_for_every_kept_filter_as_days_pass(
        pending, organisation, outsider_membership, days_later):  # noqa: F811
    from .conftest import deployed

    deployed(outsider_membership, 40)   # another organisation's: never in this one's figures, in staff's
    today = timezone.localdate() + timedelta(days=days_later)
    hospital = Dispositif.objects.get(code="HOP-DPI-VA1")
    for scope in (organisation.pk, None):
        for filters in ({}, {"dispositif": "HOP-DPI-VA1"}, {"dispositif": "MDV-LGC-VA1"},
                        {"couloir": hospital.couloir_id}, {"organisation": organisation.pk},
                        {"dispositif": "NO-SUCH"}):
            kept = queries.pending_va_summary_kept(scope, today, **filters)
            assert kept == live(scope, today, **filters), (scope, filters)
    assert queries.pending_va_summary_kept(None, today)["total"] == 9
    assert queries.pending_va_summary_kept(organisation.pk, today, dispositif="NO-SUCH")["total"] == 0


def test_the_kept_summary_reads_one_query_and_no_dossier(pending, organisation, django_assert_num_queries):  # noqa: F811
    with CaptureQueriesContext(connection) as captured:
        queries.pending_va_summary_of(organisation.pk, {}, queries.pending_va_queryset(organisation.pk),
                                      timezone.localdate())
    assert len(captured.captured_queries) == 1
    assert "dossiers_dossier" not in captured.captured_queries[0]["sql"]
    assert PendingVaDay._meta.db_table in captured.captured_queries[0]["sql"]


def test_the_solution_filter_is_counted_live(pending, organisation, hospital_solution):  # noqa: F811
    today = timezone.localdate()
    filters = {"solution": hospital_solution.pk}
    with CaptureQueriesContext(connection) as captured:
        summary = queries.pending_va_summary_of(organisation.pk, filters,
                                                queries.pending_va_queryset(organisation.pk, **filters), today)
    assert summary == live(organisation.pk, today, **filters) and summary["total"] == 1
    assert all("dossiers_dossier" in query["sql"] for query in captured.captured_queries)


def test_a_signed_va_leaves_the_report_on_the_next_request(api, pending, manager_membership):  # noqa: F811
    assert api.get(url("pending-va")).json()["total"] == 8
    dossier = pending[0]
    for kind in DOCUMENTS_BEFORE["sign_va"]:
        attach(dossier, kind, manager_membership.user)
    payload = {**valid_payload("sign_va", dossier), "signed_on": timezone.localdate().isoformat()}  # after deployment
    services.run_transition(dossier.pk, "sign_va", by=manager_membership.user, data=payload)
    body = api.get(url("pending-va")).json()
    assert body["total"] == 7
    assert body["buckets"][0] == {"label": "0-30", "count": 1}
    assert counters.kept(manager_membership.organisation) == counters.recompute(manager_membership.organisation)


def test_a_corrected_deployment_date_moves_the_dossier_to_its_bucket(api, pending, manager_membership):  # noqa: F811
    services.correct_step(pending[0].pk, by=manager_membership.user, step="mark_deployed",
                          changes={"deployed_on": days_ago(100).isoformat()})
    body = api.get(url("pending-va")).json()
    assert body["buckets"] == [{"label": "0-30", "count": 1}, {"label": "31-60", "count": 2},
                               {"label": "61-90", "count": 2}, {"label": "90+", "count": 3}]
    assert body["overdue"] == 7
    assert counters.kept(manager_membership.organisation) == counters.recompute(manager_membership.organisation)


def test_a_rebuild_repairs_a_wrong_pending_cell(api, pending, organisation):  # noqa: F811
    buckets = [{"label": "0-30", "count": 2}, {"label": "31-60", "count": 2}, {"label": "61-90", "count": 2},
               {"label": "90+", "count": 2}]
    assert api.get(url("pending-va")).json()["buckets"] == buckets
    PendingVaDay.objects.filter(organisation=organisation).update(count=0)
    # The kept cells are what the report reads: the recent ones lost, every VA now looks 90 days old or more.
    body = api.get(url("pending-va")).json()
    assert body["total"] == 8 and [b["count"] for b in body["buckets"]] == [0, 0, 0, 8] and body["overdue"] == 8
    counters.rebuild(organisation)
    assert api.get(url("pending-va")).json()["buckets"] == buckets


def test_deployed_dossiers_without_a_date_are_counted_but_never_aged(organisation, manager_membership):
    from decimal import Decimal

    from dossiers.models import State

    from .conftest import bulk_dossiers

    undated = bulk_dossiers(manager_membership, 2, deployed_on=None)   # loaded past the writer, then rebuilt
    dated = bulk_dossiers(manager_membership, 1, deployed_on=days_ago(100))
    # Through the writer's path: one more undated dossier counted, then its amount moved (a NULL-day cell added to).
    snapshot = counters.snapshot(undated[0])
    counters.Deltas().move(None, snapshot).apply()
    moved = counters.Snapshot(*[getattr(snapshot, f) for f in ("organisation_id", "dispositif_id", "solution_id",
                                                               "state", "declared_amount")],
                              Decimal("5000.00"), Decimal("0.00"), None)
    counters.Deltas().move(snapshot, moved).apply()
    today = timezone.localdate()
    summary = queries.pending_va_summary_kept(organisation.pk, today)
    assert summary["total"] == 4 and summary["overdue"] == 1
    assert [b["count"] for b in summary["buckets"]] == [0, 0, 0, 1]
    assert counters.kept(organisation)["pending_va"][(dated[0].dispositif_id, None)][0] == 3
    assert snapshot.state == State.DEPLOYED and snapshot.pending_key[2] is None
    counters.rebuild(organisation)      # the NULL-day rows folded back into one, the extra dossier gone
    assert queries.pending_va_summary_kept(organisation.pk, today) == live(organisation.pk, today)
    assert PendingVaDay.objects.filter(organisation=organisation, deployed_on=None).count() == 1


@pytest.mark.parametrize("days_later", [0, 45])
def test_the_written_out_sql_and_the_orm_reading_of_the_cells_agree(pending, organisation, days_later):  # noqa: F811
    # PostgreSQL runs the written-out statement (the last days' cells and the state cells), SQLite the ORM's (every
    # day's cells): both answer the same.
    today = timezone.localdate() + timedelta(days=days_later)
    hospital = Dispositif.objects.get(code="HOP-DPI-VA1")
    for conditions in ([], [("k.organisation_id", organisation.pk)], [("p.code", "MDV-LGC-VA1")],
                       [("p.couloir_id", hospital.couloir_id), ("k.dispositif_id", hospital.pk)]):
        def plain(rows):  # a sum over no cell is NULL in one reading, 0 in the other
            return [(code, n, overdue or 0, stake, *(b or 0 for b in buckets))
                    for code, n, overdue, stake, *buckets in rows]

        written = queries._kept_cells_sql(today, conditions)
        assert written and plain(written) == plain(queries._kept_cells_orm(today, conditions))
