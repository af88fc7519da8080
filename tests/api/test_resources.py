"""The resources of API.md on their happy paths: shapes, formats, filters, uploads, amendments, checklist."""
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from dossiers import services
from dossiers.models import Dispositif, Dossier, HistoryEntry, PvPilote, State

from ..factories import PDF, ClientFactory, PvPiloteFactory, SolutionFactory, attach, pdf_upload, walk_to
from .conftest import faq_of, url

pytestmark = pytest.mark.django_db


def test_no_credentials_is_a_401_in_json(db):
    response = APIClient().get(url("dossier-list"))
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_wrong_token_is_a_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-key")
    assert client.get(url("dossier-list")).status_code == 401


def test_the_browser_session_works_too(client, manager):
    client.force_login(manager)
    assert client.get(url("dossier-list")).status_code == 200


def test_an_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/nowhere/")
    assert response.status_code == 404 and response.json() == {"detail": "Non trouvé."}


def test_dispositifs_are_listed_with_their_reference_data(viewer_api):
    body = viewer_api.get(url("dispositif-list")).json()
    pfi = next(d for d in body["results"] if d["code"] == "HOP-PFI-VA2")
    assert pfi == {"code": "HOP-PFI-VA2", "label": pfi["label"], "couloir": "hopital", "vague": 2,
                   "avance_deadline": "2025-09-17T12:00:00+02:00", "ceiling_amount": None,
                   "requires_mss_deployment": False}
    assert body["count"] == len(body["results"]) and body["next"] is None


