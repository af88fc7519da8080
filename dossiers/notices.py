"""What the dossier page warns about up front (issue 16): the documents its next step lacks and its deadlines
passed, derived from the dossier `queries.dossier_detail` loaded, without a query (like `timeline` and `checklist`,
a reading of loaded data rather than a read of the database)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from . import rules
from .deadline_kinds import (
    BEFORE_VA_STATES, CORRECTION_FALLBACK_DAYS, ESMS_PREREQUISITES_DAYS, NOT_FILED_STATES,
)
from .models import Client, DocumentKind, Dossier, State
from .payloads import solde_draft_payload


def missing_documents(dossier: Dossier) -> list[tuple[str, str]]:
    """The documents the dossier's next step needs and lacks, as (kind, label): the kinds that lift one of the rules
    blocking it (`blocker_rows`), found by judging that rule again with the kind attached. No query: the dossier's
    documents and blockers are loaded (`dossier_detail`) and the rules are judged on plain facts."""
    present = frozenset(document.kind for document in dossier.document_rows)
    facts = rules.Facts(document_kinds=present, has_validated_pv_pilote=True)
    payload = solde_draft_payload(dossier) if rules.NEXT_STEP.get(dossier.state) == "file_solde" else {}
    missing: dict[str, str] = {}
    for blocker in dossier.blocker_rows:
        rule = rules.CATALOGUE.get(blocker.rule)
        if rule is None or rule.check(rules.Context(dossier, blocker.transition, payload, facts=facts)) is None:
            continue  # fails on a fact other than the documents (judged here as met)
        for kind, label in DocumentKind.choices:
            if kind not in present and kind not in missing and rule.check(rules.Context(
                    dossier, blocker.transition, payload, facts=facts, extra_document_kinds=frozenset({kind}))) is None:
                missing[kind] = str(label)
    return list(missing.items())


@dataclass(frozen=True)
class PassedDeadline:
    label: str
    due: date


def _correction_due(requested_on: date | None, due_on: date | None) -> date | None:
    return due_on or (requested_on + timedelta(days=CORRECTION_FALLBACK_DAYS) if requested_on else None)


def passed_deadlines(dossier: Dossier, *, pending_va_days: int, now: datetime | None = None) -> list[PassedDeadline]:
    """The dossier's own deadlines that have passed, with the due dates the kept deadlines hold for the organisation
    (the same delays and states, from `deadline_kinds`; tests/pages/test_dashboard_dossier.py holds them equal): the
    avance filing deadline while the avance is not filed, the ESMS prerequisites, a correction the ASP asked for,
    the VA awaited beyond the organisation's delay, a recovery order. No query (the dossier, its client and
    dispositif are loaded)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    d, client, passed = dossier, dossier.client, []
    deadline = d.dispositif.avance_deadline
    if d.state in NOT_FILED_STATES and deadline and deadline <= now:
        # To the minute, unlike the others: passed once the day they fall on is over.
        passed.append(PassedDeadline(_("Date limite de dépôt de l'avance"), timezone.localtime(deadline).date()))
    days: list[tuple[str, date | None]] = []
    if (client.is_esms and d.state in BEFORE_VA_STATES and d.bdc_signed_on
            and not (client.ans_contract_signed_on and client.cpe_cards in Client.Prerequisite.values
                     and client.software_certificates in Client.Prerequisite.values)):
        days.append((_("Prérequis ESMS avant la VA"), d.bdc_signed_on + timedelta(days=ESMS_PREREQUISITES_DAYS)))
    if d.state == State.AVANCE_TO_FIX:
        days.append((_("Avance à corriger"), _correction_due(d.avance_fix_requested_on, d.avance_fix_due_on)))
    if d.state == State.SOLDE_TO_FIX:
        days.append((_("Solde à corriger"), _correction_due(d.solde_fix_requested_on, d.solde_fix_due_on)))
    if d.state == State.DEPLOYED and d.deployed_on:
        days.append((_("VA attendue après déploiement"), d.deployed_on + timedelta(days=pending_va_days)))
    if d.state == State.RECOVERY_ISSUED:
        days.append((_("Remboursement de l'avance (ordre de recouvrement)"), d.recovery_issued_on))
    passed += [PassedDeadline(label, on) for label, on in days if on is not None and on < today]
    return passed
