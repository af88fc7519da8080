"""Replacing and withdrawing documents, deleting the solde draft: through the service, refused once the ASP has them,
files removed only after the commit, one history row each that the chain verifies."""
import hashlib
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from dossiers import services
from dossiers.history import verify_chain
from dossiers.models import Document, HistoryEntry, State
from dossiers.timeline import display_value
from segurtrack import errors

from ..factories import PDF, attach, pdf_upload, walk_to

pytestmark = pytest.mark.django_db

OTHER_PDF = PDF + b"% corrected\n"

# kind, a state where it may change, a state where the ASP has it, the state the ASP sends it back in (None: never).
KINDS = [
    ("bdc", State.BDC_SIGNED, State.AVANCE_VALIDATED, State.AVANCE_TO_FIX),
    ("va", State.VA_SIGNED, State.SOLDE_FILED, State.SOLDE_TO_FIX),
    ("invoice", State.VA_SIGNED, State.SOLDE_VALIDATED, State.SOLDE_TO_FIX),
    ("honour_statement", State.BDC_SIGNED, State.CANCELLATION_REQUESTED, None),
]


def _document(dossier, kind, user) -> Document:
    existing = Document.objects.filter(dossier=dossier, kind=kind).first()
    return existing or attach(dossier, kind, user)


@pytest.mark.parametrize("kind,open_state,_filed,_back", KINDS, ids=[k[0] for k in KINDS])
def test_a_document_is_replaced_before_the_asp_has_it(manager_membership, kind, open_state, _filed, _back,
                                                      django_capture_on_commit_callbacks):
    user = manager_membership.user
    dossier = walk_to(open_state, membership=manager_membership)
    document = _document(dossier, kind, user)
    old_name, old_sha = document.file.name, document.sha256
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        replaced = services.replace_document(document.pk, by=user, upload=pdf_upload("nouveau.pdf", OTHER_PDF))
        assert default_storage.exists(old_name)  # still there until the commit
    assert replaced.pk == document.pk
    document.refresh_from_db()
    assert (document.filename, document.sha256) == ("nouveau.pdf", hashlib.sha256(OTHER_PDF).hexdigest())
    assert default_storage.exists(document.file.name) and default_storage.exists(old_name)
    for callback in callbacks:
        callback()
    assert not default_storage.exists(old_name)
    entry = HistoryEntry.objects.get(dossier=dossier, action="replace_document")
    assert entry.data["before"]["sha256"] == old_sha and entry.data["after"]["filename"] == "nouveau.pdf"
    assert entry.data["document"] == document.pk and entry.data["kind"] == kind
    assert verify_chain(dossier.pk) == []


@pytest.mark.parametrize("kind,_open,filed,_back", KINDS, ids=[k[0] for k in KINDS])
def test_a_document_the_asp_has_is_neither_replaced_nor_withdrawn(manager_membership, kind, _open, filed, _back,
                                                                   tmp_path):
    user = manager_membership.user
    dossier = walk_to(filed, membership=manager_membership)
    document = _document(dossier, kind, user)
    files_before = sorted(p.name for p in (tmp_path / "documents").rglob("*") if p.is_file())
    rows = HistoryEntry.objects.filter(dossier=dossier).count()
    with pytest.raises(services.CorrectionRefused) as refused:
        services.replace_document(document.pk, by=user, upload=pdf_upload("nouveau.pdf", OTHER_PDF))
    assert "ASP" in refused.value.message
    with pytest.raises(services.CorrectionRefused):
        services.withdraw_document(document.pk, by=user)
    document.refresh_from_db()
    assert document.filename == f"{kind}.pdf" and default_storage.exists(document.file.name)
    assert sorted(p.name for p in (tmp_path / "documents").rglob("*") if p.is_file()) == files_before
    assert HistoryEntry.objects.filter(dossier=dossier).count() == rows


