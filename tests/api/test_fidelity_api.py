"""DOMAIN.md §8 and API.md "v1 additions — changes to existing resources" through HTTP, each both ways: the VA's
scenario, referenced on the filing date, recovery until repaid, refuse_cancellation, the honest checklist, names,
chronology, amendments within the ceiling, 975, one FINESS, installed version, maintenance, {"status": "paid"}."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dossiers import services
from dossiers.models import Client, Dispositif, Dossier, State

from ..factories import (
    ClientFactory, PvPiloteFactory, SolutionFactory, attach, next_finess, next_siret, valid_payload, walk_to,
)
from ..scenarios import _va_signed, before
from .conftest import faq_of, post_transition, url

pytestmark = pytest.mark.django_db

NEW_FIELDS = {"va_scenario", "declared_finess", "installed_version", "maintenance_contract", "recovery_repaid",
              "recovery_outstanding"}


def transition(api, dossier, name, **overrides):
    return post_transition(api, dossier, name, valid_payload(name, dossier, **overrides))


def patch(api, dossier, body):
    return api.patch(url("dossier-detail", dossier.pk), body, format="json")


def put_draft(api, dossier, **overrides):
    draft = valid_payload("file_solde", dossier, **overrides)
    draft.pop("filed_on")
    response = patch(api, dossier, {"solde_draft": draft})
    assert response.status_code == 200, response.json()


def test_the_dossier_carries_the_new_fields_with_their_defaults(api, manager_membership):
    body = api.get(url("dossier-detail", walk_to(State.DRAFT, membership=manager_membership).pk)).json()
    assert NEW_FIELDS <= set(body)
    assert {name: body[name] for name in NEW_FIELDS} == {
        "va_scenario": "", "declared_finess": "geo", "installed_version": "", "maintenance_contract": False,
        "recovery_repaid": "0.00", "recovery_outstanding": "0.00"}


# --- 2. the VA fixes the scenario --------------------------------------------------------------------------------

def test_sign_va_records_the_scenario_which_no_patch_can_change_afterwards(api, manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    assert patch(api, dossier, {"scenario": "Scénario 2"}).json()["scenario"] == "Scénario 2"
    attach(dossier, "va", manager_membership.user)
    signed = transition(api, dossier, "sign_va", scenario="Scénario 2 bis")
    assert (signed.json()["va_scenario"], signed.json()["scenario"]) == ("Scénario 2 bis", "Scénario 2 bis")
    refused = patch(api, dossier, {"scenario": "Scénario 3"})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["scenario"]
    read_only = patch(api, dossier, {"va_scenario": "Scénario 3"})
    assert read_only.status_code == 400 and list(read_only.json()["errors"]) == ["va_scenario"]
    assert api.get(url("dossier-detail", dossier.pk)).json()["va_scenario"] == "Scénario 2 bis"


def test_the_solde_json_carries_va_scenario(api, manager_membership):
    dossier = _va_signed(manager_membership)
    put_draft(api, dossier)
    body = api.get(url("dossier-solde-json", dossier.pk)).json()
    assert body["va_scenario"] == body["scenario"] == "Scénario 1"


# --- 3. referenced on the filing date ----------------------------------------------------------------------------

@pytest.mark.parametrize(("referenced_on", "status"), [(date(2024, 4, 10), 200), (date(2024, 4, 11), 409)])
def test_the_avance_needs_a_solution_referenced_on_its_filing_date(referenced_on, status, api, manager_membership,
                                                                  guidance):
    solution = SolutionFactory(organisation=manager_membership.organisation, referenced_on=referenced_on)
    dossier = before(State.BDC_SIGNED, manager_membership, solution=solution)
    response = transition(api, dossier, "file_avance")  # filed_on 2024-04-10
    assert response.status_code == status, response.json()
    if status == 409:
        [error] = response.json()["errors"]
        assert error["rule"] == "avance.solution_referenced" and "11/04/2024" in error["message"]
        assert error["faq"] == faq_of(guidance)


# --- 4. recovery until repaid, refuse_cancellation ---------------------------------------------------------------

def test_record_recovery_is_repeated_until_the_avance_paid_is_repaid(api, manager_membership):
    dossier = walk_to(State.RECOVERY_ISSUED, membership=manager_membership)
    first = transition(api, dossier, "record_recovery", amount="1200.00")
    assert first.status_code == 200, first.json()
    body = first.json()
    assert (body["state"], body["recovery_repaid"], body["recovery_outstanding"]) == (
        "recovery_issued", "1200.00", "1800.00")
    assert body["available_transitions"] == ["record_recovery"]
    too_much = transition(api, dossier, "record_recovery", amount="1800.01", repaid_on="2024-08-21")
    assert too_much.status_code == 400 and list(too_much.json()["errors"]) == ["amount"]
    last = transition(api, dossier, "record_recovery", amount="1800.00", repaid_on="2024-08-21")
    assert (last.json()["state"], last.json()["recovery_outstanding"], last.json()["cancelled_on"]) == (
        "cancelled", "0.00", "2024-08-21")
    history = api.get(url("dossier-history", dossier.pk)).json()
    assert [(r["to_state"], r["data"]["amount"]) for r in history if r["action"] == "record_recovery"] == [
        ("recovery_issued", "1200.00"), ("cancelled", "1800.00")]


def test_the_recovery_deadline_shows_what_is_owed_until_zero(api, manager_membership):
    from django.urls import reverse

    dossier = walk_to(State.RECOVERY_ISSUED, membership=manager_membership)
    deadlines = reverse("reports:deadlines")
    transition(api, dossier, "record_recovery", amount="1000.00")
    [owed] = [d for d in api.get(deadlines, {"kind": "recovery"}).json()["results"]]
    assert (owed["dossier"], owed["amount"]) == (dossier.pk, "2000.00")
    transition(api, dossier, "record_recovery", amount="2000.00")
    assert api.get(deadlines, {"kind": "recovery"}).json()["count"] == 0


def test_refuse_cancellation_returns_to_the_state_before_the_request(api, manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    attach(dossier, "honour_statement", manager_membership.user)
    assert transition(api, dossier, "request_cancellation").json()["state"] == "cancellation_requested"
    bad = post_transition(api, dossier, "refuse_cancellation", {"on": "2024-08-05"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["reason"]
    refused = transition(api, dossier, "refuse_cancellation", reason="Renonciation non signée")
    assert refused.status_code == 200, refused.json()
    body = refused.json()
    assert (body["state"], body["cancellation_refused_on"], body["cancellation_refusal_reason"]) == (
        "deployed", "2024-08-05", "Renonciation non signée")
    assert "sign_va" in body["available_transitions"]
    last = api.get(url("dossier-history", dossier.pk)).json()[-1]
    assert (last["action"], last["from_state"], last["to_state"]) == (
        "refuse_cancellation", "cancellation_requested", "deployed")


def test_refuse_cancellation_is_refused_by_a_viewer_and_from_another_state(api, viewer_api, outsider_api,
                                                                            manager_membership):
    requested = walk_to(State.CANCELLATION_REQUESTED, membership=manager_membership)
    payload = valid_payload("refuse_cancellation")
    assert post_transition(viewer_api, requested, "refuse_cancellation", payload).status_code == 403
    assert post_transition(outsider_api, requested, "refuse_cancellation", payload).status_code == 404
    assert Dossier.objects.get(pk=requested.pk).state == State.CANCELLATION_REQUESTED
    other = walk_to(State.BDC_SIGNED, membership=manager_membership)
    response = post_transition(api, other, "refuse_cancellation", payload)
    assert response.status_code == 409 and response.json()["errors"][0]["rule"] == "state.transition_not_allowed"


# --- 5. an honest checklist ----------------------------------------------------------------------------------------

def test_a_client_not_liable_to_vat_without_certificate_is_failed_whatever_the_draft(api, manager_membership):
    client = ClientFactory(organisation=manager_membership.organisation, vat_liable=False)
    dossier = _va_signed(manager_membership, client=client)
    body = api.get(url("dossier-checklist", dossier.pk)).json()
    item = next(i for i in body["items"] if i["rule"] == "solde.vat_exemption")
    assert (item["status"], body["ready"]) == ("failed", False)
    put_draft(api, dossier)
    assert api.get(url("dossier-checklist", dossier.pk)).json()["ready"] is False
    assert api.get(url("dossier-solde-json", dossier.pk)).status_code == 409
    attach(dossier, "vat_exemption", manager_membership.user)
    assert api.get(url("dossier-checklist", dossier.pk)).json()["ready"] is True
    assert api.get(url("dossier-solde-json", dossier.pk)).status_code == 200


def test_a_state_without_a_solde_request_is_a_failed_item(api, manager_membership):
    body = api.get(url("dossier-checklist", walk_to(State.DEPLOYED, membership=manager_membership).pk)).json()
    assert body["ready"] is False
    assert body["items"][0]["rule"] == "state.transition_not_allowed" and body["items"][0]["status"] == "failed"


# Configurations of a dossier: each flips one thing the checklist or the solde JSON reads.
CONFIGURATIONS = {
    "state": [State.DEPLOYED, State.VA_SIGNED, State.SOLDE_TO_FIX, State.SOLDE_FILED, State.CANCELLATION_REQUESTED],
    "pv": [True, False], "invoice": [True, False], "vat_liable": [True, False], "exemption": [True, False],
    "draft": ["none", "full", "partial", "wrong_name", "over_avance"], "declared": ["geo", "legal"],
}


def configured(m, index: int) -> Dossier:
    """The index-th dossier of a mixed-radix walk over CONFIGURATIONS (every value of every axis occurs)."""
    choice = {}
    for axis, values in CONFIGURATIONS.items():
        choice[axis] = values[index % len(values)]
        index //= len(values)
    client = ClientFactory(organisation=m.organisation, vat_liable=choice["vat_liable"],
                           finess_legal=next_finess() if index % 2 else "")
    state = choice["state"]
    filed = state in (State.SOLDE_FILED, State.SOLDE_TO_FIX)
    dossier = walk_to(State.VA_SIGNED if filed else state, membership=m, client=client)
    if filed:
        PvPiloteFactory(solution=dossier.solution)
        attach(dossier, "invoice", m.user)
        if not client.vat_liable:
            attach(dossier, "vat_exemption", m.user)
        services.run_transition(dossier.pk, "file_solde", by=m.user, data=valid_payload("file_solde", dossier))
        if state == State.SOLDE_TO_FIX:
            services.run_transition(dossier.pk, "request_solde_fix", by=m.user,
                                    data=valid_payload("request_solde_fix"))
        dossier.refresh_from_db()
    else:
        if choice["pv"]:
            PvPiloteFactory(solution=dossier.solution)
        if choice["invoice"]:
            attach(dossier, "invoice", m.user)
        if choice["exemption"]:
            attach(dossier, "vat_exemption", m.user)
    draft = valid_payload("file_solde", dossier)
    draft.pop("filed_on")
    drafts = {"none": None, "full": draft, "partial": {"invoice_number": "F-9", "vat": draft["vat"]},
              "wrong_name": {**draft, "invoice_addressee": "Paul Durand"},
              "over_avance": {**draft, "solde_amount": "10000.01", "invoice_total": "20000.00"}}
    if drafts[choice["draft"]] is not None:
        services.update_dossier(dossier.pk, by=m.user, changes={"solde_draft": drafts[choice["draft"]]})
    if choice["declared"] == "legal":
        services.update_dossier(dossier.pk, by=m.user, changes={"declared_finess": "legal"})
    return Dossier.objects.get(pk=dossier.pk)


@pytest.mark.slow
def test_ready_is_true_exactly_when_the_solde_json_answers_200(api, manager_membership):
    seen = {True: 0, False: 0}
    for index in range(0, 4000, 47):  # 86 dossiers spread over the 1 600 combinations
        dossier = configured(manager_membership, index)
        ready = api.get(url("dossier-checklist", dossier.pk)).json()["ready"]
        answer = api.get(url("dossier-solde-json", dossier.pk))
        assert answer.status_code in (200, 409), answer.content
        assert ready is (answer.status_code == 200), (index, dossier.state, answer.json())
        seen[ready] += 1
    assert seen[True] >= 5 and seen[False] >= 5, seen


# --- 6. names ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("addressee", "status"), [("NDIAYE Aïssatou", 200), ("Mme Aissatou N Diaye", 200),
                                                   ("Aïssatou Diallo", 409)])
def test_the_invoice_addressee_is_matched_as_people_write_names(addressee, status, api, manager_membership):
    dossier = before(State.DEPLOYED, manager_membership)
    attach(dossier, "va", manager_membership.user)
    transition(api, dossier, "sign_va", signer_name="Dr Aïssatou N'Diaye")
    PvPiloteFactory(solution=dossier.solution)
    attach(dossier, "invoice", manager_membership.user)
    response = transition(api, Dossier.objects.get(pk=dossier.pk), "file_solde", invoice_addressee=addressee)
    assert response.status_code == status, response.json()
    if status == 409:
        assert [e["rule"] for e in response.json()["errors"]] == ["solde.invoice_matches_va_signer"]


# --- 7. chronology, ceiling, 975, one FINESS, installed version, maintenance ------------------------------------

@pytest.mark.parametrize(("paid_on", "status"), [("2024-04-24", 409), ("2024-04-25", 200), ("tomorrow", 409)])
def test_step_dates_follow_each_other_and_never_lie_ahead(paid_on, status, api, manager_membership, guidance):
    if paid_on == "tomorrow":
        paid_on = (timezone.localdate() + timedelta(days=1)).isoformat()
    dossier = before(State.AVANCE_VALIDATED, manager_membership)  # validated 2024-04-25
    response = transition(api, dossier, "record_avance_payment", paid_on=paid_on)
    assert response.status_code == status, response.json()
    if status == 409:
        [error] = response.json()["errors"]
        assert error["rule"] == "dates.chronology" and error["faq"] == faq_of(guidance)


@pytest.mark.parametrize(("amount", "status"), [("12000.01", 409), ("12000.00", 201)])
def test_an_amendment_respects_the_dispositif_ceiling(amount, status, api, manager_membership, guidance):
    dispositif = Dispositif.objects.get(code="OFF-LGO-VA1")
    dispositif.ceiling_amount = Decimal("12000.00")
    dispositif.save()
    solution = SolutionFactory(organisation=manager_membership.organisation, dispositif=dispositif)
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership, solution=solution)
    response = api.post(url("amendment-list", dossier.pk), {"filed_on": "2024-05-10", "amount": amount},
                        format="json")
    assert response.status_code == status, response.json()
    if status == 409:
        [error] = response.json()["errors"]
        assert error["rule"] == "avance.amount" and error["faq"] == faq_of(guidance)
        assert dossier.amendments.count() == 0


@pytest.mark.parametrize(("vat", "warned"), [("0", False), ("20", True)])
def test_a_client_in_975_has_no_usual_vat_rate(vat, warned, api, manager_membership):
    created = api.post(url("client-list"), {"name": "Centre de Saint-Pierre", "kind": "ps", "siret": next_siret(),
                                            "department": "975", "vat_liable": True}, format="json")
    assert created.status_code == 201, created.json()
    dossier = _va_signed(manager_membership, client=Client.objects.get(pk=created.json()["id"]))
    response = transition(api, dossier, "file_solde", vat=vat)
    assert response.status_code == 200, response.json()
    assert ("solde.vat_rate" in [w["rule"] for w in response.json()["warnings"]]) is warned


def test_declared_finess_chooses_the_one_finess_of_the_solde_json(api, manager_membership, guidance):
    client = ClientFactory(organisation=manager_membership.organisation, siret=next_siret())
    dossier = _va_signed(manager_membership, client=client)
    put_draft(api, dossier)
    site = api.get(url("dossier-solde-json", dossier.pk)).json()["site"]
    assert "finess_geographique" in site and "finess_juridique" not in site and "siret" not in site
    assert patch(api, dossier, {"declared_finess": "legal"}).json()["declared_finess"] == "legal"
    refused = api.get(url("dossier-solde-json", dossier.pk))  # no FINESS juridique on this client
    assert refused.status_code == 409
    assert [e["rule"] for e in refused.json()["errors"]] == ["solde.declared_finess"]
    assert refused.json()["errors"][0]["faq"] == faq_of(guidance)
    api.patch(url("client-detail", client.pk), {"finess_legal": next_finess()}, format="json")
    site = api.get(url("dossier-solde-json", dossier.pk)).json()["site"]
    assert "finess_juridique" in site and "finess_geographique" not in site
    bad = patch(api, dossier, {"declared_finess": "siret"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["declared_finess"]


def test_installed_version_and_maintenance_contract_are_patched_and_logged(api, viewer_api, outsider_api,
                                                                         manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    Dossier.objects.filter(pk=dossier.pk).update(va_signed_on=timezone.localdate() - timedelta(days=10))
    body = {"installed_version": "5.4", "maintenance_contract": True}
    assert patch(viewer_api, dossier, body).status_code == 403
    assert outsider_api.patch(url("dossier-detail", dossier.pk), body, format="json").status_code == 404
    from django.urls import reverse

    deadlines = reverse("reports:deadlines")
    assert api.get(deadlines, {"kind": "maintenance_end"}).json()["count"] == 0
    response = patch(api, dossier, body)
    assert response.status_code == 200, response.json()
    assert (response.json()["installed_version"], response.json()["maintenance_contract"]) == ("5.4", True)
    assert api.get(deadlines, {"kind": "maintenance_end"}).json()["count"] == 1
    actions = [r["action"] for r in api.get(url("dossier-history", dossier.pk)).json()[-2:]]
    assert actions == ["change_installed_version", "change_maintenance_contract"]
    bad = patch(api, dossier, {"maintenance_contract": "oui", "installed_version": "x" * 61})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"maintenance_contract", "installed_version"}


# --- 8. {"status": "paid"} alone ---------------------------------------------------------------------------------

def test_an_amendment_is_paid_with_its_status_alone(api, manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    created = api.post(url("amendment-list", dossier.pk), {"filed_on": "2024-06-25", "amount": "11000.00"},
                       format="json").json()
    address = url("amendment-detail", dossier.pk, created["id"])
    assert api.patch(address, {"status": "validated"}, format="json").status_code == 200
    paid = api.patch(address, {"status": "paid"}, format="json")
    assert paid.status_code == 200, paid.json()
    assert (paid.json()["status"], paid.json()["paid_amount"], paid.json()["paid_on"]) == (
        "paid", "11000.00", timezone.localdate().isoformat())
    checklist = api.get(url("dossier-checklist", dossier.pk)).json()
    assert next(i for i in checklist["items"] if i["rule"] == "solde.last_amendment_paid")["status"] == "ok"


def test_an_amendment_cannot_be_paid_before_it_is_validated(api, manager_membership):
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    created = api.post(url("amendment-list", dossier.pk), {"filed_on": "2024-05-10", "amount": "11000.00"},
                       format="json").json()
    response = api.patch(url("amendment-detail", dossier.pk, created["id"]), {"status": "paid"}, format="json")
    assert response.status_code == 409 and response.json()["errors"][0]["rule"] == "state.transition_not_allowed"
