"""Correction pages: a step's form pre-filled, a document replaced or withdrawn, the solde draft deleted; bad input a
400 with a French error and nothing saved, a refusal a 409 saying why, another organisation's object a 404, a viewer's
write a 403, CSRF-protected forms without inline script, and a fixed number of queries."""
import hashlib
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers import services
from dossiers.models import Document, Dossier, HistoryEntry, State

from ..factories import PDF, attach, pdf_upload, walk_to
from .conftest import signed_in

pytestmark = pytest.mark.django_db

OTHER_PDF = PDF + b"% corrected\n"
CONFIRM = {"confirm": "True"}


def text(response) -> str:
    return unescape(response.content.decode())


def step_url(dossier, step="sign_bdc") -> str:
    return reverse("dossier-correct-step", args=[dossier.pk, step])


@pytest.fixture
def bdc_signed(manager_membership) -> Dossier:
    return walk_to(State.BDC_SIGNED, membership=manager_membership)


# --- a step's data -----------------------------------------------------------------------------------------------

def test_the_step_form_is_prefilled_with_the_recorded_values(as_manager, bdc_signed):
    response = as_manager.get(step_url(bdc_signed))
    assert response.status_code == 200
    page = text(response)
    assert "Corriger « Signature du BDC »" in page
    assert 'name="correction-signed_on" value="2024-04-01"' in page
    assert 'value="Paul Durand"' in page
    assert '<option value="handwritten" selected>' in page


def test_a_correction_is_saved_and_shown_in_the_history_in_french(as_manager, bdc_signed):
    response = as_manager.post(step_url(bdc_signed), {
        "correction-signed_on": "2024-03-28", "correction-signer_name": "Paul Durand",
        "correction-signature_type": "handwritten"})
    assert response.status_code == 302 and response["Location"].endswith("#history")
    bdc_signed.refresh_from_db()
    assert str(bdc_signed.bdc_signed_on) == "2024-03-28"
    page = text(as_manager.get(reverse("dossier-detail", args=[bdc_signed.pk])))
    assert "Étape corrigée" in page
    assert "<dt>Corrigé</dt><dd>BDC signé le : 1 avril 2024 → 28 mars 2024</dd>" in page
    assert "bdc_signed_on" not in page


def test_an_amount_is_typed_the_french_way_and_read_back_in_euros(as_manager, manager_membership):
    dossier = walk_to(State.AVANCE_TO_FIX, membership=manager_membership)
    response = as_manager.post(step_url(dossier, "file_avance"), {
        "correction-filed_on": "2024-04-10", "correction-declared_amount": "12 345,67"})
    assert response.status_code == 302
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert "10\u202f000,00\u202f€ → 12\u202f345,67\u202f€" in page


def test_bad_input_is_a_400_with_a_french_error_and_nothing_saved(as_manager, bdc_signed):
    rows = HistoryEntry.objects.filter(dossier=bdc_signed).count()
    response = as_manager.post(step_url(bdc_signed), {
        "correction-signed_on": "hier", "correction-signer_name": "", "correction-signature_type": "handwritten"})
    assert response.status_code == 400
    page = text(response)
    assert 'class="error-summary"' in page and "Le formulaire contient 2 erreurs" in page
    assert "La date n'a pas le bon format" in page
    assert 'value="hier"' in page  # what was typed stays
    bdc_signed.refresh_from_db()
    assert (str(bdc_signed.bdc_signed_on), bdc_signed.bdc_signer_name) == ("2024-04-01", "Paul Durand")
    assert HistoryEntry.objects.filter(dossier=bdc_signed).count() == rows


def test_a_rule_refusing_the_new_value_is_a_409_with_its_message(as_manager, manager_membership):
    dossier = walk_to(State.AVANCE_TO_FIX, membership=manager_membership)
    response = as_manager.post(step_url(dossier, "file_avance"), {
        "correction-filed_on": "2024-03-01", "correction-declared_amount": "10000.00"})
    assert response.status_code == 409
    assert "précède celle de l'étape précédente" in text(response)
    dossier.refresh_from_db()
    assert str(dossier.avance_filed_on) == "2024-04-10"


