"""The service beyond the rules: permissions, scenario changes, amendments, documents, history, notifications."""
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError

from segurtrack import errors
from dossiers import services
from dossiers.models import AppendOnlyError, Document, Dossier, HistoryEntry, Notification, State
from organisations.models import Role

from ..factories import MembershipFactory, PDF, attach, pdf_upload, valid_payload, walk_to

pytestmark = pytest.mark.django_db


def test_a_viewer_cannot_run_a_transition(manager_membership, viewer_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    attach(dossier, "bdc", manager_membership.user)
    with pytest.raises(errors.NotPermitted):
        services.run_transition(dossier.pk, "sign_bdc", by=viewer_membership.user, data=valid_payload("sign_bdc"))
    dossier.refresh_from_db()
    assert dossier.state == State.DRAFT


def test_a_member_of_another_organisation_cannot_act(manager_membership, outsider_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    with pytest.raises(errors.NotPermitted):
        services.add_document(dossier.pk, by=outsider_membership.user, kind="bdc", upload=pdf_upload())
    assert not Document.objects.exists()


def test_transition_from_a_wrong_state_is_refused_with_the_state_rule(manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    with pytest.raises(services.RulesFailed) as refused:
        services.run_transition(dossier.pk, "validate_solde", by=manager_membership.user, data={"on": "2024-01-01"})
    assert [f.rule for f in refused.value.failures] == ["state.transition_not_allowed"]


def test_bad_payload_is_invalid_input_and_nothing_changes(manager_membership):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    with pytest.raises(errors.InvalidInput) as invalid:
        services.run_transition(dossier.pk, "file_avance", by=manager_membership.user,
                                data={"filed_on": "hier", "declared_amount": "-3.001", "colour": "blue"})
    assert set(invalid.value.errors) == {"filed_on", "declared_amount"}
    dossier.refresh_from_db()
    assert dossier.state == State.BDC_SIGNED and dossier.avance_declared_amount is None


def test_each_step_records_its_dates_amounts_and_signers(manager_membership):
    dossier = walk_to(State.SOLDE_PAID, membership=manager_membership)
    assert dossier.bdc_signed_on == date(2024, 4, 1) and dossier.bdc_signer_name == "Paul Durand"
    assert dossier.bdc_signature_type == "handwritten"
    assert dossier.avance_declared_amount == dossier.declared_amount == Decimal("10000.00")
    assert dossier.avance_paid_amount == dossier.avance_paid_total == Decimal("3000.00")
    assert dossier.deployed_on == date(2024, 6, 1)
    assert (dossier.va_signed_on, dossier.va_signer_name) == (date(2024, 6, 20), "Dr Jeanne Martin")
    assert (dossier.invoice_number, dossier.solde_amount, dossier.vat) == ("F-2024-001", Decimal("10000.00"), "20")
    assert (dossier.solde_paid_on, dossier.solde_paid_amount) == (date(2024, 7, 20), Decimal("7000.00"))


def test_cancelling_after_the_avance_was_paid_issues_a_recovery_until_repaid(manager_membership):
    dossier = walk_to(State.RECOVERY_ISSUED, membership=manager_membership)
    assert dossier.recovery_issued_on == date(2024, 8, 5) and dossier.cancelled_on is None
    services.run_transition(dossier.pk, "record_recovery", by=manager_membership.user,
                            data=valid_payload("record_recovery"))
    dossier.refresh_from_db()
    assert (dossier.state, dossier.recovered_amount) == (State.CANCELLED, Decimal("3000.00"))


def test_scenario_changes_are_logged_until_the_solde_is_filed(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"scenario": "Scénario 2"})
    entry = dossier.history.get(action="change_scenario")
    assert entry.data == {"from": "Scénario 1", "to": "Scénario 2"}
    filed = walk_to(State.SOLDE_FILED, membership=manager_membership)
    with pytest.raises(errors.InvalidInput) as invalid:
        services.update_dossier(filed.pk, by=manager_membership.user, changes={"scenario": "Scénario 3"})
    assert "scenario" in invalid.value.errors
    filed.refresh_from_db()
    assert filed.scenario == "Scénario 1"


def test_va_scenario_replaces_the_avance_scenario(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    attach(dossier, "va", manager_membership.user)
    services.run_transition(dossier.pk, "sign_va", by=manager_membership.user,
                            data=valid_payload("sign_va", dossier, scenario="Scénario réduit"))
    dossier.refresh_from_db()
    assert dossier.scenario == "Scénario réduit"


def test_amendments_replace_the_declared_amount_and_add_their_payment(manager_membership):
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    amendment = services.add_amendment(dossier.pk, by=manager_membership.user, filed_on=date(2024, 5, 5),
                                       amount=Decimal("14000.00"))
    dossier.refresh_from_db()
    assert dossier.declared_amount == Decimal("14000.00")
    assert dossier.avance_declared_amount == Decimal("10000.00")
    services.update_amendment(amendment.pk, by=manager_membership.user, status="validated")
    services.update_amendment(amendment.pk, by=manager_membership.user, status="paid",
                              paid_amount=Decimal("1200.00"))
    dossier.refresh_from_db()
    assert dossier.avance_paid_total == Decimal("4200.00")
    assert list(dossier.history.filter(action__startswith="amendment").values_list("action", flat=True)) == [
        "amendment_validated", "amendment_paid"]


def test_amendment_status_cannot_skip_or_go_back(manager_membership):
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    amendment = services.add_amendment(dossier.pk, by=manager_membership.user, filed_on=date(2024, 5, 5),
                                       amount=Decimal("11000.00"))
    with pytest.raises(services.RulesFailed):
        services.update_amendment(amendment.pk, by=manager_membership.user, status="paid")


def test_amendments_are_refused_once_the_solde_is_filed_or_before_the_avance(manager_membership):
    for state in (State.BDC_SIGNED, State.SOLDE_FILED):
        dossier = walk_to(state, membership=manager_membership)
        with pytest.raises(services.RulesFailed) as refused:
            services.add_amendment(dossier.pk, by=manager_membership.user, filed_on=date(2024, 5, 5),
                                   amount=Decimal("11000.00"))
        assert refused.value.failures[0].rule == "amendment.avance_open"
        assert not dossier.amendments.exists()


def test_signed_documents_must_be_pdf_by_content_not_by_name(manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    fake = SimpleUploadedFile("bdc.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(errors.InvalidInput) as invalid:
        services.add_document(dossier.pk, by=manager_membership.user, kind="bdc", upload=fake)
    assert "PDF" in invalid.value.errors["file"][0]
    other = services.add_document(dossier.pk, by=manager_membership.user, kind="other",
                                  upload=SimpleUploadedFile("notes.txt", b"hello"))
    assert other.filename == "notes.txt"
    assert list(Document.objects.values_list("kind", flat=True)) == ["other"]


def test_oversized_and_empty_uploads_are_refused_and_nothing_is_stored(manager_membership, settings, tmp_path):
    settings.DOCUMENT_MAX_BYTES = 100
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    for upload in (pdf_upload(content=PDF + b"x" * 200), SimpleUploadedFile("empty.pdf", b"")):
        with pytest.raises(errors.InvalidInput):
            services.add_document(dossier.pk, by=manager_membership.user, kind="bdc", upload=upload)
    assert not Document.objects.exists()
    stored = tmp_path / "documents"
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))


@pytest.mark.parametrize(("given", "shown"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\x\\BDC signé.pdf", "BDC signe.pdf"),
    ("bon\x00de\ncommande.pdf", "bondecommande.pdf"),
    ("....pdf", "pdf"),
    ("facture", "facture.pdf"),
])
def test_document_names_are_sanitised_and_stored_under_a_generated_name(given, shown, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    document = services.add_document(dossier.pk, by=manager_membership.user, kind="invoice",
                                     upload=pdf_upload(name=given))
    assert document.filename in (shown, shown + ".pdf")
    assert ".." not in document.file.name and "/" not in document.file.name.split("/", 2)[-1]
    assert document.file.name.startswith(f"org{dossier.organisation_id}/dossier{dossier.pk}/")
    assert document.size == len(PDF) and len(document.sha256) == 64


def test_history_rows_are_append_only(manager_membership):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    entry = dossier.history.last()
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_history_chain_links_each_row_to_the_previous(manager_membership):
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    rows = list(dossier.history.order_by("seq"))
    assert rows[0].prev_hash == ""
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
    assert all(r.hash == r.compute_hash() for r in rows)
    assert (dossier.history_seq, dossier.history_hash) == (rows[-1].seq, rows[-1].hash)


def test_the_database_refuses_a_second_active_dossier_for_a_client_and_dispositif(manager_membership):
    first = walk_to(State.BDC_SIGNED, membership=manager_membership)
    with pytest.raises(IntegrityError):
        Dossier.objects.create(organisation=first.organisation, client=first.client, solution=first.solution,
                               dispositif=first.dispositif, state=State.BDC_SIGNED)


def test_transition_notifies_the_other_members_once_after_commit(manager_membership,
                                                                 django_capture_on_commit_callbacks):
    from dossiers.tasks import notify_history_entry

    colleague = MembershipFactory(organisation=manager_membership.organisation, role=Role.VIEWER)
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    attach(dossier, "bdc", manager_membership.user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = services.run_transition(dossier.pk, "sign_bdc", by=manager_membership.user,
                                          data=valid_payload("sign_bdc"))
    notes = Notification.objects.filter(history_entry=outcome.history)
    assert len(callbacks) == 1 and not notes.exists()  # nothing is sent before the commit
    callbacks[0]()
    assert list(notes.values_list("user_id", flat=True)) == [colleague.user_id]
    assert "BDC signé" in notes.get().message
    assert notify_history_entry(outcome.history.pk) == 0  # a second run sends nothing more
    assert notes.count() == 1


def test_create_dossier_gives_a_reference_and_a_first_history_row(manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    assert dossier.reference == f"SEG-{dossier.pk:06d}"
    assert HistoryEntry.objects.get(dossier=dossier).action == "create"


def _blockers(dossier):
    return sorted(dossier.blockers.values_list("rule", flat=True))


def test_blockers_follow_the_documents_of_the_next_step(manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    assert _blockers(dossier) == ["bdc.document"]
    attach(dossier, "bdc", manager_membership.user)
    assert _blockers(dossier) == []


def test_blockers_of_a_solde_clear_when_a_pv_pilote_is_validated(manager_membership,
                                                                   django_capture_on_commit_callbacks):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    assert _blockers(dossier) == ["solde.invoice_document", "solde.pv_pilote"]
    with django_capture_on_commit_callbacks(execute=True):  # the refresh runs after the commit
        services.add_pv_pilote(dossier.solution, by=manager_membership.user, signed_on=date(2024, 6, 1),
                               status="validated", upload=pdf_upload("pv.pdf"))
    assert _blockers(dossier) == ["solde.invoice_document"]


def test_blockers_count_the_solde_draft_and_ignore_untyped_invoice_data(manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    attach(dossier, "invoice", manager_membership.user)
    services.update_dossier(dossier.pk, by=manager_membership.user,
                            changes={"solde_draft": {"invoice_addressee": "Paul Durand"}})
    assert _blockers(dossier) == ["solde.invoice_matches_va_signer", "solde.pv_pilote"]


def test_states_waiting_on_the_agency_have_no_blockers(manager_membership):
    assert _blockers(walk_to(State.AVANCE_FILED, membership=manager_membership)) == []


def test_saving_a_client_validates_identifiers_and_unblocks_its_dossiers(manager_membership,
                                                                      django_capture_on_commit_callbacks):
    from dossiers.models import Client

    dossier = walk_to(State.DRAFT, membership=manager_membership)
    attach(dossier, "bdc", manager_membership.user)
    client = Client.objects.get(pk=dossier.client_id)
    client.finess_geo, client.siret = "", ""
    with django_capture_on_commit_callbacks(execute=True):
        services.save_client(client, by=manager_membership.user)
    assert _blockers(dossier) == ["client.identified"]
    client.siret = "732 829 320 00075"
    with pytest.raises(errors.InvalidInput) as invalid:
        services.save_client(client, by=manager_membership.user)
    assert "siret" in invalid.value.errors
    client.siret = "732 829 320 00074"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_client(client, by=manager_membership.user)
    assert Client.objects.get(pk=client.pk).siret == "73282932000074"
    assert _blockers(dossier) == []


def test_a_viewer_cannot_save_a_client(manager_membership, viewer_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    with pytest.raises(errors.NotPermitted):
        services.save_client(dossier.client, by=viewer_membership.user)


def test_pv_pilote_status_change_refreshes_the_solution_dossiers(manager_membership,
                                                                 django_capture_on_commit_callbacks):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    with django_capture_on_commit_callbacks(execute=True):
        pv = services.add_pv_pilote(dossier.solution, by=manager_membership.user, signed_on=date(2024, 6, 1),
                                    status="pending", upload=pdf_upload("pv.pdf"))
    assert "solde.pv_pilote" in _blockers(dossier)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_pv_pilote_status(pv, by=manager_membership.user, status="validated")
    assert "solde.pv_pilote" not in _blockers(dossier)


def test_a_solution_with_dossiers_keeps_its_dispositif(manager_membership):
    from dossiers.models import Dispositif

    dossier = walk_to(State.DRAFT, membership=manager_membership)
    solution = dossier.solution
    solution.dispositif = Dispositif.objects.get(code="OFF-LGO-VA1")
    with pytest.raises(errors.InvalidInput) as invalid:
        services.save_solution(solution, by=manager_membership.user)
    assert "dispositif" in invalid.value.errors
    solution.refresh_from_db()
    assert solution.dispositif.code == "MDV-LGC-VA1"


def test_a_paid_amendment_without_an_amount_is_paid_in_full_today(manager_membership):
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    amendment = services.add_amendment(dossier.pk, by=manager_membership.user, filed_on=date(2024, 5, 5),
                                       amount=Decimal("11000.00"))
    services.update_amendment(amendment.pk, by=manager_membership.user, status="validated")
    services.update_amendment(amendment.pk, by=manager_membership.user, status="paid")
    amendment.refresh_from_db()
    assert (amendment.status, amendment.paid_amount, amendment.paid_on) == (
        "paid", Decimal("11000.00"), timezone.localdate())
    dossier.refresh_from_db()
    assert dossier.avance_paid_total == Decimal("14000.00")
