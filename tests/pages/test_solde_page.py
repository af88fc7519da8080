"""The pre-solde checklist page: statuses, documents uploaded in place, the invoice data, the filing, the JSON."""
import json
from html import unescape

import pytest
from django.urls import reverse

from dossiers.models import Document, Dossier, PvPilote, State

from ..factories import PvPiloteFactory, attach, pdf_upload, valid_payload

INVOICE = {k: v for k, v in valid_payload("file_solde").items() if k != "filed_on"}


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


def statuses(response) -> dict[str, str]:
    return {row["item"].rule: row["item"].status for row in response.context["rows"]}


def draft_post(values: dict) -> dict:
    data = {f"draft-{k}": ("on" if v is True else v) for k, v in values.items() if v is not False}
    return data


@pytest.fixture
def va_signed(dossier_at):
    """A dossier whose VA is signed, its solution without a validated PV pilote yet, no invoice."""
    dossier = dossier_at(State.VA_SIGNED)
    PvPilote.objects.filter(solution=dossier.solution).delete()
    return dossier


def test_the_checklist_lists_every_solde_rule_with_its_status(va_signed, as_manager):
    response = as_manager.get(reverse("dossier-solde", args=[va_signed.pk]))
    assert response.status_code == 200
    found = statuses(response)
    assert found["solde.pv_pilote"] == "failed"
    assert found["solde.invoice_document"] == "failed"
    assert found["solde.invoice_matches_va_signer"] == "pending"
    assert found["solde.last_amendment_paid"] == "ok"
    page = text(response)
    assert "✘" in page and "✔" in page and "à renseigner" in page
    assert "Joignez la facture (PDF) à la demande de solde." in page
    assert 'disabled aria-describedby="filing-why"' in page
    assert "Le JSON sera produit quand" in page


def test_the_checklist_turns_green_as_documents_and_data_come_in(va_signed, as_manager):
    url = reverse("dossier-solde", args=[va_signed.pk])
    response = as_manager.post(reverse("dossier-document-upload", args=[va_signed.pk]),
                               {"kind": "invoice", "kinds": "invoice", "return_to": "solde",
                                "file": pdf_upload("facture.pdf")})
    assert response["Location"] == f"{url}#documents"
    assert statuses(as_manager.get(url))["solde.invoice_document"] == "ok"

    response = as_manager.post(url, draft_post({**INVOICE, "invoice_addressee": "Paul Durand"}))
    assert response.status_code == 302
    found = statuses(as_manager.get(url))
    assert found["solde.invoice_matches_va_signer"] == "failed"
    assert found["solde.amount_within_avance"] == found["solde.invoice_full_amount"] == "ok"

    as_manager.post(url, draft_post(INVOICE))
    PvPiloteFactory(solution=va_signed.solution)
    response = as_manager.get(url)
    assert {status for rule, status in statuses(response).items()} == {"ok"}
    page = text(response)
    assert 'disabled aria-describedby="filing-why"' not in page
    assert '"prestation_segur": "10000.00"' in page
    assert reverse("dossier-solde-json", args=[va_signed.pk]) in page
    va_signed.refresh_from_db()
    assert va_signed.solde_draft["invoice_number"] == "F-2024-001"


def test_bad_invoice_data_is_a_field_error_and_the_draft_is_kept(va_signed, as_manager):
    url = reverse("dossier-solde", args=[va_signed.pk])
    as_manager.post(url, draft_post(INVOICE))
    response = as_manager.post(url, draft_post({**INVOICE, "vat": "vingt", "invoice_total": "-3"}))
    assert response.status_code == 400
    page = text(response)
    assert "« HT » ou un taux en pourcentage attendu" in page
    assert "supérieure ou égale à 0" in page
    assert 'value="vingt"' in page
    va_signed.refresh_from_db()
    assert va_signed.solde_draft["vat"] == "20"


def test_a_non_pdf_invoice_uploaded_in_place_is_refused_on_the_checklist(va_signed, as_manager):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = as_manager.post(reverse("dossier-document-upload", args=[va_signed.pk]), {
        "kind": "invoice", "kinds": "invoice", "return_to": "solde",
        "file": SimpleUploadedFile("facture.pdf", b"plain text", content_type="application/pdf")})
    assert response.status_code == 400
    assert "Liste de contrôle avant le solde" in text(response)
    assert "Ce document doit être un PDF" in text(response)
    assert not Document.objects.filter(kind="invoice").exists()


def test_the_vat_exemption_can_be_uploaded_in_place_for_a_client_not_liable(va_signed, as_manager):
    va_signed.client.vat_liable = False
    va_signed.client.save()
    page = text(as_manager.get(reverse("dossier-solde", args=[va_signed.pk])))
    assert 'value="vat_exemption"' in page


def test_the_solde_is_filed_from_the_checklist(va_signed, as_manager):
    attach(va_signed, "invoice", as_manager.membership.user)
    PvPiloteFactory(solution=va_signed.solution)
    url = reverse("dossier-solde", args=[va_signed.pk])
    as_manager.post(url, draft_post(INVOICE))
    response = as_manager.post(reverse("dossier-solde-file", args=[va_signed.pk]),
                               {"filing-filed_on": "2024-07-01"}, follow=True)
    assert "le dossier est maintenant « Solde déposé »" in text(response)
    va_signed.refresh_from_db()
    assert va_signed.state == State.SOLDE_FILED
    assert va_signed.invoice_number == "F-2024-001"


def test_filing_too_early_lists_what_is_missing(va_signed, as_manager):
    response = as_manager.post(reverse("dossier-solde-file", args=[va_signed.pk]), {"filing-filed_on": "2024-07-01"})
    assert response.status_code == 400          # the draft has no invoice data: the payload is incomplete
    assert "Numéro de facture : Ce champ est obligatoire." in text(response)
    as_manager.post(reverse("dossier-solde", args=[va_signed.pk]), draft_post(INVOICE))
    response = as_manager.post(reverse("dossier-solde-file", args=[va_signed.pk]), {"filing-filed_on": "2024-07-01"})
    assert response.status_code == 409
    page = text(response)
    assert "Dépôt du solde refusé" in page and "solde.pv_pilote" in page and "solde.invoice_document" in page
    assert Dossier.objects.get(pk=va_signed.pk).state == State.VA_SIGNED


def test_the_solde_json_is_a_409_page_while_not_ready(va_signed, as_manager):
    response = as_manager.get(reverse("dossier-solde-json", args=[va_signed.pk]))
    assert response.status_code == 409
    page = text(response)
    assert "La demande de solde n’est pas encore prête" in page
    assert "solde.pv_pilote" in page


def test_the_solde_json_downloads_once_ready(dossier_at, as_manager):
    dossier = dossier_at(State.SOLDE_FILED)
    response = as_manager.get(reverse("dossier-solde-json", args=[dossier.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="solde-{dossier.reference}.json"'
    document = json.loads(response.content)
    assert document["reference_dossier"] == dossier.reference
    assert document["facture"]["numero"] == "F-2024-001"
    assert document["prestation_segur"] == "10000.00"


def test_the_checklist_of_a_dossier_not_yet_at_the_va_says_so(dossier_at, as_manager):
    dossier = dossier_at(State.AVANCE_PAID)
    response = as_manager.get(reverse("dossier-solde", args=[dossier.pk]))
    assert response.status_code == 200
    page = text(response)
    assert "Le solde se prépare une fois la VA signée" in page
    assert reverse("dossier-solde-file", args=[dossier.pk]) not in page
