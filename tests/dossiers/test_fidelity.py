"""DOMAIN.md §8 through the service: the VA's scenario, referenced on the filing date, recovery until repaid,
refused cancellations, the honest checklist, chronology, amendments within the ceiling, 975, one FINESS, the
installed version and the maintenance contract — each rule both ways."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from segurtrack import errors
from dossiers import rules, services, solde_json
from dossiers.checklist import checklist_for
from reports import deadlines as dl
from dossiers.models import Client, Dispositif, Dossier, State

from ..factories import ClientFactory, SolutionFactory, attach, next_finess, next_siret, valid_payload, walk_to
from ..scenarios import _va_signed, before

pytestmark = pytest.mark.django_db


def run(dossier, name, m, **overrides):
    return services.run_transition(dossier.pk, name, by=m.user, data=valid_payload(name, dossier, **overrides))


def with_draft(dossier, m, **overrides):
    draft = valid_payload("file_solde", dossier, **overrides)
    draft.pop("filed_on")
    return services.update_dossier(dossier.pk, by=m.user, changes={"solde_draft": draft})


# --- 2. the VA fixes the scenario --------------------------------------------------------------------------------

def test_the_scenario_changes_until_the_va_which_records_it(manager_membership):
    m = manager_membership
    dossier = walk_to(State.DEPLOYED, membership=m)
    services.update_dossier(dossier.pk, by=m.user, changes={"scenario": "Scénario 2"})
    attach(dossier, "va", m.user)
    run(dossier, "sign_va", m, scenario="Scénario 3 (installé)")
    dossier.refresh_from_db()
    assert (dossier.scenario, dossier.va_scenario) == ("Scénario 3 (installé)", "Scénario 3 (installé)")
    history = dossier.history.count()
    with pytest.raises(errors.InvalidInput) as refused:
        services.update_dossier(dossier.pk, by=m.user, changes={"scenario": "Scénario 4"})
    assert list(refused.value.errors) == ["scenario"]
    dossier.refresh_from_db()
    assert (dossier.scenario, dossier.va_scenario, dossier.history.count()) == (
        "Scénario 3 (installé)", "Scénario 3 (installé)", history)


def test_the_solde_json_carries_the_scenario_of_the_va(manager_membership):
    dossier = _va_signed(manager_membership)
    Dossier.objects.filter(pk=dossier.pk).update(scenario="Changé hors service")  # what the JSON must not follow
    dossier = with_draft(Dossier.objects.get(pk=dossier.pk), manager_membership)
    document = solde_json.build(dossier)
    assert document["va_scenario"] == document["scenario"] == "Scénario 1"


# --- 3. referenced on the filing date ----------------------------------------------------------------------------

@pytest.mark.parametrize(("referenced_on", "refused"), [
    (date(2024, 4, 10), False), (date(2024, 4, 9), False), (date(2024, 4, 11), True), (None, True)])
def test_the_solution_must_be_referenced_on_the_filing_date(referenced_on, refused, manager_membership):
    solution = SolutionFactory(organisation=manager_membership.organisation, referenced_on=referenced_on)
    dossier = before(State.BDC_SIGNED, manager_membership, solution=solution)
    if not refused:
        assert run(dossier, "file_avance", manager_membership).dossier.state == State.AVANCE_FILED
        return
    with pytest.raises(services.RulesFailed) as failed:
        run(dossier, "file_avance", manager_membership)  # filed_on 2024-04-10
    assert [f.rule for f in failed.value.failures] == ["avance.solution_referenced"]
    assert Dossier.objects.get(pk=dossier.pk).state == State.BDC_SIGNED


def test_a_solution_referenced_in_the_future_blocks_the_avance_before_any_date_is_typed(manager_membership):
    tomorrow = timezone.localdate() + timedelta(days=1)
    solution = SolutionFactory(organisation=manager_membership.organisation, referenced_on=tomorrow)
    dossier = before(State.BDC_SIGNED, manager_membership, solution=solution)
    assert "avance.solution_referenced" in services.refresh_blockers(Dossier.objects.get(pk=dossier.pk))


# --- 4. recovery until repaid in full; refused cancellations -----------------------------------------------------

def test_a_recovery_is_repaid_in_several_repayments_then_the_dossier_is_cancelled(manager_membership):
    m = manager_membership
    dossier = walk_to(State.RECOVERY_ISSUED, membership=m)
    assert (dossier.avance_paid_total, dossier.recovery_outstanding) == (Decimal("3000.00"), Decimal("3000.00"))
    run(dossier, "record_recovery", m, amount="1000.00", repaid_on="2024-08-20")
    dossier.refresh_from_db()
    assert (dossier.state, dossier.recovery_repaid, dossier.recovery_outstanding) == (
        State.RECOVERY_ISSUED, Decimal("1000.00"), Decimal("2000.00"))
    [deadline] = dl.deadlines_for(dossier.organisation, kinds=[dl.Kind.RECOVERY])
    assert (deadline["dossier"], deadline["amount"]) == (dossier.pk, "2000.00")
    run(dossier, "record_recovery", m, amount="2000.00", repaid_on="2024-09-02")
    dossier.refresh_from_db()
    assert (dossier.state, dossier.recovery_repaid, dossier.recovery_outstanding, dossier.cancelled_on) == (
        State.CANCELLED, Decimal("3000.00"), Decimal("0.00"), date(2024, 9, 2))
    assert dl.deadlines_for(dossier.organisation, kinds=[dl.Kind.RECOVERY]) == []
    repayments = list(dossier.history.filter(action="record_recovery").values_list("to_state", "data__amount"))
    assert repayments == [(State.RECOVERY_ISSUED, "1000.00"), (State.CANCELLED, "2000.00")]


def test_the_avance_to_repay_includes_the_paid_amendments(manager_membership):
    m = manager_membership
    dossier = walk_to(State.AVANCE_PAID, membership=m)
    amendment = services.add_amendment(dossier.pk, by=m.user, filed_on=date(2024, 5, 5), amount=Decimal("11000.00"))
    services.update_amendment(amendment.pk, by=m.user, status="validated", on=date(2024, 5, 6))
    services.update_amendment(amendment.pk, by=m.user, status="paid", on=date(2024, 5, 7),
                              paid_amount=Decimal("500.00"))
    attach(dossier, "honour_statement", m.user)
    run(dossier, "request_cancellation", m)
    run(dossier, "confirm_cancellation", m)
    run(dossier, "record_recovery", m, amount="3000.00")
    dossier.refresh_from_db()
    assert (dossier.state, dossier.recovery_outstanding) == (State.RECOVERY_ISSUED, Decimal("500.00"))


@pytest.mark.parametrize("amount", ["3000.01", "0.00"])
def test_a_repayment_above_what_is_owed_or_of_nothing_is_refused(amount, manager_membership):
    dossier = walk_to(State.RECOVERY_ISSUED, membership=manager_membership)
    history = dossier.history.count()
    with pytest.raises(errors.InvalidInput) as refused:
        run(dossier, "record_recovery", manager_membership, amount=amount)
    assert list(refused.value.errors) == ["amount"]
    dossier.refresh_from_db()
    assert (dossier.state, dossier.recovery_repaid, dossier.history.count()) == (
        State.RECOVERY_ISSUED, Decimal("0.00"), history)


@pytest.mark.parametrize("state", [State.AVANCE_PAID, State.DEPLOYED, State.SOLDE_TO_FIX])
def test_a_refused_cancellation_returns_the_dossier_to_where_it_was(state, manager_membership):
    m = manager_membership
    dossier = walk_to(state, membership=m)
    attach(dossier, "honour_statement", m.user)
    run(dossier, "request_cancellation", m)
    outcome = run(dossier, "refuse_cancellation", m, reason="Le client ne renonce pas")
    dossier.refresh_from_db()
    assert (dossier.state, dossier.cancellation_refused_on, dossier.cancellation_refusal_reason) == (
        state, date(2024, 8, 5), "Le client ne renonce pas")
    assert (outcome.history.action, outcome.history.from_state, outcome.history.to_state) == (
        "refuse_cancellation", State.CANCELLATION_REQUESTED, state)
    assert outcome.history.data["reason"] == "Le client ne renonce pas"
    from dossiers.history import verify_chain

    assert verify_chain(dossier.pk) == []


def test_a_cancellation_is_refused_only_while_it_is_requested(manager_membership):
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    with pytest.raises(services.RulesFailed) as refused:
        run(dossier, "refuse_cancellation", manager_membership)
    assert [f.rule for f in refused.value.failures] == [rules.STATE_RULE]


# --- 5. an honest checklist ----------------------------------------------------------------------------------------

def statuses(dossier):
    return {item.rule.code: item.status for item in checklist_for(Dossier.objects.get(pk=dossier.pk)).items}


def test_a_client_not_liable_to_vat_without_its_certificate_fails_before_any_invoice_data(manager_membership):
    client = ClientFactory(organisation=manager_membership.organisation, vat_liable=False)
    dossier = _va_signed(manager_membership, client=client)
    assert statuses(dossier)["solde.vat_exemption"] == "failed"
    assert "solde.vat_exemption" in services.refresh_blockers(Dossier.objects.get(pk=dossier.pk))
    with_draft(dossier, manager_membership, vat="HT")
    assert statuses(dossier)["solde.vat_exemption"] == "failed"
    assert not checklist_for(Dossier.objects.get(pk=dossier.pk)).ready
    attach(dossier, "vat_exemption", manager_membership.user)
    assert statuses(dossier)["solde.vat_exemption"] == "ok"
    assert checklist_for(Dossier.objects.get(pk=dossier.pk)).ready


def test_a_liable_client_or_a_certificate_in_place_leaves_the_vat_rule_pending_until_typed(manager_membership):
    liable = _va_signed(manager_membership)
    assert statuses(liable)["solde.vat_exemption"] == "pending"
    client = ClientFactory(organisation=manager_membership.organisation, vat_liable=False)
    exempt = _va_signed(manager_membership, client=client)
    attach(exempt, "vat_exemption", manager_membership.user)
    assert statuses(exempt)["solde.vat_exemption"] == "pending"
    assert not checklist_for(Dossier.objects.get(pk=exempt.pk)).ready


def test_half_typed_data_is_pending_not_failed(manager_membership):
    dossier = _va_signed(manager_membership)
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"solde_draft": {"invoice_total": "1.00"}})
    assert statuses(dossier)["solde.invoice_full_amount"] == "pending"


# --- 6. names as people write them -------------------------------------------------------------------------------

@pytest.mark.parametrize(("addressee", "ok"), [
    ("Mme Aïssatou N'DIAYE-Lætitia", True), ("ndiaye laetitia aissatou", True), ("Dr N Diaye Aissatou Laetitia", True),
    ("Aïssatou Diaye Laetitia", False)])
def test_the_invoice_names_the_va_signer_as_people_write_it(addressee, ok, manager_membership):
    m = manager_membership
    dossier = before(State.DEPLOYED, m)
    attach(dossier, "va", m.user)
    run(dossier, "sign_va", m, signer_name="Aïssatou N’Diaye Lætitia")
    from ..factories import PvPiloteFactory

    PvPiloteFactory(solution=dossier.solution)
    attach(dossier, "invoice", m.user)
    dossier.refresh_from_db()
    if ok:
        assert run(dossier, "file_solde", m, invoice_addressee=addressee).dossier.state == State.SOLDE_FILED
        return
    with pytest.raises(services.RulesFailed) as refused:
        run(dossier, "file_solde", m, invoice_addressee=addressee)
    assert [f.rule for f in refused.value.failures] == ["solde.invoice_matches_va_signer"]


# --- 7. chronology, ceiling, 975, one FINESS, installed version, maintenance ------------------------------------

def test_a_step_dated_in_the_future_is_refused_and_today_is_accepted(manager_membership):
    dossier = before(State.AVANCE_VALIDATED, manager_membership)
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(services.RulesFailed) as refused:
        run(dossier, "record_avance_payment", manager_membership, paid_on=tomorrow.isoformat())
    assert [f.rule for f in refused.value.failures] == ["dates.chronology"]
    assert "futur" in refused.value.failures[0].message
    today = timezone.localdate().isoformat()
    assert run(dossier, "record_avance_payment", manager_membership, paid_on=today).dossier.state == State.AVANCE_PAID


def test_a_cancellation_dated_before_the_last_step_is_refused(manager_membership):
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership)  # filed 2024-07-01
    attach(dossier, "honour_statement", manager_membership.user)
    with pytest.raises(services.RulesFailed) as refused:
        run(dossier, "request_cancellation", manager_membership, requested_on="2024-06-30")
    assert [f.rule for f in refused.value.failures] == ["dates.chronology"]
    assert "solde déposé le" in refused.value.failures[0].message


def test_the_checklist_judges_the_chronology_of_a_filing_today(manager_membership):
    dossier = _va_signed(manager_membership)
    assert statuses(dossier)["dates.chronology"] == "ok"
    Dossier.objects.filter(pk=dossier.pk).update(va_signed_on=timezone.localdate() + timedelta(days=3))
    assert statuses(dossier)["dates.chronology"] == "failed"


def ceiling_dossier(m, state=State.AVANCE_PAID):
    dispositif = Dispositif.objects.get(code="OFF-LGO-VA1")
    dispositif.ceiling_amount = Decimal("12000.00")
    dispositif.save()
    return walk_to(state, membership=m, solution=SolutionFactory(organisation=m.organisation, dispositif=dispositif))


def test_an_amendment_above_the_ceiling_is_refused_and_one_at_the_ceiling_is_filed(manager_membership):
    m = manager_membership
    dossier = ceiling_dossier(m)
    with pytest.raises(services.RulesFailed) as refused:
        services.add_amendment(dossier.pk, by=m.user, filed_on=date(2024, 5, 5), amount=Decimal("12000.01"))
    assert [f.rule for f in refused.value.failures] == ["avance.amount"]
    assert dossier.amendments.count() == 0
    services.add_amendment(dossier.pk, by=m.user, filed_on=date(2024, 5, 5), amount=Decimal("12000.00"))
    dossier.refresh_from_db()
    assert dossier.declared_amount == Decimal("12000.00")


@pytest.mark.parametrize(("vat", "warned"), [("0", False), ("20", True), ("8.5", True)])
def test_saint_pierre_et_miquelon_has_no_usual_vat_rate(vat, warned, manager_membership):
    client = ClientFactory(organisation=manager_membership.organisation, department="975", finess_geo="",
                           siret=next_siret())
    dossier = _va_signed(manager_membership, client=client)
    outcome = run(dossier, "file_solde", manager_membership, vat=vat)
    assert ("solde.vat_rate" in [w.rule for w in outcome.warnings]) is warned
    assert rules.usual_vat_rate("975") is None and rules.usual_vat_rate("974") == Decimal("8.5")


def test_the_solde_json_declares_one_finess_the_geographic_one_by_default(manager_membership):
    client = ClientFactory(organisation=manager_membership.organisation, finess_legal=next_finess(),
                           siret=next_siret())
    dossier = with_draft(_va_signed(manager_membership, client=client), manager_membership)
    site = solde_json.build(dossier)["site"]
    assert {k for k in site if k not in ("raison_sociale", "departement")} == {"finess_geographique"}
    assert site["finess_geographique"] == client.finess_geo
    dossier = services.update_dossier(dossier.pk, by=manager_membership.user, changes={"declared_finess": "legal"})
    site = solde_json.build(dossier)["site"]
    assert {k for k in site if k not in ("raison_sociale", "departement")} == {"finess_juridique"}
    assert dossier.history.filter(action="change_declared_finess").get().data == {"from": "geo", "to": "legal"}


def test_the_siret_is_declared_only_for_a_site_without_finess(manager_membership):
    client = ClientFactory(organisation=manager_membership.organisation, finess_geo="", siret=next_siret())
    dossier = with_draft(_va_signed(manager_membership, client=client), manager_membership)
    site = solde_json.build(dossier)["site"]
    assert {k for k in site if k not in ("raison_sociale", "departement")} == {"siret"}


def test_the_installed_version_is_recorded_logged_and_carried_by_the_solde_json(manager_membership):
    m = manager_membership
    dossier = with_draft(_va_signed(m), m)
    assert "version_installee" not in solde_json.build(dossier)["solution"]
    dossier = services.update_dossier(dossier.pk, by=m.user, changes={"installed_version": "5.3.1"})
    assert solde_json.build(dossier)["solution"] == {"nom": dossier.solution.name, "version": "5.2",
                                                     "version_installee": "5.3.1"}
    assert dossier.history.filter(action="change_installed_version").get().data == {"from": "", "to": "5.3.1"}


def test_the_maintenance_deadline_exists_only_with_a_contract(manager_membership):
    m = manager_membership
    dossier = walk_to(State.VA_SIGNED, membership=m)
    Dossier.objects.filter(pk=dossier.pk).update(va_signed_on=timezone.localdate() - timedelta(days=30))
    assert dl.deadlines_for(m.organisation, kinds=[dl.Kind.MAINTENANCE_END]) == []
    services.update_dossier(dossier.pk, by=m.user, changes={"maintenance_contract": True})
    [deadline] = dl.deadlines_for(m.organisation, kinds=[dl.Kind.MAINTENANCE_END])
    assert deadline["dossier"] == dossier.pk
    assert dossier.history.filter(action="change_maintenance_contract").get().data == {"from": False, "to": True}


# --- 8. a paid amendment with its status alone -------------------------------------------------------------------

def test_an_amendment_paid_with_its_status_alone_is_paid_in_full_today(manager_membership):
    m = manager_membership
    dossier = walk_to(State.AVANCE_PAID, membership=m)
    amendment = services.add_amendment(dossier.pk, by=m.user, filed_on=date(2024, 5, 5), amount=Decimal("500.00"))
    services.update_amendment(amendment.pk, by=m.user, status="validated")
    services.update_amendment(amendment.pk, by=m.user, status="paid")
    amendment.refresh_from_db()
    assert (amendment.paid_amount, amendment.paid_on) == (Decimal("500.00"), timezone.localdate())


def test_client_department_975_is_accepted(manager_membership):
    client = ClientFactory.build(organisation=manager_membership.organisation, department="975", finess_geo="",
                                 siret=next_siret())
    assert services.save_client(client, by=manager_membership.user).department == "975"
    assert Client.objects.filter(department="975").exists()


def test_an_unknown_declared_finess_is_refused_by_the_service_and_nothing_is_logged(manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    history = dossier.history.count()
    with pytest.raises(errors.InvalidInput) as refused:
        services.update_dossier(dossier.pk, by=manager_membership.user, changes={"declared_finess": "siret"})
    assert list(refused.value.errors) == ["declared_finess"]
    dossier.refresh_from_db()
    assert (dossier.declared_finess, dossier.history.count()) == ("geo", history)


def test_a_cancellation_requested_again_after_a_refusal_can_be_confirmed(manager_membership):
    m = manager_membership
    dossier = walk_to(State.AVANCE_PAID, membership=m)
    attach(dossier, "honour_statement", m.user)
    run(dossier, "request_cancellation", m)
    run(dossier, "refuse_cancellation", m)
    run(dossier, "request_cancellation", m, requested_on="2024-08-10")
    dossier.refresh_from_db()
    assert (dossier.state, dossier.cancellation_from_state, dossier.cancellation_refused_on) == (
        State.CANCELLATION_REQUESTED, State.AVANCE_PAID, None)
    with pytest.raises(services.RulesFailed) as early:
        run(dossier, "confirm_cancellation", m, on="2024-08-09")
    assert [f.rule for f in early.value.failures] == ["dates.chronology"]
    assert run(dossier, "confirm_cancellation", m, on="2024-08-12").dossier.state == State.RECOVERY_ISSUED
    assert list(dossier.history.filter(action__contains="cancellation").values_list("action", flat=True)) == [
        "request_cancellation", "refuse_cancellation", "request_cancellation", "confirm_cancellation"]
