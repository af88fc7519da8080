"""The dossier list, the creation form and the dossier page with the writes it posts (through the services)."""
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dossiers import services
from dossiers.models import Amendment, Dispositif, Document, Dossier, HistoryEntry, State
from faqref.models import Entry, RuleLink

from ..factories import ClientFactory, SolutionFactory, attach, pdf_upload, walk_to


def text(response) -> str:
    """The page as a reader sees it: entities decoded, no-break spaces as spaces."""
    return unescape(response.content.decode()).replace("\xa0", " ")


def transition_url(dossier, name):
    return reverse("dossier-transition", args=[dossier.pk, name])


@pytest.fixture
def faq_entry(db):
    entry = Entry(slug="bon-de-commande-0000", derived_title="Le bon de commande signé par le client",
                  fingerprint="0" * 64, text="Oui, le bon de commande, et ses éventuelles annexes, doit avoir fait "
                                             "l'objet d'un accord explicite du Client final, par la signature.")
    entry.save()
    for code in ("bdc.document", "bdc.signature_type"):
        RuleLink.objects.create(rule=code, entry=entry, origin=RuleLink.Origin.PINNED)
    return entry


# --- list ----------------------------------------------------------------------------------------------------

@pytest.fixture
def portfolio(organisation, manager_membership):
    """Four dossiers: two drafts (one blocked by its BDC), a signed BDC with an unreferenced solution, a deployed one."""
    hospital = Dispositif.objects.get(code="HOP-DPI-VA1")
    drafts = [
        walk_to(State.DRAFT, membership=manager_membership,
                client=ClientFactory(organisation=organisation, name="Clinique des Lilas", finess_geo="010003820")),
        walk_to(State.DRAFT, membership=manager_membership,
                client=ClientFactory(organisation=organisation, name="Pharmacie du Port", finess_geo="",
                                     siret="73282932000074"),
                solution=SolutionFactory(organisation=organisation, name="Hospitalis", dispositif=hospital)),
    ]
    deployed = walk_to(State.DEPLOYED, membership=manager_membership,
                       client=ClientFactory(organisation=organisation, name="Centre Bleu"))
    return {"drafts": drafts, "deployed": deployed}


def references(response) -> list[str]:
    return [d.reference for d in response.context["page"].object_list]


def test_the_list_filters_searches_and_sorts(portfolio, as_manager):
    url = reverse("dossier-list")
    drafts, deployed = portfolio["drafts"], portfolio["deployed"]
    assert len(references(as_manager.get(url))) == 3
    assert references(as_manager.get(url, {"state": "deployed"})) == [deployed.reference]
    assert references(as_manager.get(url, {"couloir": "hopital"})) == [drafts[1].reference]
    assert references(as_manager.get(url, {"dispositif": drafts[1].dispositif_id})) == [drafts[1].reference]
    assert references(as_manager.get(url, {"solution": drafts[1].solution_id})) == [drafts[1].reference]
    assert set(references(as_manager.get(url, {"rule": "bdc.document"}))) == {d.reference for d in drafts}
    assert references(as_manager.get(url, {"rule": "va.document"})) == [deployed.reference]
    assert references(as_manager.get(url, {"q": "lilas"})) == [drafts[0].reference]
    assert references(as_manager.get(url, {"q": "010 003 820"})) == [drafts[0].reference]
    assert references(as_manager.get(url, {"q": "732 829 320"})) == [drafts[1].reference]
    assert references(as_manager.get(url, {"q": deployed.reference})) == [deployed.reference]
    by_client = references(as_manager.get(url, {"sort": "client"}))
    assert by_client == [deployed.reference, drafts[0].reference, drafts[1].reference]
    assert references(as_manager.get(url, {"sort": "-client"})) == by_client[::-1]
    ascending = sorted(d.reference for d in [*drafts, deployed])
    assert references(as_manager.get(url, {"sort": "reference"})) == ascending
    page = text(as_manager.get(url, {"rule": "bdc.document"}))
    assert "2 dossiers" in page and "bdc.document" in page


def test_the_list_paginates(organisation, manager_membership, as_manager, solution):
    for n in range(27):
        services.create_dossier(organisation=organisation, by=manager_membership.user, solution=solution,
                                client=ClientFactory(organisation=organisation), reference=f"R-{n:03d}")
    first = as_manager.get(reverse("dossier-list"), {"sort": "reference"})
    assert references(first)[0] == "R-000" and len(references(first)) == 25
    second = as_manager.get(reverse("dossier-list"), {"sort": "reference", "page": 2})
    assert references(second) == ["R-025", "R-026"]
    assert "Page 2 sur 2" in text(second)


