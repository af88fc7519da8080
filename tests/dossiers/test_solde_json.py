"""The solde request JSON: built only when ready, valid against the shipped schema, carrying what the FAQ names."""
from datetime import date

import jsonschema
import pytest

from dossiers import services, solde_json
from dossiers.models import Dispositif, State

from ..factories import EsmsClientFactory, PvPiloteFactory, SolutionFactory, attach, valid_payload, walk_to

pytestmark = pytest.mark.django_db


def test_filed_solde_gives_a_schema_valid_request_with_the_faq_fields(manager_membership):
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership)
    document = solde_json.build(dossier)
    jsonschema.validate(document, solde_json.schema())
    assert document["site"]["finess_geographique"] == dossier.client.finess_geo
    assert document["dispositif"] == "MDV-LGC-VA1"
    assert document["solution"] == {"nom": dossier.solution.name, "version": "5.2"}
    assert document["scenario"] == "Scénario 1"
    assert document["tva_applicable"] == "20"
    assert document["prestation_segur"] == "10000.00"
    assert document["facture"]["numero"] == "F-2024-001"
    assert document["facture"]["date"] == "2024-06-28"
    assert document["facture"]["montant_total"] == "12000.00"
    assert "indicateur_deploiement_mss" not in document


def test_mss_dispositif_carries_the_deployment_indicator(manager_membership):
    solution = SolutionFactory(organisation=manager_membership.organisation,
                               dispositif=Dispositif.objects.get(code="MS-DUI-MS1"))
    client = EsmsClientFactory(organisation=manager_membership.organisation)
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership, solution=solution, client=client)
    assert solde_json.build(dossier)["indicateur_deploiement_mss"] == "cas_1"


def test_request_is_refused_before_the_va_and_while_invoice_data_is_missing(manager_membership):
    deployed = walk_to(State.DEPLOYED, membership=manager_membership)
    with pytest.raises(services.RulesFailed) as refused:
        solde_json.build(deployed)
    assert [f.rule for f in refused.value.failures] == ["state.transition_not_allowed"]

    va_signed = walk_to(State.VA_SIGNED, membership=manager_membership)
    PvPiloteFactory(solution=va_signed.solution)
    attach(va_signed, "invoice", manager_membership.user)
    with pytest.raises(services.RulesFailed) as refused:
        solde_json.build(va_signed)
    assert "solde.invoice_mentions" in [f.rule for f in refused.value.failures]


def test_solde_draft_previews_the_request_once_every_rule_passes(manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    PvPiloteFactory(solution=dossier.solution)
    attach(dossier, "invoice", manager_membership.user)
    draft = valid_payload("file_solde", dossier)
    draft.pop("filed_on")
    dossier = services.update_dossier(dossier.pk, by=manager_membership.user, changes={"solde_draft": draft})
    document = solde_json.build(dossier)
    assert document["prestation_segur"] == "10000.00"
    assert dossier.history.filter(action="change_solde_draft").count() == 1


def test_two_invoices_carry_the_recap_total(manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    PvPiloteFactory(solution=dossier.solution)
    attach(dossier, "invoice", manager_membership.user)
    services.run_transition(dossier.pk, "file_solde", by=manager_membership.user, data=valid_payload(
        "file_solde", dossier, invoice_count=2, invoices_in_single_pdf=True, invoices_total="12000.00",
        invoices_marked=True))
    dossier.refresh_from_db()
    invoice = solde_json.build(dossier)["facture"]
    assert (invoice["nombre"], invoice["pdf_unique"], invoice["total_recapitulatif"]) == (2, True, "12000.00")


def test_schema_refuses_a_request_without_site_identifier():
    document = {"format": solde_json.FORMAT, "site": {"raison_sociale": "X"}, "dispositif": "D",
                "solution": {"nom": "n", "version": "1"}, "scenario": "s", "va_scenario": "s", "tva_applicable": "20",
                "prestation_segur": "1.00", "facture": {"numero": "1", "date": str(date.today()),
                                                        "montant_total": "1.00", "nombre": 1},
                "va": {"signataire": "a", "date_signature": "2024-01-01"}, "avance": {"montant_declare": "1.00"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, solde_json.schema())
    document["site"]["siret"] = "73282932000074"
    jsonschema.validate(document, solde_json.schema())
