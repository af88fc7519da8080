"""One scenario per rule code: a dossier one step before the rule's transition, with its prerequisite met or not.

Shared by the service tests and the API tests, so both exercise every code of the catalogue.
"""
from datetime import date
from decimal import Decimal

from dossiers import services
from dossiers.models import Dispositif, Dossier, PvPilote, State

from .factories import (
    ClientFactory, EsmsClientFactory, PvPiloteFactory, SolutionFactory, attach, next_finess, valid_payload, walk_to,
)


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


def s_dates_chronology(m, ok):
    d = before(State.AVANCE_VALIDATED, m)
    # The avance was validated on 2024-04-25: a payment recorded the day before is out of order.
    return d, "record_avance_payment", valid_payload("record_avance_payment",
                                                     paid_on="2024-04-25" if ok else "2024-04-24")


def s_solde_declared_finess(m, ok):
    client = ClientFactory(organisation=m.organisation, finess_legal=next_finess() if ok else "")
    d = _va_signed(m, client=client)
    services.update_dossier(d.pk, by=m.user, changes={"declared_finess": "legal"})
    return Dossier.objects.get(pk=d.pk), "file_solde", valid_payload("file_solde", d)


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
    "dates.chronology": s_dates_chronology,
    "solde.declared_finess": s_solde_declared_finess,
}