def test_the_list_shows_only_the_current_organisations_dossiers(portfolio, as_outsider):
    assert references(as_outsider.get(reverse("dossier-list"))) == []


# --- creation -------------------------------------------------------------------------------------------------

def test_a_dossier_is_created_for_a_client_and_a_solution_of_the_organisation(organisation, as_manager, solution):
    client = ClientFactory(organisation=organisation)
    response = as_manager.post(reverse("dossier-create"), {"client": client.pk, "solution": solution.pk,
                                                          "scenario": "Scénario 1"})
    dossier = Dossier.objects.get()
    assert response["Location"] == reverse("dossier-detail", args=[dossier.pk])
    assert (dossier.client, dossier.solution, dossier.scenario, dossier.state) == (client, solution, "Scénario 1",
                                                                                   State.DRAFT)


def test_the_creation_form_offers_only_the_organisations_clients_and_solutions(organisation, other_organisation,
                                                                              as_manager, solution):
    theirs = ClientFactory(organisation=other_organisation)
    page = as_manager.get(reverse("dossier-create"))
    assert theirs.name not in text(page)
    response = as_manager.post(reverse("dossier-create"), {"client": theirs.pk, "solution": solution.pk})
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in text(response)
    assert not Dossier.objects.exists()


def test_a_reference_already_used_is_refused_in_french(organisation, manager_membership, as_manager, solution):
    walk_to(State.DRAFT, membership=manager_membership)
    used = Dossier.objects.get().reference
    response = as_manager.post(reverse("dossier-create"), {
        "client": ClientFactory(organisation=organisation).pk, "solution": solution.pk, "reference": used})
    assert response.status_code == 400
    assert "Cette référence est déjà utilisée." in text(response)
    assert Dossier.objects.count() == 1


# --- transitions ----------------------------------------------------------------------------------------------

def test_the_dossier_page_offers_a_form_for_every_available_transition(dossier_at, as_manager):
    dossier = dossier_at(State.AVANCE_FILED)
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    for name in ("request_avance_fix", "validate_avance", "request_cancellation"):
        assert f'action="{transition_url(dossier, name)}"' in page
    assert transition_url(dossier, "sign_bdc") not in page
    # Each payload field with its label and the input of its type.
    assert 'name="request_cancellation-requested_on"' in page and 'type="date"' in page
    assert '<option value="client_agreement">' in page
    assert 'name="request_avance_fix-reason"' in page and "<textarea" in page


def test_the_signature_type_is_a_select_of_the_known_types(dossier_at, as_manager):
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier_at(State.DRAFT).pk])))
    assert '<select name="sign_bdc-signature_type"' in page
    assert '<option value="eidas_qualified">eIDAS qualifiée</option>' in page


def test_amount_inputs_take_cents(dossier_at, as_manager):
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier_at(State.BDC_SIGNED).pk])))
    assert 'name="file_avance-declared_amount"' in page
    assert 'step="0.01"' in page


def test_a_refused_transition_shows_every_failing_rule_with_its_guidance_and_keeps_the_input(
        organisation, dossier_at, as_manager, faq_entry):
    dossier = dossier_at(State.DRAFT)
    response = as_manager.post(transition_url(dossier, "sign_bdc"), {
        "sign_bdc-signed_on": "2024-04-01", "sign_bdc-signer_name": "Paul Durand",
        "sign_bdc-signature_type": "fax"})
    assert response.status_code == 409
    page = text(response)
    assert "« Signature du BDC » refusé" in page
    assert "2 règles ne sont pas respectées" in page
    assert "Joignez le bon de commande signé (PDF) avant d'enregistrer sa signature." in page
    assert "Type de signature « fax » non recevable" in page
    assert f'href="/faq/{faq_entry.pk}/"' in page
    assert "Le bon de commande signé par le client" in page and "accord explicite" in page
    assert 'value="Paul Durand"' in page and 'value="2024-04-01"' in page
    assert '<details class="action" id="action-sign_bdc" open>' in page
    dossier.refresh_from_db()
    assert dossier.state == State.DRAFT


