"""The deadlines' readers read the kept rows (dossiers.deadlines): one query on the kept table alone, answering
exactly what the live computation answers; "overdue" and the information kinds follow today without any write."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from dossiers import deadlines, services
from dossiers.deadlines import ORDER, Kind
from dossiers.models import Dossier, OpenDeadline, State
from reports import deadlines as dl

from ..factories import attach, valid_payload, walk_to
from .conftest import deployed, url

pytestmark = pytest.mark.django_db


def live_deadlines(organisation, *, today: date, due_before: date | None = None) -> list[dict]:
    """What the readers answered before the rows were kept: the live rows, shown the same way."""
    rows = deadlines.of_organisations([organisation.pk]).order_by(*ORDER)
    now = timezone.make_aware(datetime.combine(today, time.min))
    shown = [dl.as_deadline(row, today=today, now=now) for row in rows
             if row["dl_kind"] not in deadlines.INFORMATION_KINDS or row["dl_due"] >= today]
    return [d for d in shown if due_before is None or dl.due_date(d) <= due_before]


@pytest.fixture
def book(manager_membership):
    m = manager_membership
    made = [deployed(m, 40), deployed(m, 10), walk_to(State.RECOVERY_ISSUED, membership=m),
            walk_to(State.SOLDE_TO_FIX, membership=m)]
    signed = walk_to(State.VA_SIGNED, membership=m)
    services.update_dossier(signed.pk, by=m.user, changes={"maintenance_contract": True})
    return [*made, signed]


def test_the_readers_answer_what_the_live_computation_answers(book, manager_membership):
    organisation = manager_membership.organisation
    for today in (timezone.localdate(), date(2024, 7, 1), date(2031, 1, 1)):
        for due_before in (None, today, today + timedelta(days=30)):
            assert dl.deadlines_for(organisation, today=today, due_before=due_before) == live_deadlines(
                organisation, today=today, due_before=due_before)
    assert len(dl.deadlines_for(organisation)) == 5


def test_deadlines_for_reads_the_kept_table_alone_in_one_query(book, manager_membership, django_assert_num_queries):
    with django_assert_num_queries(1) as queries:
        found = dl.deadlines_for(manager_membership.organisation)
    sql = queries.captured_queries[0]["sql"]
    assert OpenDeadline._meta.db_table in sql and "JOIN" not in sql.upper()
    assert {d["kind"] for d in found} == {Kind.PENDING_VA, Kind.RECOVERY, Kind.SOLDE_TO_FIX, Kind.MAINTENANCE_END}


def test_overdue_follows_today_without_any_write(manager_membership):
    dossier = deployed(manager_membership, 25)  # due in 5 days (30-day delay)
    due = dossier.deployed_on + timedelta(days=30)
    before, = dl.deadlines_for(manager_membership.organisation, today=due - timedelta(days=1))
    after, = dl.deadlines_for(manager_membership.organisation, today=due + timedelta(days=1))
    assert (before["overdue"], before["days_left"]) == (False, 1)
    assert (after["overdue"], after["days_left"]) == (True, -1)


def test_a_maintenance_coverage_past_stays_kept_but_is_no_longer_listed(manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)  # VA signed 2024-06-20
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"maintenance_contract": True})
    organisation = manager_membership.organisation
    assert [d["kind"] for d in dl.deadlines_for(organisation, today=date(2030, 6, 20))] == [Kind.MAINTENANCE_END]
    assert dl.deadlines_for(organisation, today=date(2030, 6, 21)) == []
    assert OpenDeadline.objects.filter(organisation=organisation).count() == 1


def test_the_api_and_the_page_read_the_kept_rows(api, client, manager_membership):
    dossier = deployed(manager_membership, 40)
    OpenDeadline.objects.filter(dossier=dossier).update(reference="KEPT-ONLY")  # proves where they read
    assert api.get(url("deadlines")).json()["results"][0]["reference"] == "KEPT-ONLY"
    client.force_login(manager_membership.user)
    assert "KEPT-ONLY" in client.get(url("deadlines")).content.decode()


def test_another_organisation_s_rows_are_never_read(manager_membership, outsider_membership, outsider_api):
    deployed(manager_membership, 40)
    theirs = deployed(outsider_membership, 35)
    assert [d["dossier"] for d in outsider_api.get(url("deadlines")).json()["results"]] == [theirs.pk]


def test_a_transition_closes_the_deadline_the_readers_show(manager_membership):
    dossier = deployed(manager_membership, 40)
    assert [d["kind"] for d in dl.deadlines_for(manager_membership.organisation)] == [Kind.PENDING_VA]
    attach(dossier, "va", manager_membership.user)
    services.run_transition(dossier.pk, "sign_va", by=manager_membership.user,
                            data=valid_payload("sign_va", dossier, signed_on=timezone.localdate().isoformat()))
    assert Dossier.objects.get(pk=dossier.pk).state == State.VA_SIGNED
    assert dl.deadlines_for(manager_membership.organisation) == []