def test_a_solution_is_created_by_dispositif_code_and_patched(api):
    created = api.post(url("solution-list"), {"name": "MédiLog", "version": "4.1", "dispositif": "MDV-LGC-VA1",
                                              "proofs_submitted_on": "2024-01-10"}, format="json")
    assert created.status_code == 201, created.json()
    solution = created.json()
    assert solution["dispositif"] == "MDV-LGC-VA1" and solution["referenced_on"] is None
    patched = api.patch(url("solution-detail", solution["id"]), {"referenced_on": "2024-03-01"}, format="json")
    assert patched.json()["referenced_on"] == "2024-03-01"
    duplicate = api.post(url("solution-list"), {"name": "MédiLog", "version": "4.1", "dispositif": "MDV-LGC-VA1"},
                         format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()["errors"]


def test_a_pv_pilote_is_uploaded_listed_validated_and_downloaded(api, organisation):
    solution = SolutionFactory(organisation=organisation)
    created = api.post(url("pv-pilote-list", solution.pk),
                       {"file": pdf_upload("pv.pdf"), "signed_on": "2024-06-01", "status": "pending"},
                       format="multipart")
    assert created.status_code == 201, created.json()
    pv = created.json()
    assert (pv["status"], pv["filename"], pv["size"]) == ("pending", "pv.pdf", len(PDF))
    assert api.get(url("pv-pilote-list", solution.pk)).json()["count"] == 1
    validated = api.patch(url("pv-pilote-detail", solution.pk, pv["id"]), {"status": "validated"}, format="json")
    assert validated.status_code == 200 and validated.json()["status"] == "validated"
    assert PvPilote.objects.get(pk=pv["id"]).status == PvPilote.Status.VALIDATED
    download = api.get(url("pv-pilote-download", solution.pk, pv["id"]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_a_client_is_created_with_every_field_and_patched(api):
    created = api.post(url("client-list"), {
        "name": "EHPAD Les Tilleuls", "kind": "esms", "finess_geo": "010003820", "finess_legal": "010003812",
        "department": "01", "vat_liable": False, "ans_contract_signed_on": "2024-02-01", "cpe_cards": "ordered",
        "software_certificates": "not_needed"}, format="json")
    assert created.status_code == 201, created.json()
    client = created.json()
    assert client["siret"] == "" and client["cpe_cards"] == "ordered"
    patched = api.patch(url("client-detail", client["id"]), {"siret": "73282932000074", "department": "2a"},
                        format="json")
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["siret"], patched.json()["department"]) == ("73282932000074", "2A")


def test_a_dossier_is_created_as_a_draft_with_its_representation(api, organisation):
    client = ClientFactory(organisation=organisation)
    solution = SolutionFactory(organisation=organisation)
    response = api.post(url("dossier-list"), {"client": client.pk, "solution": solution.pk, "scenario": "S1"},
                        format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "draft" and body["state_label"] == "Brouillon"
    assert body["reference"].startswith("SEG-")
    assert body["available_transitions"] == ["sign_bdc"]
    assert body["client"] == client.pk and body["client_summary"]["name"] == client.name
    assert (body["dispositif"], body["couloir"]) == ("MDV-LGC-VA1", "medecine_ville")
    assert body["avance_paid_total"] == "0.00" and body["declared_amount"] is None
    assert body["created_at"].endswith("+01:00") or body["created_at"].endswith("+02:00")
    assert HistoryEntry.objects.filter(dossier_id=body["id"], action="create").exists()


def test_a_dossier_shows_the_amounts_and_dates_of_its_steps(api, manager_membership):
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    body = api.get(url("dossier-detail", dossier.pk)).json()
    assert (body["avance_filed_on"], body["avance_declared_amount"], body["declared_amount"]) == (
        "2024-04-10", "10000.00", "10000.00")
    assert (body["avance_paid_on"], body["avance_paid_amount"], body["avance_paid_total"]) == (
        "2024-05-02", "3000.00", "3000.00")
    assert set(body["available_transitions"]) == {"mark_deployed", "request_cancellation"}


def test_the_dossier_list_is_paginated_and_filtered(api, manager_membership, organisation):
    deployed = walk_to(State.DEPLOYED, membership=manager_membership)
    hospital = walk_to(State.DRAFT, membership=manager_membership, solution=SolutionFactory(
        organisation=organisation, dispositif=Dispositif.objects.get(code="HOP-DPI-VA1")))
    draft = walk_to(State.DRAFT, membership=manager_membership, client=ClientFactory(
        organisation=organisation, name="Pharmacie de la Gare", finess_geo="", siret="73282932000074"))
    listing = api.get(url("dossier-list")).json()
    assert listing["count"] == 3 and {d["id"] for d in listing["results"]} == {deployed.pk, draft.pk, hospital.pk}

    def ids(**filters) -> set[int]:
        return {d["id"] for d in api.get(url("dossier-list"), filters).json()["results"]}

    assert ids(state="deployed") == {deployed.pk}
    assert ids(dispositif="MDV-LGC-VA1") == {deployed.pk, draft.pk}
    assert ids(couloir="hopital") == {hospital.pk}
    assert ids(solution=draft.solution_id) == {draft.pk}
    assert ids(q="gare") == {draft.pk}
    assert ids(q="732 829 320") == {draft.pk}
    assert ids(q=deployed.client.finess_geo) == {deployed.pk}
    assert ids(q=deployed.reference) == {deployed.pk}
    assert api.get(url("dossier-list"), {"page_size": 1}).json()["next"] is not None


def test_the_scenario_reference_and_solde_draft_are_patched_through_the_service(api, manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    response = api.patch(url("dossier-detail", dossier.pk), {
        "scenario": "Scénario 2", "reference": "CRM-778", "solde_draft": {"invoice_number": "F-1", "vat": "20,0"}},
        format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["scenario"], body["reference"]) == ("Scénario 2", "CRM-778")
    assert body["solde_draft"] == {"invoice_number": "F-1", "vat": "20"}
    actions = list(dossier.history.values_list("action", flat=True).order_by("-seq")[:3])
    assert set(actions) == {"change_scenario", "change_reference", "change_solde_draft"}


def test_the_history_lists_every_row_oldest_first(api, manager_membership):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    history = api.get(url("dossier-history", dossier.pk)).json()
    assert [row["action"] for row in history] == ["create", "add_document", "sign_bdc"]
    signed = history[-1]
    assert (signed["user"], signed["from_state"], signed["to_state"]) == ("manon", "draft", "bdc_signed")
    assert signed["data"]["signature_type"] == "handwritten"
    assert [row["seq"] for row in history] == [1, 2, 3] and len(signed["hash"]) == 64


def test_a_document_is_uploaded_listed_and_downloaded(api, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    created = api.post(url("document-list", dossier.pk), {"kind": "bdc", "file": pdf_upload("Bon de commande.pdf")},
                       format="multipart")
    assert created.status_code == 201, created.json()
    document = created.json()
    assert {"id", "kind", "filename", "size", "sha256"} <= set(document)
    assert (document["kind"], document["filename"], document["size"]) == ("bdc", "Bon de commande.pdf", len(PDF))
    assert document["download_url"] == f"/documents/{document['id']}/"
    assert api.get(url("document-list", dossier.pk)).json()["results"] == [document]
    download = api.get(document["api_download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["X-Content-Type-Options"] == "nosniff"


def test_amendments_are_filed_validated_and_paid(api, manager_membership):
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    created = api.post(url("amendment-list", dossier.pk), {"filed_on": "2024-05-10", "amount": "12000.00"},
                       format="json")
    assert created.status_code == 201, created.json()
    amendment = created.json()
    assert (amendment["status"], amendment["amount"]) == ("filed", "12000.00")
    assert api.get(url("dossier-detail", dossier.pk)).json()["declared_amount"] == "12000.00"
    address = url("amendment-detail", dossier.pk, amendment["id"])
    assert api.patch(address, {"status": "validated", "on": "2024-05-20"}, format="json").json()["validated_on"] \
        == "2024-05-20"
    paid = api.patch(address, {"status": "paid", "on": "2024-06-01", "paid_amount": "600.00"}, format="json")
    assert paid.json()["paid_amount"] == "600.00"
    assert api.get(url("dossier-detail", dossier.pk)).json()["avance_paid_total"] == "3600.00"
    assert api.get(url("amendment-list", dossier.pk)).json()["count"] == 1
    assert api.patch(address, {}, format="json").json() == paid.json()


def test_an_amendment_out_of_order_or_on_a_closed_avance_is_a_409(api, manager_membership, guidance):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    amendment = services.add_amendment(dossier.pk, by=manager_membership.user, filed_on=date(2024, 4, 12),
                                       amount=Decimal("9000.00"))
    skipped = api.patch(url("amendment-detail", dossier.pk, amendment.pk), {"status": "paid", "paid_amount": "1.00"},
                        format="json")
    assert skipped.status_code == 409
    assert skipped.json()["errors"][0]["rule"] == "state.transition_not_allowed"
    closed = walk_to(State.DRAFT, membership=manager_membership)
    refused = api.post(url("amendment-list", closed.pk), {"filed_on": "2024-05-10", "amount": "1.00"}, format="json")
    assert refused.status_code == 409 and refused.json()["errors"][0]["rule"] == "amendment.avance_open"


def test_the_checklist_lists_every_solde_rule_with_guidance(api, manager_membership, guidance):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    body = api.get(url("dossier-checklist", dossier.pk)).json()
    assert body["state_allows_filing"] is True and body["ready"] is False
    by_rule = {item["rule"]: item for item in body["items"]}
    assert by_rule["solde.pv_pilote"]["status"] == "failed"
    assert by_rule["solde.invoice_document"]["status"] == "failed"
    assert by_rule["solde.invoice_mentions"]["status"] == "pending"
    assert by_rule["solde.pv_pilote"]["faq"] == faq_of(guidance)
    assert all(item["severity"] in ("block", "warn") and item["message"] for item in body["items"])


def test_the_checklist_is_not_ready_while_invoice_data_is_pending(api, manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    PvPiloteFactory(solution=dossier.solution)
    attach(dossier, "invoice", manager_membership.user)
    body = api.get(url("dossier-checklist", dossier.pk)).json()
    assert body["ready"] is False
    assert "pending" in {item["status"] for item in body["items"]}
    assert "failed" not in {item["status"] for item in body["items"]}
    assert api.get(url("dossier-solde-json", dossier.pk)).status_code == 409


def test_the_checklist_is_not_ready_in_a_state_that_cannot_file_a_solde(api, manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    body = api.get(url("dossier-checklist", dossier.pk)).json()
    assert (body["ready"], body["state_allows_filing"]) == (False, False)


def test_the_solde_json_is_refused_with_the_failing_rules_until_ready(api, manager_membership, guidance):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    response = api.get(url("dossier-solde-json", dossier.pk))
    assert response.status_code == 409
    rules = {item["rule"] for item in response.json()["errors"]}
    assert {"solde.pv_pilote", "solde.invoice_document"} <= rules
    assert all(item["faq"] == faq_of(guidance) for item in response.json()["errors"])


def test_the_solde_json_is_built_once_the_solde_is_filed(api, manager_membership):
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership)
    response = api.get(url("dossier-solde-json", dossier.pk))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["format"] == "segurtrack/solde-request/v1"
    assert (body["dispositif"], body["prestation_segur"], body["facture"]["numero"]) == (
        "MDV-LGC-VA1", "10000.00", "F-2024-001")


def test_a_transition_answers_the_dossier_with_its_warnings(api, manager_membership):
    solution = SolutionFactory(organisation=manager_membership.organisation, referenced_on=None,
                               proofs_submitted_on=None)
    dossier = walk_to(State.DRAFT, membership=manager_membership, solution=solution)
    attach(dossier, "bdc", manager_membership.user)
    response = api.post(url("dossier-transition", dossier.pk, "sign_bdc"),
                        {"signed_on": "2024-04-01", "signer_name": "Paul Durand", "signature_type": "cpx"},
                        format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["bdc_signed_on"], body["bdc_signature_type"]) == ("bdc_signed", "2024-04-01", "cpx")
    [warning] = body["warnings"]
    assert warning["rule"] == "bdc.pre_referencing_window" and warning["severity"] == "warn"
    assert warning["faq"] == []
    assert Dossier.objects.get(pk=dossier.pk).state == State.BDC_SIGNED