def test_a_negative_amount_is_a_field_error_in_french_and_nothing_is_saved(dossier_at, as_manager):
    dossier = dossier_at(State.BDC_SIGNED)
    history = HistoryEntry.objects.filter(dossier=dossier).count()
    response = as_manager.post(transition_url(dossier, "file_avance"), {
        "file_avance-filed_on": "2024-04-10", "file_avance-declared_amount": "-100"})
    assert response.status_code == 400
    page = text(response)
    assert "Assurez-vous que cette valeur est supérieure ou égale à 0." in page
    assert 'value="-100"' in page
    dossier.refresh_from_db()
    assert dossier.state == State.BDC_SIGNED and dossier.declared_amount is None
    assert HistoryEntry.objects.filter(dossier=dossier).count() == history


def test_a_missing_date_is_a_field_error(dossier_at, as_manager):
    dossier = dossier_at(State.AVANCE_FILED)
    response = as_manager.post(transition_url(dossier, "validate_avance"), {"validate_avance-on": ""})
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text(response)


def test_a_transition_goes_through_and_its_warnings_are_shown(organisation, dossier_at, as_manager):
    unreferenced = SolutionFactory(organisation=organisation, referenced_on=None, proofs_submitted_on=None)
    dossier = dossier_at(State.DRAFT, solution=unreferenced)
    attach(dossier, "bdc", as_manager.membership.user)
    response = as_manager.post(transition_url(dossier, "sign_bdc"), {
        "sign_bdc-signed_on": "2024-04-01", "sign_bdc-signer_name": "Paul Durand",
        "sign_bdc-signature_type": "handwritten"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dossier-detail", args=[dossier.pk])
    page = text(response)
    assert "le dossier est maintenant « BDC signé »" in page
    assert "n'est pas référencée" in page and "bdc.pre_referencing_window" in page
    dossier.refresh_from_db()
    assert dossier.state == State.BDC_SIGNED and dossier.bdc_signer_name == "Paul Durand"


def test_a_decimal_comma_is_read_as_a_decimal_point(dossier_at, as_manager):
    dossier = dossier_at(State.BDC_SIGNED)
    as_manager.post(transition_url(dossier, "file_avance"), {
        "file_avance-filed_on": "2024-04-10", "file_avance-declared_amount": "10 000,50"})
    dossier.refresh_from_db()
    assert dossier.declared_amount == Decimal("10000.50")


def test_an_unknown_transition_is_404(dossier_at, as_manager):
    dossier = dossier_at(State.DRAFT)
    assert as_manager.post(transition_url(dossier, "teleport")).status_code == 404


def test_a_transition_from_the_wrong_state_is_refused(dossier_at, as_manager):
    dossier = dossier_at(State.DRAFT)
    response = as_manager.post(transition_url(dossier, "validate_solde"), {"validate_solde-on": "2024-07-10"})
    assert response.status_code == 409
    assert "n'est pas possible depuis l'état « Brouillon »" in text(response)


# --- documents, amendments, scenario ----------------------------------------------------------------------------

def test_a_non_pdf_bdc_is_refused_in_french_and_nothing_is_stored(dossier_at, as_manager):
    dossier = dossier_at(State.DRAFT)
    fake = SimpleUploadedFile("bdc.pdf", b"GIF89a not a pdf", content_type="application/pdf")
    response = as_manager.post(reverse("dossier-document-upload", args=[dossier.pk]), {"kind": "bdc", "file": fake})
    assert response.status_code == 400
    assert "Ce document doit être un PDF (contenu non reconnu comme PDF)." in text(response)
    assert not Document.objects.exists()


def test_a_document_is_uploaded_listed_and_downloadable(dossier_at, as_manager):
    dossier = dossier_at(State.DRAFT)
    response = as_manager.post(reverse("dossier-document-upload", args=[dossier.pk]),
                               {"kind": "bdc", "file": pdf_upload("Bon de commande.pdf")}, follow=True)
    document = Document.objects.get(dossier=dossier)
    page = text(response)
    assert "Document « Bon de commande.pdf » ajouté" in page
    assert reverse("document-download", args=[document.pk]) in page
    download = as_manager.get(reverse("document-download", args=[document.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert not dossier.blockers.filter(rule="bdc.document").exists()


def test_a_document_needs_a_kind_and_a_file(dossier_at, as_manager):
    dossier = dossier_at(State.DRAFT)
    response = as_manager.post(reverse("dossier-document-upload", args=[dossier.pk]), {"kind": ""})
    assert response.status_code == 400
    # Each error twice: beside its field and in the summary at the top of the form, linked to the field.
    assert text(response).count("Ce champ est obligatoire.") == 4
    assert 'href="#id_kind"' in text(response) and 'href="#id_file"' in text(response)


def test_an_amendment_is_filed_then_validated_then_paid(dossier_at, as_manager):
    dossier = dossier_at(State.AVANCE_PAID)
    as_manager.post(reverse("dossier-amendment-add", args=[dossier.pk]),
                    {"filed_on": "2024-05-10", "amount": "12000.00"})
    amendment = Amendment.objects.get(dossier=dossier)
    dossier.refresh_from_db()
    assert dossier.declared_amount == Decimal("12000.00")
    prefix = f"amendment{amendment.pk}"
    as_manager.post(reverse("amendment-status", args=[amendment.pk]),
                    {f"{prefix}-status": "validated", f"{prefix}-on": "2024-05-20"})
    as_manager.post(reverse("amendment-status", args=[amendment.pk]),
                    {f"{prefix}-status": "paid", f"{prefix}-on": "2024-05-30", f"{prefix}-paid_amount": "2000.00"})
    amendment.refresh_from_db()
    assert (amendment.status, amendment.validated_on, amendment.paid_amount) == (
        Amendment.Status.PAID, date(2024, 5, 20), Decimal("2000.00"))
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert "Avenant payé" in page


def test_an_amendment_with_a_negative_amount_is_refused(dossier_at, as_manager):
    dossier = dossier_at(State.AVANCE_PAID)
    response = as_manager.post(reverse("dossier-amendment-add", args=[dossier.pk]),
                               {"filed_on": "2024-05-10", "amount": "-5"})
    assert response.status_code == 400
    assert "Le montant doit être positif." in text(response)
    assert not Amendment.objects.exists()


def test_an_amendment_outside_the_open_avance_is_refused(dossier_at, as_manager):
    dossier = dossier_at(State.BDC_SIGNED)
    response = as_manager.post(reverse("dossier-amendment-add", args=[dossier.pk]),
                               {"filed_on": "2024-05-10", "amount": "5000"})
    assert response.status_code == 409
    assert "pendant que l'avance est ouverte" in text(response)


def test_the_scenario_changes_and_the_change_is_logged(dossier_at, as_manager):
    dossier = dossier_at(State.AVANCE_PAID)
    as_manager.post(reverse("dossier-scenario", args=[dossier.pk]), {"scenario": "Scénario 2"})
    dossier.refresh_from_db()
    assert dossier.scenario == "Scénario 2"
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert "Scénario modifié" in page


@pytest.mark.parametrize("state", [State.VA_SIGNED, State.SOLDE_FILED])
def test_the_scenario_cannot_change_once_the_va_is_signed(state, dossier_at, as_manager):
    dossier = dossier_at(state)
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert reverse("dossier-scenario", args=[dossier.pk]) not in page
    assert "Fixé par la VA signée" in page
    response = as_manager.post(reverse("dossier-scenario", args=[dossier.pk]), {"scenario": "Autre"})
    assert response.status_code == 400
    assert "Le scénario ne peut plus changer une fois la VA signée" in text(response)
    dossier.refresh_from_db()
    assert dossier.scenario == dossier.va_scenario == "Scénario 1"


# --- what the dossier page shows -----------------------------------------------------------------------------

def test_the_dossier_page_shows_steps_documents_history_and_blockers(dossier_at, as_manager):
    dossier = dossier_at(State.DEPLOYED)
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert "10\u202f000,00 €" in page        # declared amount
    assert "1 avril 2024" in page             # BDC signed on
    assert "Bon de commande signé" in page    # a document
    assert "Avance déposée → Avance validée" in page
    assert "Bloque « Signature de la VA »" in page and "va.document" in page
    assert 'role="img"' in page


def test_guidance_from_the_demonstration_faq_is_labelled_as_such_on_a_refusal(dossier_at, as_manager, faq_entry):
    dossier = dossier_at(State.DRAFT)
    data = {"sign_bdc-signed_on": "2024-04-01", "sign_bdc-signer_name": "Paul Durand", "sign_bdc-signature_type": "fax"}
    official = text(as_manager.post(transition_url(dossier, "sign_bdc"), data))
    Entry.objects.filter(pk=faq_entry.pk).update(is_demo=True)

    demo = text(as_manager.post(transition_url(dossier, "sign_bdc"), data))

    assert "Le bon de commande signé par le client" in official and "FAQ de démonstration" not in official
    assert "Le bon de commande signé par le client" in demo and "FAQ de démonstration" in demo
