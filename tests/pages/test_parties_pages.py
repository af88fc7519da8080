"""Clients (with the as-you-type identifier check), solutions and their PV pilotes."""
from datetime import date
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dossiers.models import Blocker, Client, Dossier, PvPilote, Solution, State
from dossiers.services import refresh_blockers_of

from ..factories import ClientFactory, PvPiloteFactory, pdf_upload


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


CLIENT = {"name": "Centre hospitalier de Lourdes", "kind": "es", "department": "65", "vat_liable": "on",
          "finess_geo": "010 003 820", "siret": "", "finess_legal": ""}


def test_a_client_is_created_with_its_identifiers_compacted(as_manager, organisation):
    response = as_manager.post(reverse("client-create"), CLIENT)
    assert response.status_code == 302, text(response)[-3000:]
    client = Client.objects.get()
    assert response["Location"] == reverse("client-edit", args=[client.pk])
    assert (client.organisation, client.finess_geo, client.department) == (organisation, "010003820", "65")


def test_an_invalid_finess_is_refused_in_french_and_nothing_is_saved(as_manager):
    response = as_manager.post(reverse("client-create"), {**CLIENT, "finess_geo": "010003821"})
    assert response.status_code == 400
    page = text(response)
    assert "La clé de contrôle du numéro FINESS est fausse." in page
    assert 'value="010003821"' in page
    assert not Client.objects.exists()


def test_an_invalid_siret_is_refused_in_french(as_manager):
    response = as_manager.post(reverse("client-create"), {**CLIENT, "finess_geo": "", "siret": "1234"})
    assert response.status_code == 400
    assert "Un SIRET compte 14 chiffres (4 reçus)." in text(response)


def test_editing_a_client_refreshes_its_dossiers_blockers(dossier_at, as_manager, django_capture_on_commit_callbacks):
    dossier = dossier_at(State.DRAFT)
    client = dossier.client
    Client.objects.filter(pk=client.pk).update(finess_geo="", siret="")
    refresh_blockers_of(Dossier.objects.filter(pk=dossier.pk))
    assert Blocker.objects.filter(dossier=dossier, rule="client.identified").exists()
    with django_capture_on_commit_callbacks(execute=True):  # the refresh task runs after the commit
        as_manager.post(reverse("client-edit", args=[client.pk]), {**CLIENT, "name": client.name, "kind": client.kind})
    assert not Blocker.objects.filter(dossier=dossier, rule="client.identified").exists()


@pytest.mark.parametrize("query, expected", [
    ({"finess_geo": "010003820"}, "010003820 : numéro valide."),
    ({"finess_geo": "0100038"}, "Un numéro FINESS compte 9 caractères (7 reçus)."),
    ({"finess_legal": "010003821"}, "La clé de contrôle du numéro FINESS est fausse."),
    ({"siret": "732 829 320 00074"}, "73282932000074 : numéro valide."),
    ({"siret": "73282932000075"}, "La clé de contrôle du SIRET est fausse."),
])
def test_identifiers_are_checked_as_they_are_typed(as_manager, query, expected):
    response = as_manager.get(reverse("client-identifier-check"), query, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert expected in text(response)
    assert "<html" not in text(response)


def test_the_identifier_check_is_wired_to_the_client_form(as_manager):
    page = text(as_manager.get(reverse("client-create")))
    assert f'hx-get="{reverse("client-identifier-check")}"' in page
    assert 'hx-trigger="input changed delay:400ms, blur"' in page
    assert 'id="finess_geo-check"' in page and 'aria-live="polite"' in page
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in page


def test_the_client_list_searches_by_name_and_identifier(organisation, as_manager):
    ClientFactory(organisation=organisation, name="Pharmacie du Port", finess_geo="010003820")
    ClientFactory(organisation=organisation, name="Cabinet Sud")
    page = text(as_manager.get(reverse("client-list"), {"q": "010 003"}))
    assert "Pharmacie du Port" in page and "Cabinet Sud" not in page
    page = text(as_manager.get(reverse("client-list"), {"q": "sud"}))
    assert "Cabinet Sud" in page and "Pharmacie du Port" not in page


def test_a_solution_is_created_and_edited(as_manager, organisation):
    from dossiers.models import Dispositif

    dispositif = Dispositif.objects.get(code="OFF-LGO-VA1")
    response = as_manager.post(reverse("solution-create"), {"name": "OfficinePro", "version": "7.3",
                                                           "dispositif": dispositif.pk})
    solution = Solution.objects.get()
    assert response["Location"] == reverse("solution-detail", args=[solution.pk])
    as_manager.post(reverse("solution-detail", args=[solution.pk]), {
        "name": "OfficinePro", "version": "7.3", "dispositif": dispositif.pk, "referenced_on": "2024-03-01"})
    solution.refresh_from_db()
    assert solution.referenced_on == date(2024, 3, 1) and solution.organisation == organisation


def test_a_duplicate_solution_is_refused_in_french(as_manager, solution):
    response = as_manager.post(reverse("solution-create"), {
        "name": solution.name, "version": solution.version, "dispositif": solution.dispositif_id})
    assert response.status_code == 400
    assert "Cette solution existe déjà dans cette version pour ce dispositif." in text(response)
    assert Solution.objects.count() == 1


def test_a_pv_pilote_is_uploaded_then_validated(as_manager, solution):
    response = as_manager.post(reverse("pv-pilote-upload", args=[solution.pk]), {
        "signed_on": "2024-06-01", "status": "pending", "file": pdf_upload("pv.pdf")})
    assert response.status_code == 302
    pv = PvPilote.objects.get()
    assert pv.status == PvPilote.Status.PENDING
    page = text(as_manager.get(reverse("solution-detail", args=[solution.pk])))
    assert reverse("pv-pilote-download", args=[pv.pk]) in page and "Valider" in page
    as_manager.post(reverse("pv-pilote-status", args=[pv.pk]), {"status": "validated"})
    pv.refresh_from_db()
    assert pv.status == PvPilote.Status.VALIDATED
    assert as_manager.get(reverse("pv-pilote-download", args=[pv.pk])).status_code == 200


def test_a_non_pdf_pv_pilote_is_refused(as_manager, solution):
    response = as_manager.post(reverse("pv-pilote-upload", args=[solution.pk]), {
        "signed_on": "2024-06-01", "status": "pending",
        "file": SimpleUploadedFile("pv.pdf", b"nope", content_type="application/pdf")})
    assert response.status_code == 400
    assert "Ce document doit être un PDF" in text(response)
    assert not PvPilote.objects.exists()


def test_an_unknown_pv_status_is_reported(as_manager, solution):
    pv = PvPiloteFactory(solution=solution, status="pending")
    response = as_manager.post(reverse("pv-pilote-status", args=[pv.pk]), {"status": "lost"}, follow=True)
    assert "Statut inconnu" in text(response)
    pv.refresh_from_db()
    assert pv.status == "pending"


def test_the_solution_list_counts_validated_pv_pilotes(as_manager, solution):
    PvPiloteFactory(solution=solution)
    PvPiloteFactory(solution=solution, status="pending")
    page = text(as_manager.get(reverse("solution-list")))
    assert "1 / 2" in page
