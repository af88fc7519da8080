"""Correcting a step's recorded data through the service: allowed until the ASP has it, refused once filed, allowed
again when the ASP sends the filing back; validated as the step's payload and its rules; one history row."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dossiers import counters, deadlines, services
from dossiers.history import verify_chain
from dossiers.models import Dispositif, Dossier, HistoryEntry, State
from dossiers.timeline import display_value, field_label
from segurtrack import errors

from ..factories import walk_to

pytestmark = pytest.mark.django_db

# step, a change, the dossier fields it sets, the state it is corrected in, a state where the ASP has it (and the
# filing the refusal names), the state the ASP sends it back in.
STEPS = [
    ("sign_bdc", {"signed_on": "2024-03-28"}, {"bdc_signed_on": date(2024, 3, 28)},
     State.BDC_SIGNED, State.AVANCE_FILED, "Dépôt de l'avance", State.AVANCE_TO_FIX),
    ("file_avance", {"declared_amount": "12000.00"},
     {"avance_declared_amount": Decimal("12000.00"), "declared_amount": Decimal("12000.00")},
     State.AVANCE_TO_FIX, State.AVANCE_VALIDATED, "Dépôt de l'avance", State.AVANCE_TO_FIX),
    ("record_avance_payment", {"amount": "3500.00", "paid_on": "2024-05-03"},
     {"avance_paid_amount": Decimal("3500.00"), "avance_paid_total": Decimal("3500.00"),
      "avance_paid_on": date(2024, 5, 3)},
     State.AVANCE_PAID, State.SOLDE_FILED, "Dépôt du solde", State.SOLDE_TO_FIX),
    ("mark_deployed", {"deployed_on": "2024-06-02"}, {"deployed_on": date(2024, 6, 2)},
     State.DEPLOYED, State.SOLDE_VALIDATED, "Dépôt du solde", State.SOLDE_TO_FIX),
    ("sign_va", {"signed_on": "2024-06-21", "scenario": "Scénario 2"},
     {"va_signed_on": date(2024, 6, 21), "va_scenario": "Scénario 2", "scenario": "Scénario 2"},
     State.VA_SIGNED, State.SOLDE_FILED, "Dépôt du solde", State.SOLDE_TO_FIX),
    ("file_solde", {"invoice_number": "F-2024-002", "invoice_date": "2024-06-29"},
     {"invoice_number": "F-2024-002", "invoice_date": date(2024, 6, 29)},
     State.SOLDE_TO_FIX, State.SOLDE_FILED, "Dépôt du solde", State.SOLDE_TO_FIX),
]
IDS = [step[0] for step in STEPS]


def _fields(dossier: Dossier, names) -> dict:
    dossier.refresh_from_db()
    return {name: getattr(dossier, name) for name in names}


@pytest.mark.parametrize("step,changes,expected,state,_filed,_filing,_back", STEPS, ids=IDS)
def test_a_step_is_corrected_before_the_asp_has_it(manager_membership, step, changes, expected, state, _filed,
                                                   _filing, _back):
    dossier = walk_to(state, membership=manager_membership)
    outcome = services.correct_step(dossier.pk, by=manager_membership.user, step=step, changes=changes)
    assert _fields(dossier, expected) == expected
    assert dossier.state == state  # a correction is no step
    entry = HistoryEntry.objects.get(dossier=dossier, action="correct_step")
    assert entry == outcome.history and entry.data["step"] == step
    assert set(entry.data["changes"]) == set(expected)
    assert verify_chain(dossier.pk) == []


@pytest.mark.parametrize("step,changes,expected,_state,filed,filing,_back", STEPS, ids=IDS)
def test_a_step_is_refused_once_the_asp_has_it_naming_the_filing(manager_membership, step, changes, expected,
                                                                  _state, filed, filing, _back):
    dossier = walk_to(filed, membership=manager_membership)
    before = _fields(dossier, expected)
    rows = dossier.history_seq
    with pytest.raises(services.CorrectionRefused) as refused:
        services.correct_step(dossier.pk, by=manager_membership.user, step=step, changes=changes)
    assert f"« {filing} »" in refused.value.message and "ASP" in refused.value.message
    assert _fields(dossier, expected) == before
    assert dossier.history_seq == rows


@pytest.mark.parametrize("step,changes,expected,_state,_filed,_filing,back", STEPS, ids=IDS)
def test_a_step_is_corrected_again_when_the_asp_sends_the_filing_back(manager_membership, step, changes, expected,
                                                                       _state, _filed, _filing, back):
    dossier = walk_to(back, membership=manager_membership)
    services.correct_step(dossier.pk, by=manager_membership.user, step=step, changes=changes)
    assert _fields(dossier, expected) == expected


@pytest.mark.parametrize("state", [State.SOLDE_PAID, State.CANCELLED])
def test_a_final_state_refuses_every_correction(manager_membership, state):
    dossier = walk_to(state, membership=manager_membership)
    with pytest.raises(services.CorrectionRefused) as refused:
        services.correct_step(dossier.pk, by=manager_membership.user, step="sign_bdc",
                              changes={"signer_name": "Autre"})
    assert "terminé" in refused.value.message
    assert services.correctable_steps(dossier) == []


def test_a_cancellation_with_the_asp_refuses_corrections(manager_membership):
    dossier = walk_to(State.CANCELLATION_REQUESTED, membership=manager_membership)
    with pytest.raises(services.CorrectionRefused) as refused:
        services.correct_step(dossier.pk, by=manager_membership.user, step="sign_bdc",
                              changes={"signer_name": "Autre"})
    assert "annulation" in refused.value.message


def test_a_step_not_taken_has_nothing_to_correct(manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    with pytest.raises(services.CorrectionRefused) as refused:
        services.correct_step(dossier.pk, by=manager_membership.user, step="sign_bdc",
                              changes={"signer_name": "Autre"})
    assert "rien à corriger" in refused.value.message


def test_correctable_steps_follow_the_table(manager_membership):
    assert services.correctable_steps(walk_to(State.BDC_SIGNED, membership=manager_membership)) == ["sign_bdc"]
    assert services.correctable_steps(walk_to(State.AVANCE_TO_FIX, membership=manager_membership)) == [
        "sign_bdc", "file_avance"]
    assert services.correctable_steps(walk_to(State.VA_SIGNED, membership=manager_membership)) == [
        "record_avance_payment", "mark_deployed", "sign_va"]
    assert services.correctable_steps(walk_to(State.SOLDE_TO_FIX, membership=manager_membership)) == [
        "record_avance_payment", "mark_deployed", "sign_va", "file_solde"]


# --- validation: the step's payload and the rules that read the changed values ---------------------------------

def test_a_date_before_the_previous_step_is_refused_by_the_chronology_rule(manager_membership):
    dossier = walk_to(State.AVANCE_TO_FIX, membership=manager_membership)
    with pytest.raises(services.RulesFailed) as refused:
        services.correct_step(dossier.pk, by=manager_membership.user, step="file_avance",
                              changes={"filed_on": "2024-03-30"})  # the BDC was signed on 1 April
    assert [f.rule for f in refused.value.failures] == ["dates.chronology"]
    dossier.refresh_from_db()
    assert dossier.avance_filed_on == date(2024, 4, 10)


def test_a_date_after_the_next_step_is_refused_by_the_chronology_rule(manager_membership):
    dossier = walk_to(State.AVANCE_TO_FIX, membership=manager_membership)
    with pytest.raises(services.RulesFailed) as refused:
        services.correct_step(dossier.pk, by=manager_membership.user, step="sign_bdc",
                              changes={"signed_on": "2024-04-12"})  # the avance was filed on 10 April
    assert [f.rule for f in refused.value.failures] == ["dates.chronology"]
    assert "étape suivante" in refused.value.failures[0].message


def test_a_date_in_the_future_is_refused_by_the_chronology_rule(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(services.RulesFailed) as refused:
        services.correct_step(dossier.pk, by=manager_membership.user, step="mark_deployed",
                              changes={"deployed_on": tomorrow.isoformat()})
    assert [f.rule for f in refused.value.failures] == ["dates.chronology"]


def test_a_date_between_its_neighbours_passes_the_chronology_rule(manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    services.correct_step(dossier.pk, by=manager_membership.user, step="mark_deployed",
                          changes={"deployed_on": "2024-06-20"})  # the day the VA was signed
    dossier.refresh_from_db()
    assert dossier.deployed_on == date(2024, 6, 20)


def test_an_amount_above_the_ceiling_is_refused_by_the_avance_rule(manager_membership):
    dossier = walk_to(State.AVANCE_TO_FIX, membership=manager_membership)
    Dispositif.objects.filter(pk=dossier.dispositif_id).update(ceiling_amount=Decimal("11000.00"))
    with pytest.raises(services.RulesFailed) as refused:
        services.correct_step(dossier.pk, by=manager_membership.user, step="file_avance",
                              changes={"declared_amount": "11000.01"})
    assert [f.rule for f in refused.value.failures] == ["avance.amount"]
    services.correct_step(dossier.pk, by=manager_membership.user, step="file_avance",
                          changes={"declared_amount": "11000.00"})
    dossier.refresh_from_db()
    assert dossier.avance_declared_amount == Decimal("11000.00")


def test_an_unlisted_signature_type_is_refused_by_its_rule(manager_membership):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    with pytest.raises(services.RulesFailed) as refused:
        services.correct_step(dossier.pk, by=manager_membership.user, step="sign_bdc",
                              changes={"signature_type": "fax"})
    assert [f.rule for f in refused.value.failures] == ["bdc.signature_type"]


@pytest.mark.parametrize("changes,field", [
    ({"signed_on": "hier"}, "signed_on"),
    ({"signer_name": ""}, "signer_name"),
    ({"colour": "blue"}, "colour"),
    ({"signer_name": "Paul Durand"}, "non_field_errors"),  # unchanged: nothing to correct
])
def test_bad_or_unchanged_values_are_invalid_and_nothing_is_saved(manager_membership, changes, field):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    rows = dossier.history_seq
    with pytest.raises(errors.InvalidInput) as invalid:
        services.correct_step(dossier.pk, by=manager_membership.user, step="sign_bdc", changes=changes)
    assert field in invalid.value.errors
    dossier.refresh_from_db()
    assert (dossier.bdc_signed_on, dossier.bdc_signer_name, dossier.history_seq) == (
        date(2024, 4, 1), "Paul Durand", rows)


def test_an_uncorrectable_step_is_invalid(manager_membership):
    dossier = walk_to(State.AVANCE_VALIDATED, membership=manager_membership)
    with pytest.raises(errors.InvalidInput) as invalid:
        services.correct_step(dossier.pk, by=manager_membership.user, step="validate_avance",
                              changes={"on": "2024-04-26"})
    assert "step" in invalid.value.errors


def test_a_viewer_and_an_outsider_may_not_correct(manager_membership, viewer_membership, outsider_membership):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    for member in (viewer_membership, outsider_membership):
        with pytest.raises(errors.NotPermitted):
            services.correct_step(dossier.pk, by=member.user, step="sign_bdc", changes={"signer_name": "Autre"})
    dossier.refresh_from_db()
    assert dossier.bdc_signer_name == "Paul Durand"


# --- what follows from a correction ------------------------------------------------------------------------------

def test_the_history_row_records_before_and_after_and_the_chain_holds(manager_membership):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    services.correct_step(dossier.pk, by=manager_membership.user, step="sign_bdc",
                          changes={"signed_on": "2024-03-28", "signer_name": "Paul Durand"})
    entry = HistoryEntry.objects.get(dossier=dossier, action="correct_step")
    assert entry.data == {"step": "sign_bdc", "changes": {
        "bdc_signed_on": {"before": "2024-04-01", "after": "2024-03-28"}}}
    assert entry.from_state == entry.to_state == State.BDC_SIGNED
    assert verify_chain(dossier.pk) == []


def test_the_timeline_reads_a_correction_in_french(manager_membership):
    dossier = walk_to(State.AVANCE_TO_FIX, membership=manager_membership)
    services.correct_step(dossier.pk, by=manager_membership.user, step="file_avance",
                          changes={"declared_amount": "12345.67"})
    entry = HistoryEntry.objects.get(dossier=dossier, action="correct_step")
    assert field_label("correct_step", "step") == "Étape"
    assert display_value("correct_step", "step", entry.data["step"]) == "Dépôt de l'avance"
    assert field_label("correct_step", "changes") == "Corrigé"
    shown = display_value("correct_step", "changes", entry.data["changes"])
    assert "Montant déclaré de l'avance : 10\u202f000,00\u202f€ → 12\u202f345,67\u202f€" in shown
    assert "declared_amount" not in shown


def test_the_timeline_reads_a_corrected_date_as_a_french_date(manager_membership):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    services.correct_step(dossier.pk, by=manager_membership.user, step="sign_bdc",
                          changes={"signed_on": "2024-03-28", "signature_type": "cpx"})
    entry = HistoryEntry.objects.get(dossier=dossier, action="correct_step")
    shown = display_value("correct_step", "changes", entry.data["changes"])
    assert "BDC signé le : 1 avril 2024 → 28 mars 2024" in shown
    assert "Type de signature : Manuscrite → Certificat CPx" in shown


def test_an_amendment_keeps_the_amount_in_force(manager_membership):
    dossier = walk_to(State.AVANCE_TO_FIX, membership=manager_membership)
    services.add_amendment(dossier.pk, by=manager_membership.user, filed_on=date(2024, 4, 16),
                           amount=Decimal("15000.00"))
    services.correct_step(dossier.pk, by=manager_membership.user, step="file_avance",
                          changes={"declared_amount": "12000.00"})
    dossier.refresh_from_db()
    assert (dossier.avance_declared_amount, dossier.declared_amount) == (Decimal("12000.00"), Decimal("15000.00"))


def test_a_corrected_payment_moves_the_total_paid_and_the_kept_counters(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    services.correct_step(dossier.pk, by=manager_membership.user, step="record_avance_payment",
                          changes={"amount": "2500.00"})
    dossier.refresh_from_db()
    assert dossier.avance_paid_total == Decimal("2500.00")
    assert counters.kept(dossier.organisation_id) == counters.recompute(dossier.organisation_id)


def test_a_corrected_deployment_date_moves_the_kept_deadlines(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    before = deadlines.kept(dossier.organisation_id)
    services.correct_step(dossier.pk, by=manager_membership.user, step="mark_deployed",
                          changes={"deployed_on": (dossier.deployed_on - timedelta(days=1)).isoformat()})
    assert deadlines.kept(dossier.organisation_id) != before  # the VA awaited is due a day earlier
    assert deadlines.kept(dossier.organisation_id) == deadlines.recompute(dossier.organisation_id)


def test_the_blockers_follow_a_correction(manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    services.update_dossier(dossier.pk, by=manager_membership.user,
                            changes={"solde_draft": {"invoice_addressee": "Mme Jeanne MARTIN"}})
    assert not dossier.blockers.filter(rule="solde.invoice_matches_va_signer").exists()
    services.correct_step(dossier.pk, by=manager_membership.user, step="sign_va",
                          changes={"signer_name": "Paul Durand"})
    assert dossier.blockers.filter(rule="solde.invoice_matches_va_signer").exists()
    assert counters.kept(dossier.organisation_id) == counters.recompute(dossier.organisation_id)


def test_a_single_invoice_keeps_no_recap_total_as_the_filing_does(manager_membership):
    dossier = walk_to(State.SOLDE_TO_FIX, membership=manager_membership)
    with pytest.raises(errors.InvalidInput) as invalid:  # what file_solde would drop is no change
        services.correct_step(dossier.pk, by=manager_membership.user, step="file_solde",
                              changes={"invoices_total": "12000.00", "invoices_in_single_pdf": True})
    assert "non_field_errors" in invalid.value.errors
    services.correct_step(dossier.pk, by=manager_membership.user, step="file_solde",
                          changes={"invoice_count": 2, "invoices_total": "12000.00", "invoices_in_single_pdf": True})
    dossier.refresh_from_db()
    assert (dossier.invoice_count, dossier.invoices_total, dossier.invoices_in_single_pdf) == (
        2, Decimal("12000.00"), True)
