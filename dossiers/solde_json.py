"""The solde request JSON (DOMAIN.md §7): our documented format, validated against the shipped JSON Schema.

Before the solde is filed it is built from the invoice data typed in the solde draft (a preview); once
filed, from what was filed. It is only produced when every blocking file_solde rule passes.
"""
from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from .checklist import Checklist, checklist_for
from .models import DeclaredFiness, Dossier
from .services import RulesFailed

SCHEMA_PATH = Path(__file__).parent / "schemas" / "solde_request.schema.json"
FORMAT = "segurtrack/solde-request/v1"


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def declared_site(dossier: Dossier) -> dict[str, str]:
    """The one identifier the request declares (DOMAIN.md §8): the dossier's chosen FINESS, the SIRET only for a
    site without FINESS."""
    client = dossier.client
    if dossier.declared_finess == DeclaredFiness.LEGAL and client.finess_legal:
        return {"finess_juridique": client.finess_legal}
    if client.finess_geo:
        return {"finess_geographique": client.finess_geo}
    return {"siret": client.siret} if client.siret else {}


def build(dossier: Dossier, checklist: Checklist | None = None) -> dict[str, Any]:
    """The request as a dict valid against the schema; raises services.RulesFailed while the checklist is not ready."""
    checklist = checklist or checklist_for(dossier)
    if checklist.failures:
        raise RulesFailed(checklist.failures)
    data = checklist.data
    client, solution = dossier.client, dossier.solution
    site = {"raison_sociale": client.name, "departement": client.department, **declared_site(dossier)}
    invoice = {
        "numero": data["invoice_number"], "date": data["invoice_date"].isoformat(),
        "destinataire": data["invoice_addressee"], "montant_total": _amount(data["invoice_total"]),
        "nombre": int(data["invoice_count"]),
    }
    if invoice["nombre"] == 2:
        invoice["pdf_unique"] = bool(data.get("invoices_in_single_pdf"))
        invoice["total_recapitulatif"] = _amount(data.get("invoices_total"))
    avance = {"montant_declare": _amount(dossier.declared_amount)}
    if dossier.avance_filed_on:
        avance["date_depot"] = dossier.avance_filed_on.isoformat()
    if dossier.avance_paid_total:
        avance["montant_verse"] = _amount(dossier.avance_paid_total)
    document: dict[str, Any] = {
        "format": FORMAT, "reference_dossier": dossier.reference, "site": site,
        "dispositif": dossier.dispositif.code,
        "solution": {"nom": solution.name, "version": solution.version},
        # The VA's scenario: the a posteriori checks use it (SEED-0/1); dossiers from before it was recorded apart
        # fall back to the scenario, which the VA set.
        "scenario": dossier.va_scenario or dossier.scenario, "va_scenario": dossier.va_scenario or dossier.scenario,
        "tva_applicable": data["vat"],
        "prestation_segur": _amount(data["solde_amount"]), "facture": invoice,
        "va": {"signataire": dossier.va_signer_name, "date_signature": dossier.va_signed_on.isoformat()},
        "avance": avance,
    }
    if dossier.installed_version:
        document["solution"]["version_installee"] = dossier.installed_version
    if dossier.dispositif.requires_mss_deployment:
        document["indicateur_deploiement_mss"] = dossier.mss_deployment
    jsonschema.validate(document, schema(), format_checker=jsonschema.FormatChecker())
    return document
