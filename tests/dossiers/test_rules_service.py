"""Every rule code, failing and passing, through the transition service (the API tests mirror these)."""
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dossiers import rules, services
from dossiers.models import Client, Dispositif, Dossier, PvPilote, State

from ..factories import (
    ClientFactory, EsmsClientFactory, PvPiloteFactory, SolutionFactory, attach, valid_payload, walk_to,
)

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def before(state, membership, **kwargs):
    return walk_to(state, membership=membership, **kwargs)


# Each scenario builds a dossier one step before the rule's transition; `ok` decides whether the rule is met.
# It returns (dossier, transition, payload).

def s_client_identified(m, ok):
    client = ClientFactory(organisation=m.organisation, **({} if ok else {"finess_geo": "", "siret": ""}))
    d = before(State.DRAFT, m, client=client)
    attach(d, "bdc", m.user)
    return d, "sign_bdc", valid_payload("sign_bdc")


def s_bdc_document(m, ok):
    d = before(State.DRAFT, m)
    if ok:
        attach(d, "bdc", m.user)
    return d, "sign_bdc", valid_payload("sign_bdc")


def s_bdc_signature_type(m, ok):
    d = before(State.DRAFT, m)
    attach(d, "bdc", m.user)
    return d, "sign_bdc", valid_payload("sign_bdc", signature_type="eidas_simple" if ok else "fax")


def s_dispositif_single_active(m, ok):
    first = before(State.BDC_SIGNED, m)
    if ok:
        attach(first, "honour_statement", m.user)
        services.run_transition(first.pk, "request_cancellation", by=m.user,
                                data=valid_payload("request_cancellation"))
        services.run_transition(first.pk, "confirm_cancellation", by=m.user, data=valid_payload("confirm_cancellation"))
    second = services.create_dossier(organisation=m.organisation, by=m.user, client=first.client,
                                     solution=first.solution)
    attach(second, "bdc", m.user)
    return second, "sign_bdc", valid_payload("sign_bdc")


def s_bdc_pre_referencing_window(m, ok):
    solution = SolutionFactory(organisation=m.organisation, referenced_on=None, proofs_submitted_on=date(2024, 9, 1))
    d = before(State.DRAFT, m, solution=solution)
    attach(d, "bdc", m.user)
    # 2024-05-04 is exactly 120 days before the proofs; 2024-05-03 is one day too early.
    return d, "sign_bdc", valid_payload("sign_bdc", signed_on="2024-05-04" if ok else "2024-05-03")


def s_avance_solution_referenced(m, ok):
    solution = SolutionFactory(organisation=m.organisation, referenced_on=date(2024, 3, 1) if ok else None,
                               proofs_submitted_on=date(2024, 3, 1))
    d = before(State.BDC_SIGNED, m, solution=solution)
    return d, "file_avance", valid_payload("file_avance")


def s_avance_deadline(m, ok):
    solution = SolutionFactory(organisation=m.organisation, dispositif=Dispositif.objects.get(code="HOP-PFI-VA2"))
    d = before(State.BDC_SIGNED, m, solution=solution)
    # The deadline is 2025-09-17 12:00 (Paris): the day after is late, the day before is in time.
    return d, "file_avance", valid_payload("file_avance", filed_on="2025-09-16" if ok else "2025-09-18")


def s_avance_amount(m, ok):
    dispositif = Dispositif.objects.get(code="OFF-LGO-VA1")
    dispositif.ceiling_amount = Decimal("5000.00")
    dispositif.save()
    solution = SolutionFactory(organisation=m.organisation, dispositif=dispositif)
    d = before(State.BDC_SIGNED, m, solution=solution)
    return d, "file_avance", valid_payload("file_avance", declared_amount="5000.00" if ok else "5000.01")


def s_va_document(m, ok):
    d = before(State.DEPLOYED, m)
    if ok:
        attach(d, "va", m.user)
    return d, "sign_va", valid_payload("sign_va", d)


def s_va_esms_prerequisites(m, ok):
    client = EsmsClientFactory(organisation=m.organisation, **({} if ok else {"ans_contract_signed_on": None}))
    d = before(State.DEPLOYED, m, client=client)
    attach(d, "va", m.user)
    return d, "sign_va", valid_payload("sign_va", d)


def s_va_mss_deployment(m, ok):
    solution = SolutionFactory(organisation=m.organisation, dispositif=Dispositif.objects.get(code="MS-DUI-MS2"))
    client = EsmsClientFactory(organisation=m.organisation)
    d = before(State.DEPLOYED, m, client=client, solution=solution)
    attach(d, "va", m.user)
    return d, "sign_va", valid_payload("sign_va", d, mss_deployment="cas_2" if ok else "")


def _va_signed(m, **kwargs):
    d = before(State.VA_SIGNED, m, **kwargs)
    PvPiloteFactory(solution=d.solution)
    attach(d, "invoice", m.user)
    return d


def s_solde_pv_pilote(m, ok):
    d = before(State.VA_SIGNED, m)
    attach(d, "invoice", m.user)
    PvPiloteFactory(solution=d.solution, status=PvPilote.Status.VALIDATED if ok else PvPilote.Status.PENDING)
    return d, "file_solde", valid_payload("file_solde", d)


def s_solde_invoice_document(m, ok):
    d = before(State.VA_SIGNED, m)
    PvPiloteFactory(solution=d.solution)
    if ok:
        attach(d, "invoice", m.user)
    return d, "file_solde", valid_payload("file_solde", d)