def test_a_step_the_asp_has_is_refused_with_a_409_naming_the_filing(as_manager, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    get = as_manager.get(step_url(dossier))
    assert get.status_code == 200 and "Correction impossible" in text(get) and "correction-signed_on" not in text(get)
    response = as_manager.post(step_url(dossier), {
        "correction-signed_on": "2024-03-28", "correction-signer_name": "Paul Durand",
        "correction-signature_type": "handwritten"})
    assert response.status_code == 409
    assert "Transmis à l'ASP par « Dépôt de l'avance »" in text(response)
    dossier.refresh_from_db()
    assert str(dossier.bdc_signed_on) == "2024-04-01"


def test_an_unknown_step_is_404(as_manager, bdc_signed):
    assert as_manager.get(step_url(bdc_signed, "validate_avance")).status_code == 404
    assert as_manager.get(step_url(bdc_signed, "nothing")).status_code == 404


# --- documents ---------------------------------------------------------------------------------------------------

def test_a_document_is_replaced_from_its_page(as_manager, bdc_signed, django_capture_on_commit_callbacks):
    document = Document.objects.get(dossier=bdc_signed, kind="bdc")
    old = document.file.name
    url = reverse("document-replace", args=[document.pk])
    assert "Remplacer « bdc.pdf »" in text(as_manager.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager.post(url, {"file": pdf_upload("bdc-signe.pdf", OTHER_PDF)})
    assert response.status_code == 302 and response["Location"].endswith("#documents")
    document.refresh_from_db()
    assert (document.filename, document.sha256) == ("bdc-signe.pdf", hashlib.sha256(OTHER_PDF).hexdigest())
    assert not default_storage.exists(old)
    page = text(as_manager.get(reverse("dossier-detail", args=[bdc_signed.pk])))
    assert "Document remplacé" in page and "bdc.pdf (empreinte" in page


def test_a_replacement_that_is_no_pdf_is_a_400_and_nothing_changes(as_manager, bdc_signed):
    document = Document.objects.get(dossier=bdc_signed, kind="bdc")
    response = as_manager.post(reverse("document-replace", args=[document.pk]),
                               {"file": pdf_upload("bdc.pdf", b"no pdf here")})
    assert response.status_code == 400
    assert "Ce document doit être un PDF" in text(response)
    document.refresh_from_db()
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    missing = as_manager.post(reverse("document-replace", args=[document.pk]), {})
    assert missing.status_code == 400 and "Ce champ est obligatoire" in text(missing)


def test_a_document_the_asp_has_is_refused_with_a_409(as_manager, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    document = Document.objects.get(dossier=dossier, kind="bdc")
    replace = as_manager.post(reverse("document-replace", args=[document.pk]),
                              {"file": pdf_upload("x.pdf", OTHER_PDF)})
    withdraw = as_manager.post(reverse("document-withdraw", args=[document.pk]), CONFIRM)
    assert (replace.status_code, withdraw.status_code) == (409, 409)
    assert "Transmis à l'ASP" in text(withdraw)
    assert Document.objects.filter(pk=document.pk, filename="bdc.pdf").exists()


def test_a_document_is_withdrawn_after_its_confirmation(as_manager, bdc_signed):
    document = attach(bdc_signed, "other", as_manager.membership.user, name="note.pdf")
    url = reverse("document-withdraw", args=[document.pk])
    confirmation = as_manager.get(url)
    assert confirmation.status_code == 200 and "Retirer « note.pdf » ?" in text(confirmation)
    bare = as_manager.post(url, {})  # a POST that does not come from the confirmation withdraws nothing
    assert bare.status_code == 400 and Document.objects.filter(pk=document.pk).exists()
    response = as_manager.post(url, CONFIRM)
    assert response.status_code == 302
    assert not Document.objects.filter(pk=document.pk).exists()
    assert HistoryEntry.objects.filter(dossier=bdc_signed, action="withdraw_document").count() == 1


def test_the_dossier_page_offers_the_corrections_to_a_manager_only(as_manager, as_viewer, manager_membership):
    dossier = walk_to(State.AVANCE_TO_FIX, membership=manager_membership)
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert "Corriger « Signature du BDC »" in page and "Corriger « Dépôt de l'avance »" in page
    document = Document.objects.get(dossier=dossier, kind="bdc")
    assert f'action="{reverse("document-replace", args=[document.pk])}"' in page
    assert f'action="{reverse("document-withdraw", args=[document.pk])}"' in page
    viewer_page = text(as_viewer.get(reverse("dossier-detail", args=[dossier.pk])))
    assert 'id="corrections"' not in viewer_page and "/remplacer/" not in viewer_page


def test_the_dossier_page_offers_nothing_the_asp_has(as_manager, manager_membership):
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership)
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert 'id="corrections"' not in page


# --- the solde draft ---------------------------------------------------------------------------------------------

def test_the_solde_draft_is_deleted_after_its_confirmation(as_manager, manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    services.update_dossier(dossier.pk, by=manager_membership.user,
                            changes={"solde_draft": {"invoice_number": "F-9", "invoice_total": "1500.00"}})
    url = reverse("dossier-solde-draft-clear", args=[dossier.pk])
    assert url in text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    confirmation = text(as_manager.get(url))
    assert "Numéro de facture" in confirmation and "1\u202f500,00\u202f€" in confirmation
    assert as_manager.post(url, CONFIRM).status_code == 302
    dossier.refresh_from_db()
    assert dossier.solde_draft == {}
    again = as_manager.post(url, CONFIRM)
    assert again.status_code == 400 and "Aucune donnée de facture" in text(again)


def test_the_solde_draft_once_filed_is_refused_with_a_409(as_manager, manager_membership):
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership)
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"solde_draft": {"invoice_number": "F"}})
    response = as_manager.post(reverse("dossier-solde-draft-clear", args=[dossier.pk]), CONFIRM)
    assert response.status_code == 409 and "« Dépôt du solde »" in text(response)
    dossier.refresh_from_db()
    assert dossier.solde_draft == {"invoice_number": "F"}


