"""Portability requests and solution changes recorded from the client's and the solution's pages (managers)."""
from datetime import date
from html import unescape

import pytest
from django.urls import reverse

from dossiers.models import PortabilityRequest, SolutionChange

from ..factories import ClientFactory, SolutionFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


def test_a_manager_records_a_portability_request_then_its_fulfilment_and_the_deadlines_page_follows(as_manager,
                                                                                                   organisation):
    client = ClientFactory(organisation=organisation)
    response = as_manager.post(reverse("portability-request-add", args=[client.pk]), {
        "new-requested_on": "2025-12-19", "new-channel": "written", "new-notes": "Courrier recommandé"})
    assert response.status_code == 302 and response["Location"].endswith("#portabilite")
    request = PortabilityRequest.objects.get()
    assert (request.client, request.channel, request.notes) == (client, "written", "Courrier recommandé")
    page = text(as_manager.get(reverse("client-edit", args=[client.pk])))
    assert "19 décembre 2025" in page and "3 janvier 2026" in page and "Par écrit" in page
    listed = text(as_manager.get(reverse("deadlines")))
    assert "Demande de portabilité des données" in listed and f"/clients/{client.pk}/#portabilite" in listed
    prefix = f"row{request.pk}"
    response = as_manager.post(reverse("portability-request-edit", args=[request.pk]), {
        f"{prefix}-requested_on": "2025-12-19", f"{prefix}-channel": "written", f"{prefix}-fulfilled_on": "2025-12-30",
        f"{prefix}-notes": ""})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.fulfilled_on == date(2025, 12, 30)
    assert f"/clients/{client.pk}/#portabilite" not in text(as_manager.get(reverse("deadlines")))


def test_bad_portability_input_is_refused_in_french_and_nothing_is_saved(as_manager, organisation):
    client = ClientFactory(organisation=organisation)
    response = as_manager.post(reverse("portability-request-add", args=[client.pk]), {
        "new-requested_on": "2025-12-19", "new-channel": "written", "new-fulfilled_on": "2025-12-01"})
    assert response.status_code == 400
    assert "Cette date ne peut pas précéder le 19 décembre 2025" in text(response)
    response = as_manager.post(reverse("portability-request-add", args=[client.pk]), {"new-channel": "fax"})
    assert response.status_code == 400 and "Ce champ est obligatoire." in text(response)
    assert not PortabilityRequest.objects.exists()


def test_a_refused_update_reopens_its_row_and_changes_nothing(as_manager, organisation):
    client = ClientFactory(organisation=organisation)
    request = PortabilityRequest.objects.create(client=client, requested_on=date(2025, 12, 19))
    prefix = f"row{request.pk}"
    response = as_manager.post(reverse("portability-request-edit", args=[request.pk]), {
        f"{prefix}-requested_on": "2025-12-19", f"{prefix}-channel": "written", f"{prefix}-fulfilled_on": "2025-12-01"})
    assert response.status_code == 400 and "<details open>" in response.content.decode()
    request.refresh_from_db()
    assert request.fulfilled_on is None


def test_a_manager_records_a_solution_change_and_its_ans_notice(as_manager, organisation):
    solution = SolutionFactory(organisation=organisation)
    response = as_manager.post(reverse("solution-change-add", args=[solution.pk]), {
        "new-changed_on": "2025-12-01", "new-description": "Nouveau module", "new-affects_conformity": "on"})
    assert response.status_code == 302 and response["Location"].endswith("#modifications")
    change = SolutionChange.objects.get()
    page = text(as_manager.get(reverse("solution-detail", args=[solution.pk])))
    assert "avant le 16 décembre 2025" in page
    assert f"/solutions/{solution.pk}/#modifications" in text(as_manager.get(reverse("deadlines")))
    prefix = f"row{change.pk}"
    response = as_manager.post(reverse("solution-change-edit", args=[change.pk]), {
        f"{prefix}-changed_on": "2025-12-01", f"{prefix}-description": "Nouveau module",
        f"{prefix}-affects_conformity": "on", f"{prefix}-ans_notified_on": "2025-12-10"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.ans_notified_on == date(2025, 12, 10)
    assert "le 10 décembre 2025" in text(as_manager.get(reverse("solution-detail", args=[solution.pk])))


def test_bad_solution_change_input_is_refused_in_french(as_manager, organisation):
    solution = SolutionFactory(organisation=organisation)
    response = as_manager.post(reverse("solution-change-add", args=[solution.pk]), {
        "new-changed_on": "2025-12-01", "new-description": "Module", "new-affects_conformity": "on",
        "new-rereferencing_filed_on": "2026-01-10"})
    assert response.status_code == 400
    assert "Indiquez d'abord la date à laquelle l'ANS a demandé un nouveau référencement." in text(response)
    assert not SolutionChange.objects.exists()


def test_a_viewer_sees_the_records_but_no_form_and_may_not_post(as_viewer, organisation):
    client = ClientFactory(organisation=organisation)
    PortabilityRequest.objects.create(client=client, requested_on=date(2025, 12, 19))
    page = text(as_viewer.get(reverse("client-edit", args=[client.pk])))
    assert "19 décembre 2025" in page and reverse("portability-request-add", args=[client.pk]) not in page
    response = as_viewer.post(reverse("portability-request-add", args=[client.pk]), {
        "new-requested_on": "2025-12-19", "new-channel": "written"})
    assert response.status_code == 403 and PortabilityRequest.objects.count() == 1
    solution = SolutionFactory(organisation=organisation)
    assert as_viewer.post(reverse("solution-change-add", args=[solution.pk]), {
        "new-changed_on": "2025-12-01", "new-description": "Module"}).status_code == 403
    assert not SolutionChange.objects.exists()


def test_another_organisation_gets_404(as_outsider, organisation):
    client = ClientFactory(organisation=organisation)
    request = PortabilityRequest.objects.create(client=client, requested_on=date(2025, 12, 19))
    solution = SolutionFactory(organisation=organisation)
    change = SolutionChange.objects.create(solution=solution, changed_on=date(2025, 12, 1), description="Module")
    for name, pk in (("portability-request-add", client.pk), ("portability-request-edit", request.pk),
                     ("solution-change-add", solution.pk), ("solution-change-edit", change.pk)):
        assert as_outsider.post(reverse(name, args=[pk]), {}).status_code == 404, name
    assert PortabilityRequest.objects.count() == SolutionChange.objects.count() == 1