@pytest.mark.parametrize("kind,_open,_filed,back", [k for k in KINDS if k[3]], ids=[k[0] for k in KINDS if k[3]])
def test_a_document_is_withdrawn_again_when_the_asp_sends_the_filing_back(manager_membership, kind, _open, _filed,
                                                                          back, django_capture_on_commit_callbacks):
    user = manager_membership.user
    dossier = walk_to(back, membership=manager_membership)
    document = _document(dossier, kind, user)
    name = document.file.name
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        withdrawn = services.withdraw_document(document.pk, by=user)
    assert not Document.objects.filter(pk=document.pk).exists()
    assert default_storage.exists(name)  # removed only after the commit
    for callback in callbacks:
        callback()
    assert not default_storage.exists(name)
    entry = HistoryEntry.objects.get(dossier=dossier, action="withdraw_document")
    assert entry.data == withdrawn and entry.data["filename"] == f"{kind}.pdf"
    assert verify_chain(dossier.pk) == []


def test_withdrawing_the_bdc_before_signing_brings_its_blocker_back(manager_membership):
    user = manager_membership.user
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    document = attach(dossier, "bdc", user)
    assert not dossier.blockers.filter(rule="bdc.document").exists()
    services.withdraw_document(document.pk, by=user)
    assert dossier.blockers.filter(rule="bdc.document").exists()


def test_a_rolled_back_replacement_removes_the_new_file_and_keeps_the_old(manager_membership, monkeypatch,
                                                                          tmp_path):
    user = manager_membership.user
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    document = Document.objects.get(dossier=dossier, kind="bdc")
    files_before = sorted(p.name for p in (tmp_path / "documents").rglob("*") if p.is_file())

    def failing(*args, **kwargs):
        raise RuntimeError("history unavailable")

    monkeypatch.setattr("dossiers.services.corrections.append_history", failing)
    with pytest.raises(RuntimeError):
        services.replace_document(document.pk, by=user, upload=pdf_upload("nouveau.pdf", OTHER_PDF))
    document.refresh_from_db()
    assert document.filename == "bdc.pdf" and default_storage.exists(document.file.name)
    assert sorted(p.name for p in (tmp_path / "documents").rglob("*") if p.is_file()) == files_before


def test_a_replacement_goes_through_the_upload_checks(manager_membership):
    user = manager_membership.user
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    document = Document.objects.get(dossier=dossier, kind="bdc")
    with pytest.raises(errors.InvalidInput) as invalid:
        services.replace_document(document.pk, by=user, upload=pdf_upload("bdc.pdf", b"not a pdf at all"))
    assert "file" in invalid.value.errors
    document.refresh_from_db()
    assert document.filename == "bdc.pdf"
    assert not HistoryEntry.objects.filter(dossier=dossier, action="replace_document").exists()


