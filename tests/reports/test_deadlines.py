"""Deadlines (DOMAIN.md §6): each kind from the data, overdue flags, order, filter, reminders, isolation."""
import calendar
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from reports import deadlines as dl
from dossiers import deadlines, services
from dossiers.models import Dispositif, Dossier, PortabilityRequest, SolutionChange, State

from ..factories import ClientFactory, EsmsClientFactory, SolutionFactory, days_ago, walk_to
from .conftest import deployed, url


def in_days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)


def avance_dispositif(days: int, code: str | None = None) -> Dispositif:
    """A dispositif whose avance deadline is `days` days from today at noon (Europe/Paris)."""
    deadline = timezone.make_aware(datetime.combine(in_days(days), time(12, 0)))
    return Dispositif.objects.create(code=code or f"TEST-AV-{days}", label=f"Test {days}", couloir_id="hopital",
                                     vague=2, avance_deadline=deadline)


def not_filed(membership, dispositif: Dispositif, state: str = State.BDC_SIGNED) -> Dossier:
    solution = SolutionFactory(organisation=membership.organisation, dispositif=dispositif)
    return walk_to(state, membership=membership, solution=solution)


def esms_signed(membership, days: int) -> Dossier:
    client = EsmsClientFactory(organisation=membership.organisation, ans_contract_signed_on=None)
    dossier = walk_to(State.BDC_SIGNED, membership=membership, client=client)
    Dossier.objects.filter(pk=dossier.pk).update(bdc_signed_on=days_ago(days))
    deadlines.keep(dossier_ids=[dossier.pk])  # a date written past the writer: kept as the writer would
    return dossier


@pytest.fixture
def every_kind(manager_membership, organisation):
    m = manager_membership
    made = {"avance": not_filed(m, avance_dispositif(20)), "esms": esms_signed(m, 14),
            "pending_va": deployed(m, 40)}
    made["solde_to_fix"] = walk_to(State.SOLDE_TO_FIX, membership=m)
    # The due date in jours ouvrés is recorded by the transition (tests/dossiers/test_business_days.py).
    Dossier.objects.filter(pk=made["solde_to_fix"].pk).update(solde_fix_requested_on=days_ago(2),
                                                              solde_fix_due_on=in_days(5),
                                                              maintenance_contract=True)
    made["avance_to_fix"] = walk_to(State.AVANCE_TO_FIX, membership=m)
    Dossier.objects.filter(pk=made["avance_to_fix"].pk).update(avance_fix_due_on=days_ago(1))
    client = ClientFactory(organisation=organisation)
    made["portability"] = PortabilityRequest.objects.create(client=client, requested_on=days_ago(5))
    PortabilityRequest.objects.create(client=client, requested_on=days_ago(30), fulfilled_on=days_ago(20))
    solution = SolutionFactory(organisation=organisation)
    made["ans_notice"] = SolutionChange.objects.create(solution=solution, changed_on=days_ago(20),
                                                       description="Nouveau module", affects_conformity=True)
    SolutionChange.objects.create(solution=solution, changed_on=days_ago(20), description="Couleurs")
    SolutionChange.objects.create(solution=solution, changed_on=days_ago(20), description="Notifiée",
                                  affects_conformity=True, ans_notified_on=days_ago(10))
    made["rereferencing"] = SolutionChange.objects.create(
        solution=solution, changed_on=date(2024, 1, 2), description="Refonte", affects_conformity=True,
        ans_notified_on=date(2024, 1, 10), rereferencing_requested_on=date(2024, 1, 31))
    made["maintenance"] = walk_to(State.VA_SIGNED, membership=m)
    Dossier.objects.filter(pk=made["maintenance"].pk).update(va_signed_on=days_ago(10), maintenance_contract=True)
    expired = walk_to(State.VA_SIGNED, membership=m)
    Dossier.objects.filter(pk=expired.pk).update(va_signed_on=date(2017, 1, 1), maintenance_contract=True)
    walk_to(State.VA_SIGNED, membership=m)  # no maintenance contract: no maintenance deadline (SEED-1)
    made["recovery"] = walk_to(State.RECOVERY_ISSUED, membership=m)
    # Not deadlines: an avance already filed on a dispositif with a deadline, a complete ESMS client.
    not_filed(m, avance_dispositif(25), state=State.AVANCE_FILED)
    walk_to(State.BDC_SIGNED, membership=m, client=EsmsClientFactory(organisation=organisation))
    # Dates and follow-ups written past the writers above: rebuilt, as after any bulk load.
    deadlines.rebuild(organisation)
    return made


