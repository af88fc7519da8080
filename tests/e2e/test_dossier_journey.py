"""In a real browser: a manager takes a dossier from draft to solde paid through the pages; a viewer cannot act;
another organisation's dossier does not exist."""
import json

import pytest
from playwright.sync_api import Page, expect

from dossiers.models import Dossier, State
from faqref.models import Entry, RuleLink
from organisations.models import Role

from ..factories import MembershipFactory, SolutionFactory, next_finess, walk_to

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FAQ_TITLE = "Le bon de commande doit-il être signé par le client ?"


@pytest.fixture
def faq_for_bdc(db):
    entry = Entry(slug="bon-de-commande-signe-0000", derived_title=FAQ_TITLE, fingerprint="0" * 64,
                  text="Oui, le bon de commande, et ses éventuelles annexes, doit avoir fait l'objet d'un accord "
                       "explicite du Client final, par la signature du responsable.")
    entry.save()
    RuleLink.objects.create(rule="bdc.document", entry=entry, origin=RuleLink.Origin.PINNED)
    return entry


def expect_state(page: Page, label: str) -> None:
    expect(page.locator("h1 .state")).to_have_text(label)


def run(page: Page, transition: str, **values) -> None:
    """Open a transition's form on the dossier page, fill it (selects by value) and submit it."""
    page.locator(f"#action-{transition} > summary").click()
    form = page.locator(f"form[data-transition='{transition}']")
    for name, value in values.items():
        field = form.locator(f"[name='{transition}-{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        elif field.get_attribute("type") == "checkbox":
            field.set_checked(bool(value))
        else:
            field.fill(value)
    form.get_by_role("button").click()


def upload(page: Page, kind: str, path: str) -> None:
    form = page.locator("#documents form")
    form.locator("select[name='kind']").select_option(kind)
    form.locator("input[name='file']").set_input_files(path)
    form.get_by_role("button", name="Téléverser").click()
    expect(page.locator(".message--success")).to_contain_text("ajouté")


def check_status(page: Page, rule: str) -> str:
    return page.locator(f"li[data-rule='{rule}']").get_attribute("data-status")


def test_a_manager_takes_a_dossier_from_draft_to_solde_paid(page, live_server, sign_in, pdf_file, organisation,
                                                            manager_membership, faq_for_bdc):
    solution = SolutionFactory(organisation=organisation, name="CabinetPlus", version="12.1")
    base = live_server.url
    sign_in("manon")

    # A client, its FINESS checked as it is typed (htmx), then saved.
    page.get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="Nouveau client").click()
    page.get_by_label("Raison sociale").fill("Cabinet du Dr Martin")
    page.get_by_label("Type").select_option("ps")
    page.get_by_label("Département").select_option("75")
    finess = page.get_by_label("FINESS géographique")
    finess.fill("750000001")
    expect(page.locator("#finess_geo-check")).to_contain_text("clé de contrôle")
    finess.fill(next_finess("75"))
    expect(page.locator("#finess_geo-check")).to_contain_text("numéro valide")
    page.get_by_role("button", name="Enregistrer le client").click()
    expect(page.locator(".message--success")).to_contain_text("Cabinet du Dr Martin")

    # A dossier for it.
    page.get_by_role("link", name="Nouveau dossier pour ce client").click()
    page.get_by_label("Solution").select_option(str(solution.pk))
    page.get_by_label("Scénario d'installation").fill("Scénario 1")
    page.get_by_role("button", name="Créer le dossier").click()
    expect_state(page, "Brouillon")
    dossier_url = page.url
    dossier = Dossier.objects.get(organisation=organisation)

    # Signing the BDC before uploading it is refused: every failing rule, its FAQ guidance, the input kept.
    run(page, "sign_bdc", signed_on="2024-04-01", signer_name="Paul Durand", signature_type="handwritten")
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text("Bon de commande joint")
    expect(refusal).to_contain_text("Joignez le bon de commande signé")
    expect(page.locator("#id_sign_bdc-signer_name")).to_have_value("Paul Durand")
    refusal.get_by_role("link", name=FAQ_TITLE).click()
    expect(page.locator("h1")).to_have_text(FAQ_TITLE)
    assert page.url == f"{base}/faq/{faq_for_bdc.pk}/"
    page.goto(dossier_url)
    expect_state(page, "Brouillon")

    upload(page, "bdc", pdf_file("bdc.pdf"))
    run(page, "sign_bdc", signed_on="2024-04-01", signer_name="Paul Durand", signature_type="handwritten")
    expect_state(page, "BDC signé")
    run(page, "file_avance", filed_on="2024-04-10", declared_amount="10000.00")
    expect_state(page, "Avance déposée")
    run(page, "validate_avance", on="2024-04-25")
    expect_state(page, "Avance validée")
    run(page, "record_avance_payment", paid_on="2024-05-02", amount="3000.00")
    expect_state(page, "Avance payée")
    run(page, "mark_deployed", deployed_on="2024-06-01")
    expect_state(page, "Déployé, VA attendue")
    upload(page, "va", pdf_file("va.pdf"))
    run(page, "sign_va", signed_on="2024-06-20", signer_name="Dr Jeanne Martin", scenario="Scénario 1")
    expect_state(page, "VA signée")

    # The pre-solde checklist turns green as the documents and the invoice data come in.
    page.get_by_role("link", name="Déposer le solde →").click()
    expect(page.locator("h1")).to_have_text("Liste de contrôle avant le solde")
    assert check_status(page, "solde.invoice_document") == "failed"
    assert check_status(page, "solde.pv_pilote") == "failed"
    assert check_status(page, "solde.invoice_matches_va_signer") == "pending"
    expect(page.get_by_role("button", name="Déposer le solde")).to_be_disabled()

    invoice = page.locator("li[data-rule='solde.invoice_document']")
    invoice.locator("input[type='file']").set_input_files(pdf_file("facture.pdf"))
    invoice.get_by_role("button", name="Téléverser").click()
    assert check_status(page, "solde.invoice_document") == "ok"

    draft = page.locator("#invoice form")
    for name, value in {"invoice_number": "F-2024-001", "invoice_date": "2024-06-28",
                        "invoice_addressee": "Mme Jeanne MARTIN", "invoice_total": "12000.00",
                        "solde_amount": "10000.00", "vat": "20"}.items():
        draft.locator(f"[name='draft-{name}']").fill(value)
    draft.locator("[name='draft-invoice_count']").select_option("1")
    draft.locator("[name='draft-invoice_mentions_checked']").check()
    draft.get_by_role("button", name="Enregistrer les données").click()
    expect(page.locator(".message--success")).to_contain_text("Données de facture enregistrées")
    for rule in ("solde.invoice_matches_va_signer", "solde.amount_within_avance", "solde.invoice_full_amount",
                 "solde.vat_exemption", "solde.invoice_mentions"):
        assert check_status(page, rule) == "ok", rule
    assert check_status(page, "solde.pv_pilote") == "failed"
    expect(page.get_by_role("button", name="Déposer le solde")).to_be_disabled()

    # The PV pilote, uploaded and validated on the solution's page, lifts the last blocking rule.
    page.get_by_role("link", name="Voir les PV pilotes de la solution").click()
    pv_form = page.locator("#pv-pilotes form[enctype]")
    pv_form.get_by_label("Signé le").fill("2024-05-15")
    pv_form.get_by_label("PV pilote (PDF)").set_input_files(pdf_file("pv.pdf"))
    pv_form.get_by_role("button", name="Téléverser le PV pilote").click()
    page.get_by_role("button", name="Valider").click()
    expect(page.locator("#pv-pilotes .badge--ok")).to_have_text("Validé")
    page.goto(f"{dossier_url}solde/")
    assert check_status(page, "solde.pv_pilote") == "ok"
    expect(page.locator("[data-count='failed']")).to_have_text("0")
    expect(page.get_by_role("button", name="Déposer le solde")).to_be_enabled()

    # The solde request JSON, previewed and downloaded.
    expect(page.locator("pre.json")).to_contain_text('"prestation_segur": "10000.00"')
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le JSON").click()
    download = download_info.value
    assert download.suggested_filename == f"solde-{dossier.reference}.json"
    document = json.loads(open(download.path(), encoding="utf-8").read())
    assert document["reference_dossier"] == dossier.reference
    assert document["dispositif"] == "MDV-LGC-VA1"
    assert document["prestation_segur"] == "10000.00"
    assert document["tva_applicable"] == "20"
    assert document["facture"]["numero"] == "F-2024-001"
    assert document["facture"]["destinataire"] == "Mme Jeanne MARTIN"
    assert document["va"]["signataire"] == "Dr Jeanne Martin"
    assert document["solution"] == {"nom": "CabinetPlus", "version": "12.1"}

    page.get_by_label("Déposé le").fill("2024-07-01")
    page.get_by_role("button", name="Déposer le solde").click()
    expect(page.locator(".messages")).to_contain_text("le dossier est maintenant « Solde déposé »")

    page.goto(dossier_url)
    run(page, "validate_solde", on="2024-07-10")
    expect_state(page, "Solde validé")
    run(page, "record_solde_payment", paid_on="2024-07-20", amount="7000.00")
    expect_state(page, "Soldé")
    expect(page.locator("svg.diagram g.state-current")).to_have_attribute("data-state", "solde_paid")
    dossier.refresh_from_db()
    assert dossier.state == State.SOLDE_PAID
    assert dossier.history.filter(action="record_solde_payment").exists()


