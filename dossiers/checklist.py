"""The pre-solde checklist, read in one place: every file_solde rule against the dossier and its invoice data.

`checklist_for(dossier)` is the only computation of it. The checklist page, `GET …/checklist/`, the admin's panel and
`solde.json` only format the `Checklist` it returns, so they cannot disagree: `ready` is true exactly when the JSON
answers 200 (DOMAIN.md §8): a blocking item `failed` or `pending`, or a state without a solde request, is a failure.
Once filed, the invoice data is what was filed (the JSON is its record) and the failures are empty.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.utils.translation import gettext as _

from . import rules
from .models import INVOICE_FIELDS, SOLDE_FILED_STATES, SOLDE_FILING_STATES, Dossier, State
from .payloads import solde_draft_payload

def invoice_data(dossier: Dossier) -> dict[str, Any]:
    """The invoice data the checklist judges: as filed once the solde is filed, else the typed draft."""
    if dossier.state in SOLDE_FILED_STATES:
        return {name: getattr(dossier, name) for name in INVOICE_FIELDS}
    return solde_draft_payload(dossier)


def state_failure(dossier: Dossier) -> rules.Failure | None:
    """Why the dossier's state has no solde request (before the VA, or cancelled), or None."""
    if dossier.state in SOLDE_FILED_STATES or dossier.state in SOLDE_FILING_STATES:
        return None
    return rules.Failure(rules.STATE_RULE, rules.Severity.BLOCK, _(
        "La demande de solde se prépare une fois la VA signée (état actuel : « %(state)s »).") % {
        "state": State(dossier.state).label})


@dataclass
class Checklist:
    """The checklist of one dossier. `items` is evaluated when first read: the JSON of a filed solde never reads it."""

    dossier: Dossier
    data: dict[str, Any]

    @cached_property
    def items(self) -> list[rules.ChecklistItem]:
        # The page has read the documents to list them (`document_rows`): the rules take their kinds from there.
        context = rules.Context(self.dossier, "file_solde", self.data).knowing_documents(
            getattr(self.dossier, "document_rows", None))
        return rules.checklist(context)

    @property
    def filed(self) -> bool:
        return self.dossier.state in SOLDE_FILED_STATES

    @property
    def filing(self) -> bool:
        """The solde can be filed from the dossier's state."""
        return self.dossier.state in SOLDE_FILING_STATES

    @cached_property
    def state_failure(self) -> rules.Failure | None:
        return state_failure(self.dossier)

    @property
    def blocking_open(self) -> list[rules.ChecklistItem]:
        """The blocking items not passed yet (failed, or pending their data)."""
        return [item for item in self.items if item.rule.severity is rules.Severity.BLOCK and item.status != "ok"]

    @cached_property
    def failures(self) -> list[rules.Failure]:
        """Why the JSON cannot be produced (empty: ready): the state, else every blocking item not passed."""
        if self.filed:
            return []
        if self.state_failure is not None:
            return [self.state_failure]
        return [rules.Failure(item.rule.code, item.rule.severity, item.message) for item in self.blocking_open]

    @property
    def ready(self) -> bool:
        return not self.failures

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(item.status for item in self.items)
        return {status: counted[status] for status in ("ok", "failed", "pending")}


def checklist_for(dossier: Dossier) -> Checklist:
    """The pre-solde checklist of a dossier read with its client, solution and dispositif."""
    return Checklist(dossier, invoice_data(dossier))