def test_a_document_returned_by_the_signatory_is_a_document_like_the_others(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    document, _entry = services.add_returned_document(dossier.pk, kind="va", upload=pdf_upload("va.pdf"),
                                                      returned_by="Jeanne Martin")
    services.replace_document(document.pk, by=manager_membership.user, upload=pdf_upload("va-2.pdf", OTHER_PDF))
    services.withdraw_document(document.pk, by=manager_membership.user)
    assert not Document.objects.filter(pk=document.pk).exists()


def test_other_documents_change_until_the_dossier_ends(manager_membership):
    user = manager_membership.user
    filed = walk_to(State.SOLDE_FILED, membership=manager_membership)
    services.withdraw_document(attach(filed, "other", user).pk, by=user)
    paid = walk_to(State.SOLDE_PAID, membership=manager_membership)
    with pytest.raises(services.CorrectionRefused) as refused:
        services.withdraw_document(attach(paid, "other", user).pk, by=user)
    assert "terminé" in refused.value.message


def test_a_viewer_may_not_replace_nor_withdraw(manager_membership, viewer_membership):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    document = Document.objects.get(dossier=dossier, kind="bdc")
    with pytest.raises(errors.NotPermitted):
        services.replace_document(document.pk, by=viewer_membership.user, upload=pdf_upload("x.pdf", OTHER_PDF))
    with pytest.raises(errors.NotPermitted):
        services.withdraw_document(document.pk, by=viewer_membership.user)
    assert Document.objects.filter(pk=document.pk, filename="bdc.pdf").exists()


def test_the_timeline_reads_a_replacement_with_both_files(manager_membership):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    document = Document.objects.get(dossier=dossier, kind="bdc")
    services.replace_document(document.pk, by=manager_membership.user, upload=pdf_upload("nouveau.pdf", OTHER_PDF))
    entry = HistoryEntry.objects.get(dossier=dossier, action="replace_document")
    assert display_value("replace_document", "before", entry.data["before"]) == (
        f"bdc.pdf (empreinte {hashlib.sha256(PDF).hexdigest()[:12]}…)")
    assert display_value("replace_document", "kind", "bdc") == "Bon de commande signé"


# --- the solde draft ---------------------------------------------------------------------------------------------

DRAFT = {"invoice_number": "F-1", "invoice_total": "1200.00"}


def test_the_solde_draft_is_deleted_before_filing_with_what_it_held(manager_membership):
    user = manager_membership.user
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    services.update_dossier(dossier.pk, by=user, changes={"solde_draft": DRAFT})
    services.clear_solde_draft(dossier.pk, by=user)
    dossier.refresh_from_db()
    assert dossier.solde_draft == {}
    entry = HistoryEntry.objects.get(dossier=dossier, action="clear_solde_draft")
    assert entry.data == {"before": DRAFT}
    shown = display_value("clear_solde_draft", "before", entry.data["before"])
    assert "Numéro de facture : F-1" in shown and "1\u202f200,00\u202f€" in shown
    assert verify_chain(dossier.pk) == []


def test_the_solde_draft_is_kept_once_filed_and_deleted_again_in_solde_to_fix(manager_membership):
    user = manager_membership.user
    filed = walk_to(State.SOLDE_FILED, membership=manager_membership)
    services.update_dossier(filed.pk, by=user, changes={"solde_draft": DRAFT})
    with pytest.raises(services.CorrectionRefused) as refused:
        services.clear_solde_draft(filed.pk, by=user)
    assert "« Dépôt du solde »" in refused.value.message
    filed.refresh_from_db()
    assert filed.solde_draft == DRAFT
    to_fix = walk_to(State.SOLDE_TO_FIX, membership=manager_membership)
    services.update_dossier(to_fix.pk, by=user, changes={"solde_draft": DRAFT})
    services.clear_solde_draft(to_fix.pk, by=user)
    to_fix.refresh_from_db()
    assert to_fix.solde_draft == {}


def test_an_empty_solde_draft_has_nothing_to_delete(manager_membership, viewer_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    with pytest.raises(errors.InvalidInput):
        services.clear_solde_draft(dossier.pk, by=manager_membership.user)
    with pytest.raises(errors.NotPermitted):
        services.clear_solde_draft(dossier.pk, by=viewer_membership.user)


def test_the_verify_history_command_passes_after_every_kind_of_correction(manager_membership):
    user = manager_membership.user
    dossier = walk_to(State.SOLDE_TO_FIX, membership=manager_membership)
    services.correct_step(dossier.pk, by=user, step="mark_deployed", changes={"deployed_on": "2024-06-02"})
    invoice = Document.objects.get(dossier=dossier, kind="invoice")
    services.replace_document(invoice.pk, by=user, upload=pdf_upload("facture.pdf", OTHER_PDF))
    services.withdraw_document(Document.objects.get(dossier=dossier, kind="va").pk, by=user)
    services.update_dossier(dossier.pk, by=user, changes={"solde_draft": DRAFT})
    services.clear_solde_draft(dossier.pk, by=user)
    out = StringIO()
    call_command("verify_history", "--dossier", str(dossier.pk), stdout=out)  # CommandError when a chain breaks
    assert "1 dossier(s) vérifié(s), 0 historique(s) altéré(s)" in out.getvalue()
    assert list(HistoryEntry.objects.filter(dossier=dossier).values_list("action", flat=True))[-5:] == [
        "correct_step", "replace_document", "withdraw_document", "change_solde_draft", "clear_solde_draft"]
