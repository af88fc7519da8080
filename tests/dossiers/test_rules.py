"""Each rule of the catalogue, met and missed, on an in-memory context: no database, one test per outcome.

The context is built from unsaved model instances and `rules.Facts` (documents, PV pilote, last amendment, other
active dossier), so a rule is judged on exactly the values given. The services' path, where the context queries
those facts, is tested in test_rules_service.py; one refusal per severity goes through the API.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dossiers import rules
from dossiers.models import Amendment, Client, DeclaredFiness, Dispositif, Dossier, Solution, State

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=PARIS)
TODAY = NOW.date()
FINESS = "690000120"   # a valid FINESS géographique (Rhône)
SIGNER = "Claire Dubois"


def context(transition: str, payload: dict[str, Any] | None = None, *, client: dict | None = None,
            solution: dict | None = None, dispositif: dict | None = None, dossier: dict | None = None,
            **facts: Any) -> rules.Context:
    """A context on unsaved instances: a referenced hospital solution, a liable client with a valid FINESS, a dossier
    whose last recorded step is a month old; keyword arguments change one part, `facts` the related facts."""
    the_dispositif = Dispositif(**{"code": "HOP-DPI-VA1", "vague": 1, "ceiling_amount": Decimal("100000.00"),
                                   "avance_deadline": None, "requires_mss_deployment": False, **(dispositif or {})})
    the_client = Client(**{"name": "Centre hospitalier de Lyon", "kind": Client.Kind.ES, "department": "69",
                           "finess_geo": FINESS, "vat_liable": True, **(client or {})})
    the_solution = Solution(**{"name": "Hospitalis DPI", "version": "8.2", "dispositif": the_dispositif,
                               "proofs_submitted_on": TODAY - timedelta(days=400),
                               "referenced_on": TODAY - timedelta(days=300), **(solution or {})})
    the_dossier = Dossier(**{"client": the_client, "solution": the_solution, "dispositif": the_dispositif,
                             "state": State.DRAFT, "bdc_signed_on": TODAY - timedelta(days=30),
                             "declared_amount": Decimal("50000.00"), "va_signer_name": SIGNER,
                             "declared_finess": DeclaredFiness.GEO, **(dossier or {})})
    known = rules.Facts(document_kinds=frozenset(facts.pop("documents", ())))
    known = replace(known, **facts)
    return rules.Context(the_dossier, transition, payload or {}, now=NOW, facts=known)


FILED_AMENDMENT = Amendment(filed_on=TODAY - timedelta(days=5), amount=Decimal("60000.00"),
                            status=Amendment.Status.FILED)
PAID_AMENDMENT = Amendment(filed_on=TODAY - timedelta(days=5), amount=Decimal("60000.00"),
                           status=Amendment.Status.PAID)
OTHER = Dossier(pk=7, reference="DOS-0007", state=State.AVANCE_FILED)
ESMS_READY = {"kind": Client.Kind.ESMS, "ans_contract_signed_on": TODAY - timedelta(days=100),
              "cpe_cards": Client.Prerequisite.ORDERED, "software_certificates": Client.Prerequisite.NOT_NEEDED}
SOLDE = {"invoice_addressee": "Mme DUBOIS Claire", "solde_amount": Decimal("40000.00"),
         "invoice_total": Decimal("48000.00"), "vat": "20", "invoice_count": 1, "invoice_mentions_checked": True}

# code → its cases: (what is checked, the met context, the missed one, words of the missed one's message).
CASES: dict[str, list[tuple[str, Any, Any, str]]] = {
    "dates.chronology": [
        ("a step dated after the one before", lambda: context("sign_bdc", {"signed_on": TODAY}),
         lambda: context("sign_bdc", {"signed_on": TODAY + timedelta(days=1)}), "dans le futur"),
        ("a step dated before the one before", lambda: context("file_avance", {"filed_on": TODAY}),
         lambda: context("file_avance", {"filed_on": TODAY - timedelta(days=31)}), "précède"),
    ],
    "client.identified": [
        ("a FINESS géographique", lambda: context("sign_bdc"), lambda: context("sign_bdc", client={
            "finess_geo": ""}), "ni FINESS"),
        ("a valid identifier", lambda: context("sign_bdc", client={"finess_geo": "", "siret": "73282932000074"}),
         lambda: context("sign_bdc", client={"finess_geo": "690000121"}), "invalide"),
    ],
    "bdc.document": [
        ("the order form attached", lambda: context("sign_bdc", documents={"bdc"}), lambda: context("sign_bdc"),
         "bon de commande"),
    ],
    "bdc.signature_type": [
        ("an accepted signature", lambda: context("sign_bdc", {"signature_type": "handwritten"}),
         lambda: context("sign_bdc", {"signature_type": "fax"}), "non recevable"),
    ],
    "dispositif.single_active": [
        ("no other active dossier", lambda: context("sign_bdc"),
         lambda: context("sign_bdc", other_active_dossier=OTHER), "DOS-0007"),
    ],
    "bdc.pre_referencing_window": [
        ("a referenced solution", lambda: context("sign_bdc", {"signed_on": TODAY - timedelta(days=400)}),
         lambda: context("sign_bdc", {"signed_on": TODAY}, solution={"referenced_on": None,
                                                                     "proofs_submitted_on": None}),
         "preuves ne sont pas déposées"),
        ("signed within 120 days of the proofs", lambda: context(
            "sign_bdc", {"signed_on": TODAY - timedelta(days=100)},
            solution={"referenced_on": None, "proofs_submitted_on": TODAY}), lambda: context(
            "sign_bdc", {"signed_on": TODAY - timedelta(days=121)},
            solution={"referenced_on": None, "proofs_submitted_on": TODAY}), "plus de 120 jours"),
    ],
    "avance.solution_referenced": [
        ("referenced before the filing", lambda: context("file_avance", {"filed_on": TODAY}),
         lambda: context("file_avance", {"filed_on": TODAY}, solution={"referenced_on": None}), "pas encore"),
        ("referenced on the filing date", lambda: context(
            "file_avance", {"filed_on": TODAY}, solution={"referenced_on": TODAY}), lambda: context(
            "file_avance", {"filed_on": TODAY - timedelta(days=1)}, solution={"referenced_on": TODAY}), "après"),
    ],
    "avance.deadline": [
        ("filed before the deadline", lambda: context(
            "file_avance", {"filed_on": TODAY - timedelta(days=1)}, dispositif={"avance_deadline": NOW}),
         lambda: context("file_avance", {"filed_on": TODAY + timedelta(days=1)},
                         dispositif={"avance_deadline": NOW}), "date limite"),
        ("on the last day, before its hour", lambda: context(
            "file_avance", {"filed_on": TODAY}, dispositif={"avance_deadline": NOW + timedelta(hours=1)}),
         lambda: context("file_avance", {"filed_on": TODAY}, dispositif={
             "avance_deadline": NOW - timedelta(hours=1)}), "date limite"),
    ],
    "avance.amount": [
        ("within the ceiling", lambda: context("file_avance", {"declared_amount": Decimal("100000.00")}),
         lambda: context("file_avance", {"declared_amount": Decimal("100000.01")}), "plafond"),
        ("a positive amount", lambda: context("file_avance", {"declared_amount": Decimal("1.00")}),
         lambda: context("file_avance", {"declared_amount": Decimal("0")}), "positif"),
        ("cents at most", lambda: context("file_avance", {"declared_amount": Decimal("10.25")}),
         lambda: context("file_avance", {"declared_amount": Decimal("10.255")}), "deux décimales"),
        ("a refiling keeps the amount declared", lambda: context("refile_avance"),
         lambda: context("refile_avance", dossier={"declared_amount": None}), "Indiquez"),
    ],
    "va.document": [
        ("the signed VA attached", lambda: context("sign_va", documents={"va"}), lambda: context("sign_va"),
         "VA signée"),
    ],
    "va.esms_prerequisites": [
        ("an ESMS with its prerequisites", lambda: context("sign_va", client=ESMS_READY),
         lambda: context("sign_va", client={**ESMS_READY, "cpe_cards": ""}), "cartes CPE"),
        ("not an ESMS", lambda: context("sign_va"),
         lambda: context("sign_va", client={"kind": Client.Kind.ESMS}), "contrat avec l'ANS"),
    ],
    "va.mss_deployment": [
        ("the MSS indicator given", lambda: context(
            "sign_va", {"mss_deployment": "cas_2"}, dispositif={"requires_mss_deployment": True}),
         lambda: context("sign_va", {"mss_deployment": ""}, dispositif={"requires_mss_deployment": True}),
         "MSS"),
    ],
    "solde.pv_pilote": [
        ("a validated PV pilote", lambda: context("file_solde", SOLDE, has_validated_pv_pilote=True),
         lambda: context("file_solde", SOLDE), "PV pilote"),
    ],
    "solde.invoice_document": [
        ("the invoice attached", lambda: context("file_solde", SOLDE, documents={"invoice"}),
         lambda: context("file_solde", SOLDE), "facture"),
    ],
    "solde.invoice_matches_va_signer": [
        ("the VA signer's name, any order and title", lambda: context("file_solde", SOLDE),
         lambda: context("file_solde", {**SOLDE, "invoice_addressee": "M. Marc Lefèvre"}), "concorder"),
    ],
    "solde.amount_within_avance": [
        ("up to the declared amount", lambda: context("file_solde", {**SOLDE, "solde_amount": Decimal("50000")}),
         lambda: context("file_solde", {**SOLDE, "solde_amount": Decimal("50000.01")}), "inférieur ou égal"),
    ],
    "solde.invoice_full_amount": [
        ("an invoice of the whole amount", lambda: context("file_solde", {**SOLDE, "invoice_total": Decimal("40000")}),
         lambda: context("file_solde", {**SOLDE, "invoice_total": Decimal("39999.99")}), "100 %"),
    ],
    "solde.vat_exemption": [
        ("a liable client with a rate", lambda: context("file_solde", SOLDE),
         lambda: context("file_solde", {**SOLDE, "vat": "HT"}), "assujetti"),
        ("an exempt client, HT and its certificate", lambda: context(
            "file_solde", {**SOLDE, "vat": "HT"}, client={"vat_liable": False}, documents={"vat_exemption"}),
         lambda: context("file_solde", {**SOLDE, "vat": "HT"}, client={"vat_liable": False}), "DGFiP"),
    ],
    "solde.vat_rate": [
        ("the usual rate of the territory", lambda: context("file_solde", {**SOLDE, "vat": "8.5"},
                                                            client={"department": "974"}),
         lambda: context("file_solde", {**SOLDE, "vat": "8.5"}), "taux habituel"),
        ("no VAT where none applies", lambda: context("file_solde", {**SOLDE, "vat": "0"},
                                                      client={"department": "973"}),
         lambda: context("file_solde", SOLDE, client={"department": "973"}), "ne s'applique pas"),
    ],
    "solde.two_invoices": [
        ("two invoices in one PDF with their total", lambda: context("file_solde", {
            **SOLDE, "invoice_count": 2, "invoices_in_single_pdf": True, "invoices_total": Decimal("48000")}),
         lambda: context("file_solde", {**SOLDE, "invoice_count": 2, "invoices_total": Decimal("48000")}),
         "PDF unique"),
    ],
    "solde.two_invoices_marked": [
        ("two invoices marked", lambda: context("file_solde", {**SOLDE, "invoice_count": 2,
                                                               "invoices_marked": True}),
         lambda: context("file_solde", {**SOLDE, "invoice_count": 2}), "AVANCE ou du SOLDE"),
    ],
    "solde.invoice_mentions": [
        ("the mentions confirmed", lambda: context("file_solde", SOLDE),
         lambda: context("file_solde", {**SOLDE, "invoice_mentions_checked": False}), "mentions obligatoires"),
    ],
    "solde.mss_deployment": [
        ("the VA's MSS indicator", lambda: context("file_solde", SOLDE, dispositif={
            "requires_mss_deployment": True}, dossier={"mss_deployment": "cas_1"}),
         lambda: context("file_solde", SOLDE, dispositif={"requires_mss_deployment": True}), "MSS"),
    ],
    "solde.declared_finess": [
        ("the FINESS géographique declared", lambda: context("file_solde", SOLDE),
         lambda: context("file_solde", SOLDE, client={"finess_geo": ""}), "ni FINESS"),
        ("the FINESS juridique declared and known", lambda: context(
            "file_solde", SOLDE, client={"finess_legal": FINESS}, dossier={"declared_finess": DeclaredFiness.LEGAL}),
         lambda: context("file_solde", SOLDE, dossier={"declared_finess": DeclaredFiness.LEGAL}), "juridique"),
    ],
    "solde.last_amendment_paid": [
        ("the last amendment paid", lambda: context("file_solde", SOLDE, last_amendment=PAID_AMENDMENT),
         lambda: context("file_solde", SOLDE, last_amendment=FILED_AMENDMENT), "pas encore payé"),
    ],
    "cancel.honour_statement": [
        ("the statement attached", lambda: context("request_cancellation", documents={"honour_statement"}),
         lambda: context("request_cancellation"), "attestation sur l'honneur"),
    ],
    "cancel.client_renunciation": [
        ("the client's renunciation attached", lambda: context(
            "request_cancellation", {"reason": "client_agreement"}, documents={"client_renunciation"}),
         lambda: context("request_cancellation", {"reason": "client_agreement"}), "renonciation"),
    ],
}
PARAMS = [pytest.param(code, met, missed, words, id=f"{code}: {name}")
          for code, cases in CASES.items() for name, met, missed, words in cases]


def test_every_rule_of_the_catalogue_has_its_cases():
    assert set(CASES) == set(rules.CATALOGUE)


@pytest.mark.parametrize(("code", "met", "missed", "words"), PARAMS)
def test_the_rule_passes_when_its_prerequisite_is_met(code, met, missed, words):
    assert rules.CATALOGUE[code].check(met()) is None


@pytest.mark.parametrize(("code", "met", "missed", "words"), PARAMS)
def test_the_rule_fails_with_its_reason_when_its_prerequisite_is_missed(code, met, missed, words):
    message = rules.CATALOGUE[code].check(missed())
    assert message is not None and words in message, message


def test_evaluate_reports_every_failure_of_the_transition_in_catalogue_order():
    ctx = context("file_solde", {**SOLDE, "vat": "HT", "invoice_mentions_checked": False})
    assert [(f.rule, f.severity) for f in rules.evaluate(ctx)] == [
        ("solde.pv_pilote", rules.Severity.BLOCK), ("solde.invoice_document", rules.Severity.BLOCK),
        ("solde.vat_exemption", rules.Severity.BLOCK), ("solde.invoice_mentions", rules.Severity.BLOCK)]


def test_the_checklist_says_pending_until_a_rule_has_its_data_unless_what_it_can_judge_already_fails():
    exempt = context("file_solde", client={"vat_liable": False}, has_validated_pv_pilote=True,
                     documents={"invoice"})
    items = {item.rule.code: item for item in rules.checklist(exempt)}
    assert items["solde.pv_pilote"].status == "ok" and items["solde.invoice_document"].status == "ok"
    assert items["solde.invoice_mentions"].status == "pending"
    # the exemption certificate is known to be missing before the rate is typed (a partial rule)
    assert items["solde.vat_exemption"].status == "failed" and "DGFiP" in items["solde.vat_exemption"].message


def test_the_next_steps_blockers_are_the_failing_blocking_rules_of_the_dossiers_next_move():
    ctx = context(rules.NEXT_STEP[State.DRAFT])
    failing = [item.rule.code for item in rules.checklist(ctx)
               if item.status == "failed" and item.rule.severity is rules.Severity.BLOCK]
    assert failing == ["bdc.document"]
    assert State.SOLDE_PAID not in rules.NEXT_STEP


def test_documents_about_to_be_attached_count_as_present():
    ctx = context("sign_va")
    ctx.extra_document_kinds = frozenset({"va"})
    assert rules.CATALOGUE["va.document"].check(ctx) is None


def test_amounts_and_dates_are_shown_the_french_way():
    assert rules.money(Decimal("12345.6")) == "12\u202f345,60 €" and rules.money(None) == "—"
    assert rules.usual_vat_rate("971") == Decimal("8.5") and rules.usual_vat_rate("976") is None
    assert rules.previous_step(Dossier(bdc_signed_on=date(2026, 1, 2), avance_filed_on=date(2026, 2, 3)))[0] == \
        date(2026, 2, 3)
