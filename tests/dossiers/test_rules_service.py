"""Every rule code, failing and passing, through the transition service (the API tests mirror these)."""
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dossiers import names, rules, services
from dossiers.models import Client, Dispositif, State

from ..factories import ClientFactory, SolutionFactory, valid_payload
from ..scenarios import SCENARIOS, _va_signed, before

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def test_every_rule_of_the_catalogue_has_a_scenario():
    assert set(SCENARIOS) == set(rules.CATALOGUE)


@pytest.mark.parametrize("code", list(SCENARIOS))
def test_rule_refuses_or_warns_when_its_prerequisite_is_missing(code, manager_membership):
    dossier, name, payload = SCENARIOS[code](manager_membership, ok=False)
    state, history = dossier.state, dossier.history.count()
    severity = rules.CATALOGUE[code].severity
    if severity is rules.Severity.BLOCK:
        with pytest.raises(services.RulesFailed) as refused:
            services.run_transition(dossier.pk, name, by=manager_membership.user, data=payload)
        # The scenario removes one prerequisite: its rule, and only it, refuses.
        assert [f.rule for f in refused.value.failures] == [code]
        failure = refused.value.failures[0]
        assert failure.severity is rules.Severity.BLOCK and len(failure.message) > 20
        dossier.refresh_from_db()
        assert (dossier.state, dossier.history.count()) == (state, history)
    else:
        outcome = services.run_transition(dossier.pk, name, by=manager_membership.user, data=payload)
        assert code in [w.rule for w in outcome.warnings]
        assert outcome.dossier.state != state
        assert outcome.history.data["warnings"] == [w.rule for w in outcome.warnings]


@pytest.mark.parametrize("code", list(SCENARIOS))
def test_rule_lets_the_transition_through_when_its_prerequisite_is_met(code, manager_membership):
    dossier, name, payload = SCENARIOS[code](manager_membership, ok=True)
    outcome = services.run_transition(dossier.pk, name, by=manager_membership.user, data=payload)
    assert code not in [w.rule for w in outcome.warnings]
    assert outcome.dossier.state != dossier.state
    assert outcome.history.action == name


def test_all_failures_of_a_transition_are_reported_at_once(manager_membership):
    d = before(State.VA_SIGNED, manager_membership)
    payload = valid_payload("file_solde", d, invoice_addressee="Quelqu'un d'autre", invoice_mentions_checked=False,
                            solde_amount="20000.00")
    with pytest.raises(services.RulesFailed) as refused:
        services.run_transition(d.pk, "file_solde", by=manager_membership.user, data=payload)
    assert [f.rule for f in refused.value.failures] == [
        "solde.pv_pilote", "solde.invoice_document", "solde.invoice_matches_va_signer",
        "solde.amount_within_avance", "solde.invoice_full_amount", "solde.invoice_mentions",
    ]


def test_signing_an_order_on_the_last_day_is_in_time_before_noon_only(manager_membership):
    dispositif = Dispositif.objects.get(code="HOP-PFI-VA2")
    solution = SolutionFactory(organisation=manager_membership.organisation, dispositif=dispositif)
    d = before(State.BDC_SIGNED, manager_membership, solution=solution)
    on_the_day = {"filed_on": date(2025, 9, 17), "declared_amount": Decimal("10")}
    morning = datetime(2025, 9, 17, 11, 59, tzinfo=PARIS)
    afternoon = datetime(2025, 9, 17, 12, 1, tzinfo=PARIS)
    assert rules.avance_deadline(rules.Context(d, "file_avance", on_the_day, now=morning)) is None
    assert rules.avance_deadline(rules.Context(d, "file_avance", on_the_day, now=afternoon)) is not None


def test_vat_rules_follow_the_client_territory(manager_membership):
    guyane = ClientFactory(organisation=manager_membership.organisation, department="973")
    d = _va_signed(manager_membership, client=guyane)
    assert rules.solde_vat_rate(rules.Context(d, "file_solde", {"vat": "0"})) is None
    assert "973" in rules.solde_vat_rate(rules.Context(d, "file_solde", {"vat": "20"}))
    assert rules.solde_vat_exemption(rules.Context(d, "file_solde", {"vat": "HT"})) is not None


@pytest.mark.parametrize(("addressee", "signer", "same"), [
    ("Mme Jeanne MARTIN", "Dr Jeanne Martin", True),
    ("martin jeanne", "Jeanne Martin", True),
    ("Jérôme Lefèvre-Dupont", "M. Jerome LEFEVRE DUPONT", True),
    ("Jeanne Martine", "Jeanne Martin", False),
    ("Jeanne", "Jeanne Martin", False),
    ("", "", False),
])
def test_invoice_addressee_matches_the_va_signer_by_name_tokens(addressee, signer, same):
    assert names.names_match(addressee, signer) is same


def test_a_vat_exempt_client_needs_ht_and_a_liable_client_cannot_use_it(manager_membership):
    liable = _va_signed(manager_membership)
    assert "HT" in rules.solde_vat_exemption(rules.Context(liable, "file_solde", {"vat": "HT"}))
    exempt = ClientFactory(organisation=manager_membership.organisation, vat_liable=False)
    d = _va_signed(manager_membership, client=exempt)
    message = rules.solde_vat_exemption(rules.Context(d, "file_solde", {"vat": "20"}))
    assert "HT" in message and "attestation" in message


def test_client_with_an_invalid_stored_identifier_is_not_identified(manager_membership):
    client = ClientFactory(organisation=manager_membership.organisation)
    Client.objects.filter(pk=client.pk).update(finess_geo="750000009")
    d = before(State.DRAFT, manager_membership, client=Client.objects.get(pk=client.pk))
    assert "invalide" in rules.client_identified(rules.Context(d, "sign_bdc"))
