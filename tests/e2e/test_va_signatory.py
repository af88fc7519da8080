"""In a real browser at 390 px (a phone in a hospital corridor): the signatory follows the link of the e-mail a real
SMTP server received, sees what is asked, downloads the unsigned VA, returns the signed one with the ESMS
prerequisites; no horizontal scroll, large touch targets, labelled fields, no axe violation. With UPDATE_SCREENSHOTS=1
it saves the README's screenshot `docs/screenshots/10-va-signataire.png`."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings as django_settings
from playwright.sync_api import expect

from dossiers import services as dossier_services
from dossiers.models import Client, Document, Notification, State
from varequests import services
from varequests.models import VaRequest

from ..factories import EsmsClientFactory, SolutionFactory, pdf_upload, walk_to
from ..varequests.conftest import link_in, smtp_server  # noqa: F401 (the real SMTP server fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The README's picture is refreshed only when asked (UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean.
SCREENSHOT = Path(django_settings.BASE_DIR) / "docs" / "screenshots" / "10-va-signataire.png"
PHONE = {"width": 390, "height": 844}


def no_horizontal_overflow(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == PHONE["width"], widths


def test_the_signatory_returns_the_signed_va_from_a_phone(browser, live_server, smtp_server, settings, pdf_file,  # noqa: F811
                                                          organisation, manager_membership, tmp_path):
    settings.SITE_URL = live_server.url
    solution = SolutionFactory(organisation=organisation, name="Dossier Usager Plus", version="4.2")
    client = EsmsClientFactory(organisation=organisation, name="EHPAD Les Tilleuls", ans_contract_signed_on=None,
                               cpe_cards="", software_certificates="")
    dossier = walk_to(State.DEPLOYED, membership=manager_membership, client=client, solution=solution)
    dossier_services.add_document(dossier.pk, by=manager_membership.user, kind="va_draft",
                                  upload=pdf_upload("VA à signer.pdf"))
    # Committed at once (transactional test): the outbox publishes, the task e-mails through SMTP.
    services.request_va(dossier.pk, by=manager_membership.user, email="direction@ehpad-tilleuls.example",
                        name="Claire Dubois", message="Bonjour, voici la VA de l'installation du 12 mai à signer.")
    (message,) = smtp_server.wait_for(1)
    link = link_in(message)
    assert link.startswith(live_server.url)

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Claire Dubois")
        for shown in (organisation.name, "EHPAD Les Tilleuls", "Dossier Usager Plus 4.2", dossier.dispositif.code,
                      dossier.scenario):
            expect(page.locator("main")).to_contain_text(shown)
        no_horizontal_overflow(page)

        with page.expect_download() as download:
            page.get_by_role("link", name="Télécharger la VA à signer").click()
        assert download.value.suggested_filename.endswith(".pdf")

        page.get_by_label("VA signée (PDF)").set_input_files(pdf_file("VA signée Tilleuls.pdf"))
        page.get_by_label("Date de signature du contrat avec l'ANS").fill("2024-05-02")
        page.get_by_label("Cartes CPE").select_option("ordered")
        page.get_by_label("Certificats logiciels").select_option("not_needed")
        for control in (page.get_by_role("button", name="Envoyer la VA signée"),
                        page.get_by_role("link", name="Télécharger la VA à signer"),
                        page.get_by_label("Cartes CPE")):
            box = control.bounding_box()
            assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        no_horizontal_overflow(page)
        violations = Axe().run(page)
        assert violations.violations_count == 0, violations.generate_report()
        page.evaluate("() => document.activeElement.blur()")
        picture = page.screenshot(full_page=True)
        assert picture.startswith(b"\x89PNG")
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            SCREENSHOT.write_bytes(picture)

        page.get_by_role("button", name="Envoyer la VA signée").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Merci, la VA signée est transmise")
        no_horizontal_overflow(page)
    finally:
        context.close()

    va_request = VaRequest.objects.get()
    assert va_request.status == "returned"
    assert Document.objects.get(dossier=dossier, kind="va").filename == "VA signee Tilleuls.pdf"
    client.refresh_from_db()
    assert client.cpe_cards == Client.Prerequisite.ORDERED and client.ans_contract_signed_on.isoformat() == "2024-05-02"
    assert Notification.objects.filter(kind="va_returned", user=manager_membership.user).exists()
    assert SCREENSHOT.stat().st_size > 10_000
