"""Corrections requested by the ASP are due in jours ouvrés, with the client department's holidays (DOMAIN.md §8)."""
from datetime import date

import pytest
from django.urls import reverse

from dossiers import services
from reports import deadlines as dl
from dossiers.business_days import add_business_days, correction_due_on, is_business_day
from dossiers.models import State

from ..api.conftest import post_transition
from ..factories import ClientFactory, walk_to

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("requested_on", "department", "due_on"), [
    (date(2024, 7, 5), "75", date(2024, 7, 19)),      # a Friday: two weekends, no holiday
    (date(2025, 12, 19), "75", date(2026, 1, 6)),     # Christmas and New Year's Day
    (date(2025, 12, 19), "67", date(2026, 1, 7)),     # ...and 26 December in Alsace
    (date(2025, 12, 19), "57", date(2026, 1, 7)),     # ...and in Moselle
    (date(2025, 4, 11), "75", date(2025, 4, 28)),     # Easter Monday only
    (date(2025, 4, 11), "68", date(2025, 4, 29)),     # Good Friday too in Haut-Rhin
    (date(2025, 5, 21), "75", date(2025, 6, 5)),      # Ascension
    (date(2025, 5, 21), "971", date(2025, 6, 6)),     # ...and the abolition of slavery, 27 May in Guadeloupe
    (date(2025, 5, 21), "972", date(2025, 6, 6)),     # ...22 May in Martinique
])
def test_a_correction_is_due_ten_jours_ouvres_later_in_the_clients_department(requested_on, department, due_on):
    assert correction_due_on(requested_on, department=department) == due_on


def test_weekends_and_holidays_are_not_business_days_and_the_count_is_configurable(settings):
    assert not is_business_day(date(2025, 12, 20))  # Saturday
    assert not is_business_day(date(2025, 12, 25))
    assert is_business_day(date(2025, 12, 26), department="75")
    assert not is_business_day(date(2025, 12, 26), department="67")
    assert add_business_days(date(2025, 12, 24), 1, department="67") == date(2025, 12, 29)
    settings.CORRECTION_BUSINESS_DAYS = 2
    assert correction_due_on(date(2025, 12, 24), department="67") == date(2025, 12, 30)


@pytest.mark.parametrize(("department", "due_on"), [("75", date(2026, 1, 6)), ("67", date(2026, 1, 7))])
def test_request_solde_fix_records_the_due_date_in_the_departments_business_days(manager_membership, department,
                                                                                 due_on):
    client = ClientFactory(organisation=manager_membership.organisation, department=department)
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership, client=client)
    services.run_transition(dossier.pk, "request_solde_fix", by=manager_membership.user,
                            data={"on": "2025-12-19", "reason": "Facture sans mention"})
    dossier.refresh_from_db()
    assert dossier.solde_fix_due_on == due_on
    fix, = [d for d in dl.deadlines_for(dossier.organisation, today=date(2025, 12, 22))
            if d["kind"] == dl.Kind.SOLDE_TO_FIX]
    assert (fix["due"], fix["overdue"]) == (due_on, False)


def test_request_avance_fix_records_its_due_date_and_lists_the_avance_to_fix(manager_membership):
    client = ClientFactory(organisation=manager_membership.organisation, department="68")
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership, client=client)
    services.run_transition(dossier.pk, "request_avance_fix", by=manager_membership.user,
                            data={"on": "2025-04-11", "reason": "Pièce illisible"})
    dossier.refresh_from_db()
    assert dossier.avance_fix_due_on == date(2025, 4, 29)
    kinds = {d["kind"]: d for d in dl.deadlines_for(dossier.organisation, today=date(2025, 4, 14))}
    assert kinds[dl.Kind.AVANCE_TO_FIX]["due"] == date(2025, 4, 29)
    # Refiled: the correction is no longer awaited.
    services.run_transition(dossier.pk, "refile_avance", by=manager_membership.user, data={"filed_on": "2025-04-20"})
    assert dl.Kind.AVANCE_TO_FIX not in {d["kind"] for d in dl.deadlines_for(dossier.organisation)}


def test_the_reminder_goes_out_the_business_day_before_in_alsace_not_in_paris(manager_membership):
    for department in ("75", "67"):
        client = ClientFactory(organisation=manager_membership.organisation, department=department)
        dossier = walk_to(State.SOLDE_FILED, membership=manager_membership, client=client)
        services.run_transition(dossier.pk, "request_solde_fix", by=manager_membership.user,
                                data={"on": "2025-12-19", "reason": "Facture sans mention"})
    reminded = [d["client"] for d in dl.reminders_for(manager_membership.organisation, today=date(2026, 1, 6))
                if d["kind"] == dl.Kind.SOLDE_TO_FIX]
    assert len(reminded) == 1 and reminded[0] == client.name  # D-1 of 7 January (Alsace); Paris is due that day


@pytest.mark.parametrize(("department", "due_on"), [("75", "2026-01-06"), ("67", "2026-01-07")])
def test_the_api_lists_the_correction_deadline_in_business_days(api, manager_membership, department, due_on):
    client = ClientFactory(organisation=manager_membership.organisation, department=department)
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership, client=client)
    response = post_transition(api, dossier, "request_solde_fix", {"on": "2025-12-19", "reason": "Facture"})
    assert response.status_code == 200, response.json()
    listed = [d for d in api.get(reverse("reports:deadlines")).json()["results"]
              if d["dossier"] == dossier.pk and d["kind"] != "maintenance_end"]
    assert [(d["kind"], d["due"]) for d in listed] == [("solde_to_fix", due_on)]


def test_the_dossier_page_shows_when_the_correction_is_due(manager_membership):
    from html import unescape

    from ..pages.conftest import signed_in

    client = ClientFactory(organisation=manager_membership.organisation, department="67")
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership, client=client)
    services.run_transition(dossier.pk, "request_solde_fix", by=manager_membership.user,
                            data={"on": "2025-12-19", "reason": "Facture sans mention"})
    page = unescape(signed_in(manager_membership).get(reverse("dossier-detail", args=[dossier.pk])).content.decode())
    section = page[page.index("Corrections demandées par l'ASP"):]
    assert "Solde : à corriger avant le" in section and "7 janvier 2026" in section