def s_solde_invoice_matches_va_signer(m, ok):
    d = _va_signed(m)
    # The VA was signed by "Dr Jeanne Martin"; the BDC by "Paul Durand" (who may differ, SEED-0).
    addressee = "MARTIN, Jeanne (Pr.)" if ok else "Paul Durand"
    return d, "file_solde", valid_payload("file_solde", d, invoice_addressee=addressee)


def s_solde_amount_within_avance(m, ok):
    d = _va_signed(m)
    return d, "file_solde", valid_payload("file_solde", d, solde_amount="10000.00" if ok else "10000.01",
                                          invoice_total="12000.00")


def s_solde_invoice_full_amount(m, ok):
    d = _va_signed(m)
    return d, "file_solde", valid_payload("file_solde", d, invoice_total="10000.00" if ok else "9999.99")


def s_solde_vat_exemption(m, ok):
    client = ClientFactory(organisation=m.organisation, vat_liable=False)
    d = _va_signed(m, client=client)
    if ok:
        attach(d, "vat_exemption", m.user)
    return d, "file_solde", valid_payload("file_solde", d, vat="HT")


def s_solde_vat_rate(m, ok):
    client = ClientFactory(organisation=m.organisation, department="971", finess_geo="", siret="73282932000074")
    d = _va_signed(m, client=client)
    return d, "file_solde", valid_payload("file_solde", d, vat="8.5" if ok else "20")


def s_solde_two_invoices(m, ok):
    d = _va_signed(m)
    extra = {"invoices_in_single_pdf": True, "invoices_total": "12000.00"} if ok else {"invoices_in_single_pdf": False}
    return d, "file_solde", valid_payload("file_solde", d, invoice_count=2, invoices_marked=True, **extra)


def s_solde_two_invoices_marked(m, ok):
    d = _va_signed(m)
    return d, "file_solde", valid_payload("file_solde", d, invoice_count=2, invoices_in_single_pdf=True,
                                          invoices_total="12000.00", invoices_marked=ok)


def s_solde_invoice_mentions(m, ok):
    d = _va_signed(m)
    return d, "file_solde", valid_payload("file_solde", d, invoice_mentions_checked=ok)


def s_solde_mss_deployment(m, ok):
    dispositif = Dispositif.objects.get(code="OFF-LGO-VA1")
    d = _va_signed(m, solution=SolutionFactory(organisation=m.organisation, dispositif=dispositif))
    if not ok:
        # The reference data now requires the indicator, which this VA was signed without.
        Dispositif.objects.filter(pk=dispositif.pk).update(requires_mss_deployment=True)
        d = Dossier.objects.get(pk=d.pk)
    return d, "file_solde", valid_payload("file_solde", d)


def s_solde_last_amendment_paid(m, ok):
    d = _va_signed(m)
    amendment = services.add_amendment(d.pk, by=m.user, filed_on=date(2024, 6, 25), amount=Decimal("11000.00"))
    services.update_amendment(amendment.pk, by=m.user, status="validated", on=date(2024, 6, 26))
    if ok:
        services.update_amendment(amendment.pk, by=m.user, status="paid", on=date(2024, 6, 27),
                                  paid_amount=Decimal("300.00"))
    return d, "file_solde", valid_payload("file_solde", d)


def s_cancel_honour_statement(m, ok):
    d = before(State.AVANCE_FILED, m)
    if ok:
        attach(d, "honour_statement", m.user)
    return d, "request_cancellation", valid_payload("request_cancellation")


def s_cancel_client_renunciation(m, ok):
    d = before(State.AVANCE_FILED, m)
    attach(d, "honour_statement", m.user)
    if ok:
        attach(d, "client_renunciation", m.user)
    return d, "request_cancellation", valid_payload("request_cancellation", reason="client_agreement")


SCENARIOS = {
    "client.identified": s_client_identified,
    "bdc.document": s_bdc_document,
    "bdc.signature_type": s_bdc_signature_type,
    "dispositif.single_active": s_dispositif_single_active,
    "bdc.pre_referencing_window": s_bdc_pre_referencing_window,
    "avance.solution_referenced": s_avance_solution_referenced,
    "avance.deadline": s_avance_deadline,
    "avance.amount": s_avance_amount,
    "va.document": s_va_document,
    "va.esms_prerequisites": s_va_esms_prerequisites,
    "va.mss_deployment": s_va_mss_deployment,
    "solde.pv_pilote": s_solde_pv_pilote,
    "solde.invoice_document": s_solde_invoice_document,
    "solde.invoice_matches_va_signer": s_solde_invoice_matches_va_signer,
    "solde.amount_within_avance": s_solde_amount_within_avance,
    "solde.invoice_full_amount": s_solde_invoice_full_amount,
    "solde.vat_exemption": s_solde_vat_exemption,
    "solde.vat_rate": s_solde_vat_rate,
    "solde.two_invoices": s_solde_two_invoices,
    "solde.two_invoices_marked": s_solde_two_invoices_marked,
    "solde.invoice_mentions": s_solde_invoice_mentions,
    "solde.mss_deployment": s_solde_mss_deployment,
    "solde.last_amendment_paid": s_solde_last_amendment_paid,
    "cancel.honour_statement": s_cancel_honour_statement,
    "cancel.client_renunciation": s_cancel_client_renunciation,
}


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
    assert (rules.name_tokens(addressee) == rules.name_tokens(signer) and bool(rules.name_tokens(signer))) is same


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