def by_kind(deadlines):
    grouped = {}
    for deadline in deadlines:
        grouped.setdefault(deadline["kind"], []).append(deadline)
    return grouped


def test_each_kind_of_deadline_is_computed_from_the_data(every_kind):
    organisation = every_kind["avance"].organisation
    kinds = by_kind(dl.deadlines_for(organisation))
    avance, = kinds[dl.Kind.AVANCE_FILING]
    assert avance["dossier"] == every_kind["avance"].pk and avance["reference"] == every_kind["avance"].reference
    assert avance["due"] == timezone.localtime(every_kind["avance"].dispositif.avance_deadline)
    assert (avance["days_left"], avance["overdue"]) == (20, False)
    esms, = kinds[dl.Kind.ESMS_PREREQUISITES]
    assert (esms["dossier"], esms["due"], esms["overdue"]) == (every_kind["esms"].pk, days_ago(7), True)
    pending, = kinds[dl.Kind.PENDING_VA]
    assert (pending["due"], pending["days_left"], pending["overdue"]) == (days_ago(10), -10, True)
    fix, = kinds[dl.Kind.SOLDE_TO_FIX]
    assert (fix["due"], fix["days_left"], fix["overdue"]) == (in_days(5), 5, False)
    avance_fix, = kinds[dl.Kind.AVANCE_TO_FIX]
    assert (avance_fix["dossier"], avance_fix["due"], avance_fix["overdue"]) == (
        every_kind["avance_to_fix"].pk, days_ago(1), True)
    portability, = kinds[dl.Kind.PORTABILITY]
    assert (portability["due"], portability["overdue"], portability["dossier"]) == (in_days(10), False, None)
    assert portability["object_id"] == every_kind["portability"].pk
    assert portability["url"] == f"/api/v1/clients/{every_kind['portability'].client_id}/"
    notice, = kinds[dl.Kind.ANS_NOTICE]
    assert (notice["due"], notice["overdue"], notice["object_id"]) == (days_ago(5), True, every_kind["ans_notice"].pk)
    assert notice["solution"] == str(every_kind["ans_notice"].solution)
    rereferencing, = kinds[dl.Kind.REREFERENCING]
    assert rereferencing["due"] == date(2024, 2, 29)  # one month after 31 January, clamped to the month's end
    assert rereferencing["overdue"] is True
    maintenance = {d["dossier"]: d for d in kinds[dl.Kind.MAINTENANCE_END]}
    signed = days_ago(10)
    last_day = calendar.monthrange(signed.year + 6, signed.month)[1]
    assert maintenance[every_kind["maintenance"].pk]["due"] == date(signed.year + 6, signed.month,
                                                                    min(signed.day, last_day))
    assert not any(d["overdue"] for d in maintenance.values())  # information, never overdue
    assert len(maintenance) == 2  # the solde to fix is after its VA too; the 2017 VA's coverage has ended
    recovery, = kinds[dl.Kind.RECOVERY]
    assert (recovery["due"], recovery["overdue"], recovery["amount"]) == (date(2024, 8, 5), True, "3000.00")
    assert set(kinds) == set(dl.KINDS)
    assert all(d["label"] == str(dl.LABELS[d["kind"]]) for d in dl.deadlines_for(organisation))


def test_deadlines_come_soonest_first(every_kind):
    deadlines = dl.deadlines_for(every_kind["avance"].organisation)
    dues = [d["due"].date() if isinstance(d["due"], datetime) else d["due"] for d in deadlines]
    assert dues == sorted(dues)
    assert deadlines[0]["kind"] == dl.Kind.REREFERENCING


def test_due_before_keeps_the_overdue_and_those_due_by_that_day(every_kind):
    organisation = every_kind["avance"].organisation
    today = dl.deadlines_for(organisation, due_before=timezone.localdate())
    assert {d["kind"] for d in today} == {dl.Kind.RECOVERY, dl.Kind.REREFERENCING, dl.Kind.ESMS_PREREQUISITES,
                                          dl.Kind.PENDING_VA, dl.Kind.ANS_NOTICE, dl.Kind.AVANCE_TO_FIX}
    assert all(d["overdue"] for d in today)
    week = dl.deadlines_for(organisation, due_before=in_days(7))
    assert {d["kind"] for d in week} - {d["kind"] for d in today} == {dl.Kind.SOLDE_TO_FIX}
    assert len(dl.deadlines_for(organisation, due_before=in_days(20))) == len(week) + 2  # portability, avance


