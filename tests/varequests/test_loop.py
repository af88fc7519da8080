"""The whole loop against PostgreSQL and a real SMTP server: request → e-mail → page → upload → document,
prerequisites, history, notification; the link in the received e-mail is the one that works."""
from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from dossiers.models import Blocker, Client as ClientModel, Document, HistoryEntry, Notification
from organisations.models import Role
from varequests.models import VaEmail, VaRequest

from ..factories import PDF, MembershipFactory, pdf_upload
from .conftest import link_in, parts, path_of

pytestmark = pytest.mark.django_db


def csrf_post(browser: Client, path: str, data: dict):
    """Post the page's form as a browser does: the CSRF cookie from the GET, its token in the form."""
    token = browser.cookies["csrftoken"].value
    return browser.post(path, {**data, "csrfmiddlewaretoken": token})


def test_request_email_page_upload_document_prerequisites_history_and_notification(
        api, esms_deployed, smtp_server, settings, manager, organisation, django_capture_on_commit_callbacks):
    settings.SITE_URL = "http://testserver"
    colleague = MembershipFactory(organisation=organisation, role=Role.MANAGER, user__username="martin")
    reader = MembershipFactory(organisation=organisation, role=Role.VIEWER, user__username="lea")
    dossier = esms_deployed
    assert Blocker.objects.filter(dossier=dossier, rule="va.document").exists()

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(reverse("va_api:va-request-list", args=[dossier.pk]),
                           {"email": "jeanne.martin@ehpad.example", "name": "Jeanne Martin",
                            "message": "Merci de signer la VA de l'installation du 3 juin."}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) >= {"id", "email", "name", "status", "url", "expires_at", "created_at"}
    assert body["status"] == "sent"

    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "jeanne.martin@ehpad.example"
    assert " ".join(str(message["Subject"]).split()) == f"VA à signer pour {dossier.client.name} — {organisation.name}"
    text, html = parts(message)
    assert "Bonjour Jeanne Martin" in text and "vérification d'aptitude (VA) signée" in text
    assert "Merci de signer la VA" in text and dossier.solution.name in text and dossier.dispositif.code in text
    link = link_in(message)
    assert link in html and link == body["url"]
    assert VaEmail.objects.filter(va_request_id=body["id"], kind="request").count() == 1

    signatory = Client(enforce_csrf_checks=True)
    page = signatory.get(path_of(link))
    assert page.status_code == 200
    content = page.content.decode()
    for shown in (organisation.name, dossier.client.name, dossier.solution.name, dossier.dispositif.label,
                  dossier.scenario, "Date de signature du contrat avec l&#x27;ANS", "Cartes CPE",
                  "Certificats logiciels"):
        assert shown in content
    assert VaRequest.objects.get(pk=body["id"]).status == "opened"
    assert api.get(reverse("va_api:va-request-list", args=[dossier.pk])).json()["results"][0]["status"] == "opened"

    with django_capture_on_commit_callbacks(execute=True):
        done = csrf_post(signatory, path_of(link), {
            "file": pdf_upload("VA signée.pdf"), "ans_contract_signed_on": "2024-05-02", "cpe_cards": "ordered",
            "software_certificates": "not_needed"})
    assert done.status_code == 200, done.content.decode()
    assert "Merci, la VA signée est transmise" in done.content.decode()

    va_request = VaRequest.objects.get(pk=body["id"])
    assert va_request.status == "returned" and va_request.returned_at is not None
    document = Document.objects.get(dossier=dossier, kind="va")
    assert va_request.document == document
    assert document.file.read() == PDF and document.uploaded_by is None and document.filename == "VA signee.pdf"
    entry = HistoryEntry.objects.filter(dossier=dossier).order_by("-seq").first()
    assert entry.action == "document_returned" and entry.user is None
    assert entry.data["returned_by"] == "Jeanne Martin (jeanne.martin@ehpad.example)"
    assert entry.data["kind"] == "va" and entry.data["document"] == document.pk
    client = ClientModel.objects.get(pk=dossier.client_id)
    assert (client.ans_contract_signed_on, client.cpe_cards, client.software_certificates) == (
        date(2024, 5, 2), "ordered", "not_needed")
    assert not Blocker.objects.filter(dossier=dossier, rule__in=["va.document", "va.esms_prerequisites"]).exists()
    notified = set(Notification.objects.filter(kind="va_returned", dossier=dossier).values_list("user_id", flat=True))
    assert notified == {manager.pk, colleague.user_id}
    assert reader.user_id not in notified
    assert "Jeanne Martin" in Notification.objects.filter(kind="va_returned").first().message

    history = api.get(reverse("api:dossier-history", args=[dossier.pk])).json()
    assert history[-1]["action"] == "document_returned"
    again = signatory.get(path_of(link))
    assert again.status_code == 200 and "déjà été transmise" in again.content.decode()


def test_the_upload_without_its_csrf_token_is_refused_and_stores_nothing(deployed, ask):
    _va_request, token = ask(deployed)
    signatory = Client(enforce_csrf_checks=True)
    path = reverse("varequests:sign", args=[token])
    assert signatory.get(path).status_code == 200
    refused = signatory.post(path, {"file": pdf_upload("va.pdf")})
    assert refused.status_code == 403
    assert not Document.objects.filter(dossier=deployed, kind="va").exists()
