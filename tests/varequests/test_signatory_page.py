"""The signatory's page `/va/<token>/`: what it shows, what closes it, what it refuses (nothing stored)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dossiers import services as dossier_services
from dossiers.models import Client as ClientModel, Document, HistoryEntry, OutboxMessage, State
from varequests import services
from varequests.models import VaRequest

from ..factories import PDF, pdf_upload, valid_payload, walk_to
from ..hardening.conftest import stored_files
from ..hardening.test_hostile_uploads import HOSTILE_NAMES, NOT_A_PDF, PDF_AFTER_1KB

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def page(token: str) -> str:
    return reverse("varequests:sign", args=[token])


class Footprint:
    """Rows and files before an upload, to prove a refused one stored nothing."""

    def __init__(self, dossier):
        self.dossier = dossier
        self.state = (Document.objects.count(), HistoryEntry.objects.filter(dossier=dossier).count(),
                      stored_files(), list(VaRequest.objects.values_list("status", flat=True)),
                      OutboxMessage.objects.count(),
                      list(ClientModel.objects.filter(pk=dossier.client_id).values()))

    def unchanged(self) -> None:
        assert Footprint(self.dossier).state == self.state


def test_the_page_shows_who_asks_and_for_what_and_marks_the_request_opened(client, deployed, ask, organisation):
    va_request, token = ask(deployed, message="Merci de signer avant vendredi.")
    response = client.get(page(token))
    assert response.status_code == 200
    html = response.content.decode()
    for shown in (organisation.name, deployed.client.name, deployed.client.finess_geo, deployed.solution.name,
                  deployed.dispositif.label, deployed.dispositif.code, deployed.scenario,
                  "Merci de signer avant vendredi.", 'lang="fr"', 'name="viewport"', "Envoyer la VA signée"):
        assert shown in html
    assert 'for="id_file"' in html and "Cartes CPE" not in html  # not an ESMS client: no prerequisites
    assert response["Referrer-Policy"] == "same-origin" and "no-store" in response["Cache-Control"]
    va_request.refresh_from_db()
    assert va_request.status == "opened" and va_request.opened_at is not None
    opened_at = va_request.opened_at
    client.get(page(token))
    va_request.refresh_from_db()
    assert va_request.opened_at == opened_at


def test_an_unknown_revoked_or_expired_link_answers_the_same_404(client, manager, deployed, ask):
    revoked, revoked_token = ask(deployed)
    services.revoke(revoked.pk, by=manager)
    expired, expired_token = ask(deployed)
    VaRequest.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    answers = [client.get(page(t)) for t in ("0" * 64, "court", revoked_token, expired_token)]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert "plus valable" in answers[0].content.decode()
    for token in (revoked_token, expired_token):
        assert client.post(page(token), {"file": pdf_upload()}).status_code == 404
        assert client.get(reverse("varequests:draft-download", args=[token])).status_code == 404
    assert not Document.objects.filter(kind="va").exists()
    assert VaRequest.objects.get(pk=expired.pk).status == "sent"  # an expired link is not marked opened


def test_a_link_whose_dossier_no_longer_awaits_the_va_is_closed(client, manager, deployed, ask):
    _va_request, token = ask(deployed)
    dossier_services.add_document(deployed.pk, by=manager, kind="va", upload=pdf_upload("va.pdf"))
    dossier_services.run_transition(deployed.pk, "sign_va", by=manager, data=valid_payload("sign_va", deployed))
    assert client.get(page(token)).status_code == 404


def test_a_second_upload_is_refused_and_stores_nothing(client, deployed, ask):
    va_request, token = ask(deployed)
    assert client.post(page(token), {"file": pdf_upload("va.pdf")}).status_code == 200
    footprint = Footprint(deployed)
    second = client.post(page(token), {"file": pdf_upload("autre.pdf")})
    assert second.status_code == 409
    assert "nouvel envoi n'a pas été enregistré" in second.content.decode()
    footprint.unchanged()
    with pytest.raises(services.AlreadyReturned):
        services.return_va(va_request.pk, upload=pdf_upload("encore.pdf"))
    footprint.unchanged()


def test_returning_the_va_closes_the_dossiers_other_open_links(client, deployed, ask):
    _first, first_token = ask(deployed)
    second, _second_token = ask(deployed, email="directeur@clinique.example")
    client.post(page(first_token), {"file": pdf_upload("va.pdf")})
    second.refresh_from_db()
    assert second.status == "revoked"


@pytest.mark.parametrize("content, name", [
    (NOT_A_PDF, "va.pdf"), (PDF_AFTER_1KB, "va.pdf"), (b"", "va.pdf"), (b"<html><script>alert(1)</script>", "va.pdf"),
])
def test_a_hostile_or_non_pdf_upload_is_refused_in_french_and_stores_nothing(client, deployed, ask, content, name):
    va_request, token = ask(deployed)
    client.get(page(token))
    footprint = Footprint(deployed)
    response = client.post(page(token), {"file": SimpleUploadedFile(name, content, content_type="application/pdf")})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Le fichier est vide." in html or "doit être un PDF" in html
    footprint.unchanged()
    va_request.refresh_from_db()
    assert va_request.status == "opened"


def test_an_oversized_upload_is_refused_and_stores_nothing(client, deployed, ask, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    _va_request, token = ask(deployed)
    footprint = Footprint(deployed)
    response = client.post(page(token), {"file": pdf_upload("va.pdf", PDF + b"0" * 2048)})
    assert response.status_code == 400 and "trop volumineux" in response.content.decode()
    footprint.unchanged()


@pytest.mark.parametrize("name", HOSTILE_NAMES[:12])
def test_a_hostile_file_name_is_stored_under_a_generated_name(deployed, ask, name):
    va_request, _token = ask(deployed)
    upload = SimpleUploadedFile("placeholder.pdf", PDF, content_type="application/pdf")
    upload._name = name
    services.return_va(va_request.pk, upload=upload)
    document = Document.objects.get(dossier=deployed, kind="va")
    assert document.file.name.startswith(f"org{document.organisation_id}/dossier{deployed.pk}/")
    assert "/" not in document.filename and "\\" not in document.filename and document.filename.endswith(".pdf")


def test_a_missing_file_is_a_french_error_and_stores_nothing(client, deployed, ask):
    _va_request, token = ask(deployed)
    footprint = Footprint(deployed)
    response = client.post(page(token), {})
    assert response.status_code == 400
    assert "Choisissez le fichier PDF de la VA signée." in response.content.decode()
    footprint.unchanged()


def test_an_esms_client_must_give_the_three_prerequisites(client, esms_deployed, ask):
    _va_request, token = ask(esms_deployed)
    html = client.get(page(token)).content.decode()
    assert "Prérequis de la VA" in html and 'name="cpe_cards"' in html
    footprint = Footprint(esms_deployed)
    response = client.post(page(token), {"file": pdf_upload("va.pdf"), "cpe_cards": "commandé"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Indiquez la date de signature du contrat avec l&#x27;ANS." in html
    assert "Indiquez si les certificats logiciels sont commandés ou non nécessaires." in html
    assert "Sélectionnez un choix valide" in html
    footprint.unchanged()


def test_uploads_are_rate_limited_per_link_with_a_french_429(client, deployed, ask, manager_membership):
    _va_request, token = ask(deployed)
    for _attempt in range(5):
        assert client.post(page(token), {"file": SimpleUploadedFile("x.pdf", NOT_A_PDF)}).status_code == 400
    footprint = Footprint(deployed)
    throttled = client.post(page(token), {"file": pdf_upload("va.pdf")})
    assert throttled.status_code == 429 and "Trop de tentatives" in throttled.content.decode()
    footprint.unchanged()
    # Another link has its own allowance.
    _other_request, other_token = ask(walk_to(State.DEPLOYED, membership=manager_membership))
    assert client.post(page(other_token), {"file": pdf_upload("va.pdf")}).status_code == 200


def test_the_unsigned_va_is_offered_and_downloaded_only_through_the_link(client, manager, deployed, ask):
    _va_request, token = ask(deployed)
    assert "Télécharger la VA à signer" not in client.get(page(token)).content.decode()
    assert client.get(reverse("varequests:draft-download", args=[token])).status_code == 404
    dossier_services.add_document(deployed.pk, by=manager, kind="va_draft",
                                  upload=SimpleUploadedFile("VA à signer.pdf", PDF))
    assert "Télécharger la VA à signer" in client.get(page(token)).content.decode()
    download = client.get(reverse("varequests:draft-download", args=[token]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment") and download["X-Content-Type-Options"] == "nosniff"
    assert client.get(reverse("varequests:draft-download", args=["f" * 64])).status_code == 404


def test_the_page_takes_a_fixed_number_of_queries(client, deployed, ask, manager, django_assert_max_num_queries):
    _va_request, token = ask(deployed)
    for _ in range(5):
        dossier_services.add_document(deployed.pk, by=manager, kind="va_draft", upload=pdf_upload("d.pdf"))
    with django_assert_max_num_queries(4):
        assert client.get(page(token)).status_code == 200


def test_the_link_dies_with_the_requesters_right_to_change_the_client(client, esms_deployed, ask, manager_membership):
    _va_request, token = ask(esms_deployed)
    manager_membership.role = "viewer"
    manager_membership.save()
    footprint = Footprint(esms_deployed)
    response = client.post(page(token), {"file": pdf_upload("va.pdf"), "ans_contract_signed_on": "2024-05-02",
                                         "cpe_cards": "ordered", "software_certificates": "ordered"})
    assert response.status_code == 404
    footprint.unchanged()


def test_an_esms_upload_saves_the_prerequisites_through_the_client_service(client, esms_deployed, ask, monkeypatch):
    from dossiers import services as dossier_services_module

    calls = []
    original = dossier_services_module.save_client

    def spy(client_obj, *, by):
        calls.append((client_obj.pk, by.get_username()))
        return original(client_obj, by=by)

    monkeypatch.setattr(dossier_services_module, "save_client", spy)
    _va_request, token = ask(esms_deployed)
    response = client.post(page(token), {"file": pdf_upload("va.pdf"), "ans_contract_signed_on": "02/05/2024",
                                         "cpe_cards": "ordered", "software_certificates": "not_needed"})
    assert response.status_code == 200
    assert calls == [(esms_deployed.client_id, "manon")]