def test_an_avance_deadline_past_is_overdue_until_the_dossier_is_filed_or_cancelled(manager_membership):
    dossier = not_filed(manager_membership, avance_dispositif(-1), state=State.DRAFT)
    avance, = dl.deadlines_for(dossier.organisation)
    assert avance["overdue"] is True and avance["days_left"] == -1


def test_an_esms_deadline_closes_once_the_prerequisites_are_complete(manager_membership):
    dossier = esms_signed(manager_membership, 3)
    assert [d["kind"] for d in dl.deadlines_for(dossier.organisation)] == [dl.Kind.ESMS_PREREQUISITES]
    client = dossier.client
    client.ans_contract_signed_on = days_ago(1)
    client.cpe_cards = client.software_certificates = "not_needed"
    services.save_client(client, by=manager_membership.user)  # the writer keeps the client's deadlines
    assert dl.deadlines_for(dossier.organisation) == []


def test_avance_reminders_go_out_at_d30_d7_and_d1(manager_membership):
    made = {days: not_filed(manager_membership, avance_dispositif(days)) for days in (30, 10, 7, 1)}
    reminded = dl.reminders_for(manager_membership.organisation)
    assert sorted(d["dossier"] for d in reminded) == sorted(made[days].pk for days in (30, 7, 1))
    tomorrow = dl.reminders_for(manager_membership.organisation, today=in_days(3))  # 10 days → D-7
    assert [d["dossier"] for d in tomorrow] == [made[10].pk]


def test_esms_prerequisites_are_reminded_weekly_once_due(manager_membership):
    made = {days: esms_signed(manager_membership, days) for days in (3, 7, 10, 14, 21)}
    reminded = {d["dossier"] for d in dl.reminders_for(manager_membership.organisation)}
    assert reminded == {made[7].pk, made[14].pk, made[21].pk}


def test_the_api_lists_deadlines_paginated_soonest_first(api, every_kind):
    response = api.get(url("deadlines"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(dl.deadlines_for(every_kind["avance"].organisation)) and body["previous"] is None
    first = body["results"][0]
    assert first == {**first, "kind": "rereferencing", "due": "2024-02-29", "overdue": True, "dossier": None}
    avance = next(d for d in body["results"] if d["kind"] == "avance_filing")
    assert avance["due"].endswith("T12:00:00+01:00") or avance["due"].endswith("T12:00:00+02:00")
    assert avance["url"] == f"/api/v1/dossiers/{every_kind['avance'].pk}/"
    filtered = api.get(url("deadlines"), {"due_before": timezone.localdate().isoformat()}).json()
    assert filtered["count"] == 6 and all(d["overdue"] for d in filtered["results"])
    paged = api.get(url("deadlines"), {"page_size": 2}).json()
    assert len(paged["results"]) == 2 and paged["next"] is not None


def test_the_list_can_be_narrowed_to_some_kinds_such_as_maintenance_expiries(api, every_kind):
    body = api.get(url("deadlines"), {"kind": "maintenance_end"}).json()
    assert body["count"] == 2 and {d["kind"] for d in body["results"]} == {"maintenance_end"}
    both = api.get(url("deadlines") + "?kind=recovery&kind=portability").json()
    assert sorted(d["kind"] for d in both["results"]) == ["portability", "recovery"]
    assert list(api.get(url("deadlines"), {"kind": "bogus"}).json()["errors"]) == ["kind"]


@pytest.mark.parametrize("value", ["2025-13-01", "demain", "17/09/2025"])
def test_a_malformed_due_before_is_a_400_naming_the_field(api, value):
    response = api.get(url("deadlines"), {"due_before": value})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["due_before"]


def test_another_organisation_s_deadlines_are_absent(outsider_api, outsider_membership, every_kind):
    theirs = deployed(outsider_membership, 35)
    body = outsider_api.get(url("deadlines")).json()
    assert [(d["kind"], d["dossier"]) for d in body["results"]] == [("pending_va", theirs.pk)]