def test_a_viewer_sees_no_action_and_a_forged_post_is_refused(page, live_server, sign_in, organisation,
                                                             manager_membership, viewer_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    sign_in("victor")
    page.goto(f"{live_server.url}/dossiers/{dossier.pk}/")
    expect(page.locator("h1 .state")).to_have_text("Brouillon")
    # The only form that posts is the sign-out one.
    expect(page.locator("main form[method='post']")).to_have_count(0)
    expect(page.locator("main button")).to_have_count(0)

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/dossiers/{dossier.pk}/transitions/sign_bdc/",
        form={"csrfmiddlewaretoken": token, "sign_bdc-signed_on": "2024-04-01",
              "sign_bdc-signer_name": "Paul Durand", "sign_bdc-signature_type": "handwritten"},
        headers={"Referer": f"{live_server.url}/dossiers/{dossier.pk}/"},
    )
    assert response.status == 403
    assert "Votre rôle ne permet pas cette action." in response.text()
    dossier.refresh_from_db()
    assert dossier.state == State.DRAFT


def test_another_organisations_dossier_is_not_found(page, live_server, sign_in, manager_membership,
                                                    outsider_membership):
    theirs = walk_to(State.BDC_SIGNED, membership=outsider_membership)
    MembershipFactory(organisation=outsider_membership.organisation, role=Role.MANAGER)
    sign_in("manon")
    for path in (f"/dossiers/{theirs.pk}/", f"/dossiers/{theirs.pk}/solde/", f"/clients/{theirs.client_id}/",
                 f"/solutions/{theirs.solution_id}/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404, path
        expect(page.locator("h1")).to_have_text("Page introuvable")
