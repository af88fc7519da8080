"""The shapes a generated batch is planned in (organisations, dispositifs, clients, dossiers) and its tables."""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum

from dossiers.models import Amendment, Blocker, Client, Document, Dossier, HistoryEntry

from .bulk import Table
from .vocabulary import SCENARIOS, UTC


@dataclass
class SolutionInfo:
    id: int
    validated_pv: bool
    referenced: bool
    proofs_submitted_on: date | None


@dataclass
class OrgInfo:
    id: int
    manager_id: int
    manager_username: str
    # dispositif id -> (main: referenced with a validated PV pilote, second: referenced without, unreferenced)
    solutions: dict[int, tuple[SolutionInfo, SolutionInfo | None, SolutionInfo | None]] = field(default_factory=dict)


@dataclass
class DispositifInfo:
    id: int
    code: str
    couloir: str
    mss: bool
    deadline: date | None      # last day (Paris) on which an avance may be filed, exclusive here
    ceiling_cents: int | None
    low: int
    high: int


@dataclass
class ClientDraft:
    org: OrgInfo
    couloir: str
    kind: str
    ordinal: int
    vat_liable: bool
    department: str
    city: str
    active: set = field(default_factory=set)      # dispositif ids with a dossier holding the prestation
    taken: set = field(default_factory=set)       # dispositif ids with a dossier not cancelled (drafts too)
    first_event: datetime | None = None
    reaches_va: bool = False
    esms_ready: bool = True
    id: int = 0
    name: str = ""                                # set when its row is written, before its dossiers' rows


class Plan:
    """One dossier before it is written: where it ends, its steps with their dates, its client and solution."""

    __slots__ = ("id", "org", "dispositif", "state", "steps", "moments", "days", "client", "solution", "documents",
                 "amendment_id", "amendment_status", "blockers", "row")

    def __init__(self, id: int, org: OrgInfo, dispositif: DispositifInfo, state: str, steps: list[str]):
        self.id, self.org, self.dispositif, self.state, self.steps = id, org, dispositif, state, steps
        self.moments: list[datetime] = []     # the creation, then one per step (UTC)
        self.days: list[date] = []            # the same events' dates in Paris
        self.client: ClientDraft | None = None
        self.solution: SolutionInfo | None = None
        self.documents: set[str] = set()
        self.amendment_id = 0
        self.amendment_status = ""
        self.blockers: list[str] = []
        self.row: tuple = ()


DOSSIER_COLUMNS = [f.attname for f in Dossier._meta.concrete_fields]
dossier_row = operator.itemgetter(*DOSSIER_COLUMNS)
# Plain values: a TextChoices default such as State.DRAFT would reach the database adapter as an Enum.
DOSSIER_DEFAULTS = {f.attname: f.get_default() for f in Dossier._meta.concrete_fields}
DOSSIER_DEFAULTS.update({k: v.value for k, v in DOSSIER_DEFAULTS.items() if isinstance(v, Enum)})


def tables() -> dict:
    return {
        Client: Table(Client, ["id", "organisation_id", "name", "kind", "finess_geo", "finess_legal", "siret",
                               "department", "vat_liable", "ans_contract_signed_on", "cpe_cards",
                               "software_certificates", "created_at"]),
        Dossier: Table(Dossier, DOSSIER_COLUMNS),
        HistoryEntry: Table(HistoryEntry, ["dossier_id", "seq", "at", "user_id", "username", "action", "from_state",
                                           "to_state", "data", "prev_hash", "hash"]),
        Document: Table(Document, ["organisation_id", "dossier_id", "kind", "file", "filename", "content_type", "size",
                                   "sha256", "uploaded_by_id", "uploaded_at"]),
        Amendment: Table(Amendment, ["id", "dossier_id", "filed_on", "amount", "status", "validated_on", "paid_on",
                                     "paid_amount", "created_at"]),
        Blocker: Table(Blocker, ["dossier_id", "organisation_id", "transition", "rule"]),
    }

def state_after(steps: list[str]) -> str:
    """The state a path of transitions (no amendment pseudo-steps) leads to from draft."""
    targets = {"sign_bdc": "bdc_signed", "file_avance": "avance_filed", "refile_avance": "avance_filed",
               "request_avance_fix": "avance_to_fix", "validate_avance": "avance_validated",
               "record_avance_payment": "avance_paid", "mark_deployed": "deployed", "sign_va": "va_signed",
               "file_solde": "solde_filed", "request_solde_fix": "solde_to_fix", "validate_solde": "solde_validated",
               "record_solde_payment": "solde_paid", "request_cancellation": "cancellation_requested",
               "record_recovery": "cancelled"}
    state = "draft"
    for step in steps:
        if step == "confirm_cancellation":
            state = "recovery_issued" if "record_avance_payment" in steps else "cancelled"
        elif not step.startswith("+"):
            state = targets[step]
    return state


def chain_samples() -> list[dict]:
    """Rows covering what the generator writes (accents, null, bool, list, int, a time without microseconds)."""
    at = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    return [
        {"dossier_id": 1, "seq": 1, "at": at, "username": "org1-manager", "action": "create", "from_state": "",
         "to_state": "draft", "data": {"client": 3, "solution": 4, "scenario": SCENARIOS[0], "reference": "SEG-000001"},
         "prev_hash": ""},
        {"dossier_id": 12, "seq": 4, "at": at + timedelta(microseconds=12), "username": "org2-manager",
         "action": "file_solde", "from_state": "va_signed", "to_state": "solde_filed", "prev_hash": "ab" * 32,
         "data": {"invoice_addressee": "Mme LÉA Éloïse", "invoice_count": 1, "invoices_in_single_pdf": None,
                  "invoice_mentions_checked": True, "solde_amount": "10.00", "warnings": ["x.y"]}},
    ]

