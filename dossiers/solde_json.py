"""The solde request JSON (DOMAIN.md §7): our documented format, validated against the shipped JSON Schema.

Before the solde is filed it is built from the invoice data typed in the solde draft (a preview); once
filed, from what was filed. It is only produced when every blocking file_solde rule passes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from django.utils.translation import gettext as _

from . import rules
from .models import DeclaredFiness, Dossier, State
from .payloads import solde_draft_payload

SCHEMA_PATH = Path(__file__).parent / "schemas" / "solde_request.schema.json"
FORMAT = "segurtrack/solde-request/v1"
FILED_STATES = frozenset({State.SOLDE_FILED, State.SOLDE_VALIDATED, State.SOLDE_PAID})
FILING_STATES = frozenset({State.VA_SIGNED, State.SOLDE_TO_FIX})
INVOICE_FIELDS = ("invoice_number", "invoice_date", "invoice_addressee", "invoice_total", "solde_amount", "vat",
                  "invoice_count", "invoices_in_single_pdf", "invoices_total", "invoice_mentions_checked")


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def invoice_data(dossier: Dossier) -> dict[str, Any]:
    """The invoice data the JSON carries: as filed once the solde is filed, else the typed draft."""
    if dossier.state in FILED_STATES:
        return {name: getattr(dossier, name) for name in INVOICE_FIELDS}
    return solde_draft_payload(dossier)


def state_failure(dossier: Dossier) -> rules.Failure | None:
    """Why the dossier's state has no solde request (before the VA, or cancelled), or None."""
    if dossier.state in FILED_STATES or dossier.state in FILING_STATES:
        return None
    return rules.Failure(rules.STATE_RULE, rules.Severity.BLOCK, _(
        "La demande de solde se prépare une fois la VA signée (état actuel : « %(state)s »).") % {
        "state": State(dossier.state).label})


@dataclass(frozen=True)
class Readiness:
    """The pre-solde checklist and, from the same evaluation, why the JSON cannot be produced (empty: ready).

    The checklist page, `GET …/checklist/` and `GET …/solde.json` all read this one object, so `ready` is true
    exactly when the JSON answers 200 (DOMAIN.md §8): a blocking item `failed` or `pending`, or a state without a
    solde request, is a failure. Once filed, the JSON is the record of what was filed and the failures are empty.
    """

    data: dict[str, Any]
    items: list[rules.ChecklistItem]
    failures: list[rules.Failure]

    @property
    def ready(self) -> bool:
        return not self.failures


def readiness(dossier: Dossier, *, with_items: bool = True) -> Readiness:
    """`with_items=False` skips the checklist of a filed solde, which the JSON does not need (fewer queries)."""
    data = invoice_data(dossier)
    if dossier.state in FILED_STATES:
        items = rules.checklist(rules.Context(dossier, "file_solde", data)) if with_items else []
        return Readiness(data, items, [])
    items = rules.checklist(rules.Context(dossier, "file_solde", data))
    refused = state_failure(dossier)
    if refused is not None:
        return Readiness(data, items, [refused])
    return Readiness(data, items, [rules.Failure(item.rule.code, item.rule.severity, item.message) for item in items
                                   if item.rule.severity is rules.Severity.BLOCK and item.status != "ok"])


def readiness_failures(dossier: Dossier, data: dict[str, Any] | None = None) -> list[rules.Failure]:
    """Why the JSON cannot be produced yet: wrong state, untyped invoice data, or failing blocking rules."""
    return readiness(dossier).failures


def declared_site(dossier: Dossier) -> dict[str, str]:
    """The one identifier the request declares (DOMAIN.md §8): the dossier's chosen FINESS, the SIRET only for a
    site without FINESS."""
    client = dossier.client
    if dossier.declared_finess == DeclaredFiness.LEGAL and client.finess_legal:
        return {"finess_juridique": client.finess_legal}
    if client.finess_geo:
        return {"finess_geographique": client.finess_geo}
    return {"siret": client.siret} if client.siret else {}


def build(dossier: Dossier, assessed: Readiness | None = None) -> dict[str, Any]:
    """The request as a dict valid against the schema; raises services.RulesFailed while not ready."""
    from .services import RulesFailed

    assessed = assessed or readiness(dossier, with_items=False)
    if assessed.failures:
        raise RulesFailed(assessed.failures)
    data = assessed.data
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