# --- who may, and the house rules of the pages --------------------------------------------------------------------

def _urls(dossier, document) -> dict[str, tuple[str, dict]]:
    return {
        "step": (step_url(dossier), {"correction-signer_name": "Autre"}),
        "replace": (reverse("document-replace", args=[document.pk]), {"file": pdf_upload("x.pdf", OTHER_PDF)}),
        "withdraw": (reverse("document-withdraw", args=[document.pk]), CONFIRM),
        "draft": (reverse("dossier-solde-draft-clear", args=[dossier.pk]), CONFIRM),
    }


def test_another_organisations_dossier_and_document_are_404(as_outsider, bdc_signed):
    document = Document.objects.get(dossier=bdc_signed, kind="bdc")
    for name, (url, data) in _urls(bdc_signed, document).items():
        assert as_outsider.get(url).status_code == 404, name
        assert as_outsider.post(url, data).status_code == 404, name
    assert Document.objects.filter(pk=document.pk, filename="bdc.pdf").exists()
    bdc_signed.refresh_from_db()
    assert bdc_signed.bdc_signer_name == "Paul Durand"


def test_a_viewer_gets_403_and_nothing_is_saved(as_viewer, bdc_signed):
    document = Document.objects.get(dossier=bdc_signed, kind="bdc")
    rows = HistoryEntry.objects.filter(dossier=bdc_signed).count()
    for name, (url, data) in _urls(bdc_signed, document).items():
        assert as_viewer.post(url, data).status_code == 403, name
        assert as_viewer.get(url).status_code == 403, name
    assert HistoryEntry.objects.filter(dossier=bdc_signed).count() == rows
    assert Document.objects.filter(pk=document.pk, filename="bdc.pdf").exists()


def test_the_forms_need_the_csrf_token_and_carry_no_inline_script(manager_membership, bdc_signed):
    browser = signed_in(manager_membership, enforce_csrf_checks=True)
    document = Document.objects.get(dossier=bdc_signed, kind="bdc")
    for name, (url, data) in _urls(bdc_signed, document).items():
        page = browser.get(url).content.decode()
        assert "csrfmiddlewaretoken" in page, name
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) and "style=" not in page, name
        assert browser.post(url, data).status_code == 403, name
    bdc_signed.refresh_from_db()
    assert bdc_signed.bdc_signer_name == "Paul Durand"


def _queries(browser, urls) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(url).status_code == 200, name
        counts[name] = len(captured.captured_queries)
    return counts


def test_the_correction_pages_answer_in_a_fixed_number_of_queries(as_manager, manager_membership):
    user = manager_membership.user
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    services.update_dossier(dossier.pk, by=user, changes={"solde_draft": {"invoice_number": "F-1"}})
    document = attach(dossier, "other", user)
    urls = {"step": step_url(dossier, "sign_va"), "replace": reverse("document-replace", args=[document.pk]),
            "withdraw": reverse("document-withdraw", args=[document.pk]),
            "draft": reverse("dossier-solde-draft-clear", args=[dossier.pk]),
            "detail": reverse("dossier-detail", args=[dossier.pk])}
    small = _queries(as_manager, urls)
    for n in range(15):
        attach(dossier, "other", user)
        services.add_note(dossier.pk, by=user, text=f"Note {n}")
    large = _queries(as_manager, urls)
    assert small == large
    # Session, then user with membership (2), then the dossier or the document with its dossier (1).
    assert {name: count for name, count in large.items() if name != "detail"} == {
        "step": 3, "replace": 3, "withdraw": 3, "draft": 3}


class _Fields(HTMLParser):
    """The values a browser would post from a page's correction form: inputs, checked boxes, selected options."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name") or ""
        if tag == "input" and name.startswith("correction-"):
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self.values[name] = attrs.get("value") or ("on" if attrs.get("type") == "checkbox" else "")
        elif tag == "select" and name.startswith("correction-"):
            self.select = name
            self.values[name] = ""
        elif tag == "option" and self.select and "selected" in attrs:
            self.values[self.select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


@pytest.mark.parametrize("step", services.CORRECTABLE_STEPS)
def test_each_step_form_posted_as_shown_is_no_change(as_manager, manager_membership, step):
    # The form shows the recorded values so exactly that posting them back changes nothing (a 400 saying so).
    dossier = walk_to(State.AVANCE_TO_FIX if step in ("sign_bdc", "file_avance") else State.SOLDE_TO_FIX,
                      membership=manager_membership)
    page = as_manager.get(step_url(dossier, step))
    assert page.status_code == 200
    fields = _Fields()
    fields.feed(page.content.decode())
    assert fields.values and all(value != "" for name, value in fields.values.items()
                                 if name.removeprefix("correction-") not in ("mss_deployment", "invoices_total"))
    response = as_manager.post(step_url(dossier, step), fields.values)
    assert response.status_code == 400
    assert "Aucune valeur n'a changé" in text(response)
