"""Generate realistic dossiers in bulk (benchmark data): every state and dispositif, chained history, COPY loading.

Each batch is generated from (seed, batch number) alone and written in one transaction: PostgreSQL COPY on
PostgreSQL, executemany INSERTs elsewhere (SQLite, up to MAX_WITHOUT_POSTGRESQL dossiers). Nothing goes
through the services: the rows are built to be exactly what the services would have stored — the history
replays through the model's transitions, the hash chain verifies, the blockers are the rules' verdict —
and tests/dossiers/test_generate_dossiers.py checks that they are.
"""
from __future__ import annotations

import bisect
import itertools
import math
import multiprocessing
import operator
import os
import queue
import random
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone as dt_timezone
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import luhn

from dossiers import counters
from dossiers.anchors import anchor
from dossiers.bulk import Table, chain_hash, check_chain_hash, data_json, sink_for_connection
from dossiers.business_days import correction_due_on
from dossiers.models import (
    AMENDMENT_STATES, Amendment, Blocker, Client, Dispositif, Document, Dossier, HistoryEntry, PvPilote, Solution,
)
from dossiers.rules import NEXT_STEP, PRE_REFERENCING_DAYS
from organisations.models import Membership, Organisation, Role

MAX_WITHOUT_POSTGRESQL = 10_000
PARIS = ZoneInfo("Europe/Paris")
UTC = dt_timezone.utc

# Share of each state in a mature portfolio: most dossiers wait for their VA or are paid, few are cancelled.
STATE_WEIGHTS = {
    "draft": 3, "bdc_signed": 5, "avance_filed": 5, "avance_to_fix": 2, "avance_validated": 4, "avance_paid": 7,
    "deployed": 18, "va_signed": 15, "solde_filed": 6, "solde_to_fix": 2, "solde_validated": 4, "solde_paid": 21,
    "cancellation_requested": 2, "recovery_issued": 1.5, "cancelled": 4.5,
}
# The state a cancellation was requested from, and whether the avance had been paid by then.
CANCEL_FROM = {"bdc_signed": 30, "avance_filed": 14, "avance_to_fix": 4, "avance_validated": 10, "avance_paid": 12,
               "deployed": 16, "va_signed": 8, "solde_filed": 3, "solde_to_fix": 3}
PAID_BEFORE = {"avance_paid", "deployed", "va_signed", "solde_filed", "solde_to_fix"}
CANCEL_FROM_PAID = {s: w for s, w in CANCEL_FROM.items() if s in PAID_BEFORE}     # deployed: paid or not
CANCEL_FROM_UNPAID = {s: w for s, w in CANCEL_FROM.items() if s not in PAID_BEFORE or s == "deployed"}
# dispositif code: (weight, avance declared from, to (euros), product name); unknown codes get DEFAULT_PROFILE
PROFILES = {
    "MDV-LGC-VA1": (22, 1200, 3500, "Cabinet"), "OFF-LGO-VA1": (15, 2000, 6000, "Officine"),
    "BIO-SGL-VA1": (6, 8000, 35000, "Labo SGL"), "RAD-RIS-VA1": (6, 6000, 30000, "Radio RIS"),
    "RAD-DRIMBOX-VA2": (5, 3000, 12000, "Drim"), "MDV-SAS-VA1": (4, 500, 2000, "Cabinet SAS"),
    "HOP-DPI-VA1": (6, 40000, 250000, "Hospi DPI"), "HOP-PFI-VA1": (4, 15000, 80000, "Hospi PFI"),
    "HOP-RI-VA1": (4, 8000, 40000, "Identito"), "HOP-DPI-VA2": (6, 40000, 300000, "Hospi DPI"),
    "HOP-PFI-VA2": (4, 15000, 90000, "Hospi PFI"), "MS-DUI-MS1": (10, 4000, 25000, "Médico DUI"),
    "MS-DUI-MS2": (8, 3000, 20000, "Médico DUI PDE"),
}
DEFAULT_PROFILE = (3, 2000, 20000, "Solution")
BRANDS = ["Medi", "Helio", "Axon", "Cardio", "Santé", "Vital", "Orphée", "Calliope", "Nova", "Pluton", "Iris",
          "Atlas", "Boréal", "Cèdre", "Delta", "Éole", "Flux", "Galien", "Hermès", "Ibis"]
KINDS = {"hopital": "es", "biologie": "laboratoire", "imagerie": "imagerie", "medecine_ville": "ps",
         "officine": "officine", "medico_social": "esms"}
CLIENT_NAMES = {
    "hopital": ["Centre hospitalier de {city}", "Clinique {saint} de {city}", "Hôpital privé de {city}",
                "CHU de {city}", "Centre de rééducation de {city}"],
    "biologie": ["Laboratoire de biologie médicale de {city}", "Biolab {city}", "Laboratoire {last}"],
    "imagerie": ["Centre d'imagerie médicale de {city}", "Radiologie {saint} ({city})", "Imagerie {last}"],
    "medecine_ville": ["Cabinet du Dr {last} ({city})", "Maison de santé de {city}", "Centre de santé {saint}"],
    "officine": ["Pharmacie du Centre ({city})", "Pharmacie {last} ({city})", "Pharmacie {saint} ({city})"],
    "medico_social": ["EHPAD Les Tilleuls ({city})", "IME Les Oliviers ({city})", "SSIAD de {city}",
                      "Foyer {saint} ({city})"],
}
SAINTS = ["Saint-Joseph", "Sainte-Marie", "Saint-Louis", "Saint-Martin", "Sainte-Anne", "Saint-Vincent", "du Parc",
          "des Lilas", "Pasteur", "Jean Jaurès"]
# (city, department): overseas and Corsica included, the mainland by population.
CITIES = [("Paris", "75"), ("Marseille", "13"), ("Lyon", "69"), ("Toulouse", "31"), ("Nice", "06"),
          ("Nantes", "44"), ("Montpellier", "34"), ("Strasbourg", "67"), ("Bordeaux", "33"), ("Lille", "59"),
          ("Rennes", "35"), ("Reims", "51"), ("Toulon", "83"), ("Saint-Étienne", "42"), ("Le Havre", "76"),
          ("Grenoble", "38"), ("Dijon", "21"), ("Angers", "49"), ("Nîmes", "30"), ("Clermont-Ferrand", "63"),
          ("Le Mans", "72"), ("Aix-en-Provence", "13"), ("Brest", "29"), ("Tours", "37"), ("Amiens", "80"),
          ("Limoges", "87"), ("Annecy", "74"), ("Perpignan", "66"), ("Metz", "57"), ("Besançon", "25"),
          ("Orléans", "45"), ("Rouen", "76"), ("Mulhouse", "68"), ("Caen", "14"), ("Nancy", "54"),
          ("Argenteuil", "95"), ("Montreuil", "93"), ("Créteil", "94"), ("Versailles", "78"), ("Pau", "64"),
          ("Poitiers", "86"), ("La Rochelle", "17"), ("Quimper", "29"), ("Ajaccio", "2A"), ("Bastia", "2B"),
          ("Pointe-à-Pitre", "971"), ("Fort-de-France", "972"), ("Cayenne", "973"), ("Saint-Denis", "974"),
          ("Saint-Pierre", "975"), ("Mamoudzou", "976")]
FIRST = ["Claire", "Marc", "Sophie", "Julien", "Nadia", "Thomas", "Émilie", "Karim", "Isabelle", "Hugo", "Léa",
         "Paul", "Chloé", "Nicolas", "Inès", "Antoine", "Camille", "Mehdi", "Julie", "François", "Anne-Laure",
         "Jean-Pierre", "Sarah", "Olivier"]
LAST = ["Dubois", "Lefèvre", "Martin", "Moreau", "Benali", "Girard", "Roux", "Haddad", "Fontaine", "Lambert",
        "Mercier", "Durand", "Bernard", "Petit", "Robert", "Richard", "Faure", "André", "Nguyen", "Bonnet",
        "Garnier", "Chevalier", "Da Silva", "Le Gall"]
TITLES = ["Mme", "M.", "Dr", "Pr", ""]
SCENARIOS = ["Scénario 1 — mise à jour", "Scénario 2 — migration", "Scénario 3 — installation"]
SIGNATURES = {"handwritten": 40, "eidas_simple": 20, "eidas_advanced": 15, "cpx": 10, "pro_sante_connect": 8,
              "rgs_certificate": 4, "eidas_qualified": 3}
FIX_REASONS = ["Pièce justificative illisible", "Montant incohérent avec le bon de commande",
               "Signature du bon de commande absente", "Facture sans les mentions obligatoires",
               "Nom du destinataire différent du signataire de la VA"]
MOTIVES = {"vendor_error": ["Dossier créé en double par erreur.", "Mauvais dispositif sélectionné."],
           "client_agreement": ["Le client renonce à la prestation.", "Changement de logiciel chez le client."]}
# days between an event and the one before it (pseudo-steps starting with "+" are amendment changes)
GAPS = {"sign_bdc": (0, 30), "file_avance": (2, 45), "request_avance_fix": (3, 25), "refile_avance": (1, 20),
        "validate_avance": (5, 40), "record_avance_payment": (5, 35), "mark_deployed": (15, 200),
        "sign_va": (3, 90), "file_solde": (2, 45), "request_solde_fix": (3, 25), "validate_solde": (5, 40),
        "record_solde_payment": (5, 35), "request_cancellation": (5, 150), "confirm_cancellation": (3, 40),
        "record_recovery": (10, 120), "+amendment_filed": (5, 60), "+amendment_validated": (5, 30),
        "+amendment_paid": (5, 30)}
# days since deployment of the dossiers waiting for their VA: the four ageing buckets 0-30/31-60/61-90/90+
DEPLOYED_AGES = [(1, 30), (31, 60), (61, 90), (91, 400)]
DEPLOYED_AGE_WEIGHTS = {0: 30, 1: 25, 2: 20, 3: 25}
CLIENT_REUSE = 0.68     # chance that a dossier goes to a known client: about 1.5 dossiers per client
AMENDMENT_SHARE = 0.05   # of the dossiers whose avance is filed and not cancelled
AMENDMENT_STATUSES = {"filed": 40, "validated": 30, "paid": 30}   # of an amendment not followed by a solde
FILINGS = ("file_avance", "refile_avance")
MAIN_TABLES = (Client, Dossier, HistoryEntry, Document, Amendment, Blocker)


def cents(value: int) -> Decimal:
    return Decimal(f"{value // 100}.{value % 100:02d}")


def with_luhn(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def quotas(count: int, weights: dict, rng: random.Random) -> list:
    """`count` keys in random order, each as often as its weight says (largest remainder), each at least once
    when there is room: a small batch still holds every state and every dispositif."""
    keys = list(weights)
    total = sum(weights.values())
    exact = [count * weights[k] / total for k in keys]
    counts = [math.floor(x) for x in exact]
    for i in sorted(range(len(keys)), key=lambda i: counts[i] - exact[i])[: count - sum(counts)]:
        counts[i] += 1
    if count >= len(keys):
        for i, n in enumerate(counts):
            if n == 0:
                counts[max(range(len(keys)), key=counts.__getitem__)] -= 1
                counts[i] = 1
    items = [k for k, n in zip(keys, counts) for _ in range(n)]
    rng.shuffle(items)
    return items


_CUMULATIVE: dict[int, tuple[list, list]] = {}


def weighted(rng: random.Random, weights: dict) -> str:
    """A key drawn by weight; `weights` is a module constant, so its cumulative table is built once."""
    table = _CUMULATIVE.get(id(weights))
    if table is None:
        table = _CUMULATIVE[id(weights)] = (list(weights), list(itertools.accumulate(weights.values())))
    keys, cumulative = table
    return keys[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


class Dice(random.Random):
    """random.Random with the integer draws done from random() in C: several times faster than the exact,
    unbiased originals, and uniform far beyond what generated benchmark data needs."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None and step == 1:
            return int(self.random() * start)
        return super().randrange(start, stop, step)

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


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
        Blocker: Table(Blocker, ["dossier_id", "transition", "rule"]),
    }


class Generator:
    """Builds and writes one batch at a time; a batch depends only on the seed and its number."""

    def __init__(self, *, seed: int, organisations: list[OrgInfo], dispositifs: list[DispositifInfo],
                 batch_size: int, sink):
        self.seed, self.organisations, self.dispositifs = seed, organisations, dispositifs
        self.batch_size, self.sink = batch_size, sink
        self.tables = tables()
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.mornings: dict[date, datetime] = {}     # 08:00 in Paris, in UTC, per day
        self.org_weights = {i: 1 / math.sqrt(i + 1) for i in range(len(organisations))}
        self.dispositif_weights = {i: PROFILES.get(d.code, DEFAULT_PROFILE)[0] for i, d in enumerate(dispositifs)}

    # --- one batch -----------------------------------------------------------------------------------------

    def batch(self, number: int, size: int) -> Counter:
        rng = self.rng = Dice(f"{self.seed}:{number}")
        ids = self.sink.reserve_ids(Dossier, size)
        states = quotas(size, STATE_WEIGHTS, rng)
        dispositifs = quotas(size, self.dispositif_weights, rng)
        orgs = quotas(size, self.org_weights, rng)
        self.clients: list[ClientDraft] = []
        self.pools: dict[tuple[int, str], list[ClientDraft]] = {}
        self.deployed_seen = 0
        plans = [self.plan(ids[i], self.organisations[orgs[i]], self.dispositifs[dispositifs[i]], states[i],
                           number * self.batch_size + i) for i in range(size)]
        for client, client_id in zip(self.clients, self.sink.reserve_ids(Client, len(self.clients))):
            client.id = client_id
            if client.kind == "esms":
                # A VA signed means the prerequisites were complete (rule va.esms_prerequisites); else some lag.
                client.esms_ready = client.reaches_va or rng.random() < 0.6
        amended = [p for p in plans if p.amendment_status]
        for plan, amendment_id in zip(amended, self.sink.reserve_ids(Amendment, len(amended))):
            plan.amendment_id = amendment_id
        for plan in plans:
            plan.blockers = self.blockers(plan)
        self.sink.begin_batch()
        written = Counter()
        written["clients"] = self.sink.write(self.tables[Client], (self.client_row(c) for c in self.clients))
        # The history goes first: writing it computes each chain's head, which the dossier row carries.
        # Foreign keys are checked at the end of the batch (Django declares them DEFERRABLE INITIALLY DEFERRED).
        written["history"] = self.sink.write(self.tables[HistoryEntry], self.history(plans))
        written["dossiers"] = self.sink.write(self.tables[Dossier], (p.row for p in plans))
        written["documents"] = self.sink.write(self.tables[Document], self.document_rows(plans))
        written["amendments"] = self.sink.write(self.tables[Amendment], self.amendment_rows)
        written["blockers"] = self.sink.write(self.tables[Blocker], (
            (p.id, NEXT_STEP[p.state], rule) for p in plans for rule in p.blockers))
        self.sink.end_batch(MAIN_TABLES)
        self.states = Counter(p.state for p in plans)
        return written

    # --- plans ---------------------------------------------------------------------------------------------

    def path(self, state: str, pay: bool = True) -> list[str]:
        """The steps from draft to `state`; `pay` says whether the avance is paid before deployment."""
        rng = self.rng
        avance = ["sign_bdc", "file_avance"] + (["request_avance_fix", "refile_avance"] if rng.random() < 0.12 else [])
        validated = avance + ["validate_avance"]
        deployed = validated + (["record_avance_payment"] if pay else []) + ["mark_deployed"]
        va = deployed + ["sign_va"]
        solde = va + ["file_solde"] + (["request_solde_fix", "file_solde"] if rng.random() < 0.10 else [])
        if state == "draft":
            return []
        if state == "bdc_signed":
            return ["sign_bdc"]
        if state == "avance_filed":
            return avance
        if state == "avance_to_fix":
            return avance + ["request_avance_fix"]
        if state == "avance_validated":
            return validated
        if state == "avance_paid":
            return validated + ["record_avance_payment"]
        if state == "deployed":
            return deployed
        if state == "va_signed":
            return va
        if state == "solde_filed":
            return solde
        if state == "solde_to_fix":
            return va + ["file_solde", "request_solde_fix"]
        if state == "solde_validated":
            return solde + ["validate_solde"]
        if state == "solde_paid":
            return solde + ["validate_solde", "record_solde_payment"]
        cancel = ["request_cancellation"]
        if state == "cancellation_requested":
            return self.path(weighted(rng, CANCEL_FROM), pay=rng.random() < 0.9) + cancel
        paid = state == "recovery_issued" or rng.random() < 0.35
        origin = weighted(rng, CANCEL_FROM_PAID if paid else CANCEL_FROM_UNPAID)
        steps = self.path(origin, pay=paid) + cancel + ["confirm_cancellation"]
        return steps + (["record_recovery"] if state == "cancelled" and paid else [])

    def with_amendment(self, plan: Plan) -> None:
        """An avance amendment (avenant) while the avance is open: paid before any solde, any status otherwise."""
        steps = plan.steps
        if not any(s in FILINGS for s in steps) or "request_cancellation" in steps:
            return
        if self.rng.random() >= AMENDMENT_SHARE:
            return
        last_filing = max(i for i, s in enumerate(steps) if s in FILINGS)
        end = steps.index("file_solde") if "file_solde" in steps else len(steps)
        # Insert after step i-1, where the state then is one in which an amendment may be filed.
        candidates = [i for i in range(last_filing + 1, end + 1) if state_after(steps[:i]) in AMENDMENT_STATES]
        if not candidates:
            return
        at = self.rng.choice(candidates)
        if "file_solde" in steps:
            status = "paid"
        else:
            status = weighted(self.rng, AMENDMENT_STATUSES)
        changes = ["+amendment_filed", "+amendment_validated", "+amendment_paid"]
        plan.steps = steps[:at] + changes[: list(AMENDMENT_STATUSES).index(status) + 1] + steps[at:]
        plan.amendment_status = status

    def plan(self, dossier_id: int, org: OrgInfo, dispositif: DispositifInfo, state: str, ordinal: int) -> Plan:
        rng = self.rng
        pay = rng.random() < 0.92
        plan = Plan(dossier_id, org, dispositif, state, self.path(state, pay=pay))
        self.with_amendment(plan)
        steps = plan.steps
        main, second, unreferenced = org.solutions[dispositif.id]
        if "file_solde" in steps:
            plan.solution = main
        elif "file_avance" in steps:
            plan.solution = second if second is not None and rng.random() < 0.3 else main
        else:
            plan.solution = unreferenced if unreferenced is not None and rng.random() < 0.6 else main
        plan.client = self.client_for(plan, ordinal)
        self.schedule(plan)
        self.choose_documents(plan)
        client = plan.client
        if client.first_event is None or plan.moments[0] < client.first_event:
            client.first_event = plan.moments[0]
        client.reaches_va = client.reaches_va or "sign_va" in steps
        return plan

    def client_for(self, plan: Plan, ordinal: int) -> ClientDraft:
        """A client of the organisation in the dispositif's couloir: a known one (CLIENT_REUSE) or a new one."""
        rng = self.rng
        dispositif = plan.dispositif.id
        pool = self.pools.setdefault((plan.org.id, plan.dispositif.couloir), [])
        client = None
        if pool and rng.random() < CLIENT_REUSE:
            for _attempt in range(3):
                candidate = rng.choice(pool)
                # One dossier per client and dispositif, except cancelled ones: the partial unique index allows
                # at most one holding the prestation, and a new dossier may follow a cancelled one.
                if plan.state == "cancelled" or dispositif not in candidate.taken:
                    client = candidate
                    break
        if plan.state == "draft" and pool and rng.random() < 0.15:
            # A draft started for a client whose prestation another dossier holds: the rule blocks its BDC.
            client = next((c for c in rng.sample(pool, min(5, len(pool))) if dispositif in c.active), client)
        if client is None:
            city, department = rng.choice(CITIES)
            kind = KINDS.get(plan.dispositif.couloir, "other")
            liable = rng.random() < {"es": 0.6, "esms": 0.7}.get(kind, 0.95)
            client = ClientDraft(plan.org, plan.dispositif.couloir, kind, ordinal, liable, department, city)
            pool.append(client)
            self.clients.append(client)
        if plan.state != "cancelled":
            client.taken.add(dispositif)
        if plan.state != "draft" and plan.state != "cancelled":
            client.active.add(dispositif)
        return client

    def schedule(self, plan: Plan) -> None:
        """A date per event, counted back from the last transition, then times of day (Paris) in order."""
        rng = self.rng
        steps = plan.steps
        transitions = [i for i, s in enumerate(steps) if not s.startswith("+")]
        if plan.state == "deployed":
            bucket = self.deployed_seen if self.deployed_seen < len(DEPLOYED_AGES) else weighted(
                rng, DEPLOYED_AGE_WEIGHTS)
            self.deployed_seen += 1
            age = rng.randint(*DEPLOYED_AGES[bucket])
        elif plan.state in ("solde_paid", "cancelled"):
            age = rng.randint(1, 720)
        elif plan.state == "va_signed":
            age = rng.randint(1, 240)
        else:
            age = min(int(rng.expovariate(1 / 30)) + 1, 200)
        anchor = transitions[-1] if transitions else -1
        days: list[date] = [date.min] * (len(steps) + 1)     # the creation, then one per step
        days[anchor + 1] = self.today - timedelta(days=age)
        for i in range(anchor, -1, -1):
            days[i] = days[i + 1] - timedelta(days=rng.randint(*GAPS[steps[i]]))
        for i in range(anchor + 1, len(steps)):             # amendment changes after the last transition
            days[i + 1] = min(days[i] + timedelta(days=rng.randint(*GAPS[steps[i]])), self.today - timedelta(days=1))
        deadline = plan.dispositif.deadline
        filings = [i for i, s in enumerate(steps) if s in FILINGS]
        if deadline is not None and filings and days[filings[-1] + 1] >= deadline:
            # Filed before the dispositif's deadline (rule avance.deadline): the early steps move back in time.
            shift = timedelta(days=(days[filings[-1] + 1] - deadline).days + rng.randint(1, 45))
            days[: filings[-1] + 2] = [d - shift for d in days[: filings[-1] + 2]]
        moments = []
        previous = None
        for i, day in enumerate(days):
            morning = self.mornings.get(day)
            if morning is None:
                morning = self.mornings[day] = datetime(day.year, day.month, day.day, 8, tzinfo=PARIS).astimezone(UTC)
            at = morning + timedelta(seconds=rng.randrange(39_600), microseconds=rng.randrange(1_000_000))
            if previous is not None and at <= previous:
                # Same day as the event before: a few minutes later (past midnight, it is the next day's event).
                at = previous + timedelta(seconds=rng.randint(30, 900), microseconds=rng.randrange(1_000_000))
                if at - morning >= timedelta(hours=16):
                    days[i] = timezone.localtime(at, PARIS).date()
            moments.append(at)
            previous = at
        plan.moments, plan.days = moments, days

    def choose_documents(self, plan: Plan) -> None:
        """The documents attached so far: those each step required, plus some uploaded ahead of the next step."""
        steps, rng, kinds = plan.steps, self.rng, plan.documents
        if "sign_bdc" in steps or rng.random() < 0.4:
            kinds.add("bdc")
        if "sign_va" in steps or (plan.state == "deployed" and rng.random() < 0.25):
            kinds.add("va")
        if "file_solde" in steps or (plan.state == "va_signed" and rng.random() < 0.2):
            kinds.add("invoice")
            if not plan.client.vat_liable:
                kinds.add("vat_exemption")
        if "request_cancellation" in steps:
            kinds.add("honour_statement")
        if rng.random() < 0.04:
            kinds.add("other")

    def blockers(self, plan: Plan) -> list[str]:
        """The block rules failing for the next step, as services.refresh_blockers would store them.

        With no payload typed yet, only rules that read no payload field can fail (rules.next_step_blockers).
        """
        transition = NEXT_STEP.get(plan.state)
        rules, kinds, client = [], plan.documents, plan.client
        if transition == "sign_bdc":
            if "bdc" not in kinds:
                rules.append("bdc.document")
            if plan.dispositif.id in client.active:       # a draft is never in `active` itself
                rules.append("dispositif.single_active")
        elif transition == "file_avance" and not plan.solution.referenced:
            rules.append("avance.solution_referenced")
        elif transition == "sign_va":
            if "va" not in kinds:
                rules.append("va.document")
            if client.kind == "esms" and not client.esms_ready:
                rules.append("va.esms_prerequisites")
        elif transition == "file_solde":
            if not plan.solution.validated_pv:
                rules.append("solde.pv_pilote")
            if "invoice" not in kinds:
                rules.append("solde.invoice_document")
            if not client.vat_liable and "vat_exemption" not in kinds:   # judged before the rate is typed
                rules.append("solde.vat_exemption")
            if plan.amendment_status and plan.amendment_status != "paid":
                rules.append("solde.last_amendment_paid")
        return rules

    # --- rows ----------------------------------------------------------------------------------------------

    def client_row(self, client: ClientDraft) -> tuple:
        # Identifiers from the reserved row id: unique per site across batches, workers and repeated runs
        # (DOMAIN.md §8: one FINESS géographique, one SIRET per client of an organisation).
        rng, n, dep = self.rng, client.id, client.department
        digits = f"{(n * 7919 + 12345) % 1_000_000:06d}"
        if dep in ("2A", "2B"):
            finess = f"{dep}{digits}{n % 10}"        # no published key rule for Corsica: format only
        elif len(dep) == 3:
            finess = with_luhn(f"97{dep[2]}{digits[1:]}")
        else:
            finess = with_luhn(f"{dep}{digits}")
        siren = f"{10_000_000 + (n * 104_729) % 89_999_999:08d}"
        siren = with_luhn("10000001" if siren == "35600000" else siren)   # La Poste's SIREN has its own rule
        siret = with_luhn(f"{siren}{n % 9999 + 1:04d}")
        kind = client.kind
        if kind == "ps":
            finess_geo, siret = ("", siret) if rng.random() < 0.7 else (finess, siret)
        else:
            finess_geo, siret = finess, (siret if rng.random() < 0.3 else "")
        if n >= (100_000 if len(dep) == 3 else 1_000_000):
            # A FINESS has six free digits (five overseas): beyond them the site is identified by its SIRET alone.
            finess_geo, siret = "", with_luhn(f"{siren}{n % 9999 + 1:04d}")
        finess_legal = ""
        if kind in ("es", "esms") and rng.random() < 0.5 and len(dep) == 2 and dep not in ("2A", "2B"):
            finess_legal = with_luhn(f"{dep}{(n * 31 + 777) % 1_000_000:06d}")
        template = rng.choice(CLIENT_NAMES.get(client.couloir, ["Structure de santé de {city}"]))
        name = template.format(city=client.city, saint=rng.choice(SAINTS), last=rng.choice(LAST))
        created = client.first_event - timedelta(days=rng.randint(0, 60), seconds=rng.randrange(86_400))
        contract = cpe = certificates = None
        if kind == "esms":
            contract = created.date() - timedelta(days=rng.randint(0, 200))
            cpe = rng.choice(["ordered", "not_needed"])
            certificates = rng.choice(["ordered", "not_needed"])
            if not client.esms_ready:
                missing = rng.randrange(3)
                contract = None if missing == 0 else contract
                cpe = None if missing == 1 else cpe
                certificates = None if missing == 2 else certificates
        return (client.id, client.org.id, name, kind, finess_geo, finess_legal, siret, dep, client.vat_liable,
                contract, cpe or "", certificates or "", created)

    def document_rows(self, plans: list[Plan]):
        """Metadata only: `file` names a path that does not exist on disk and sha256 is random. Benchmark data
        never downloads a file; the application would answer 404 for one."""
        rng = self.rng
        before = {"bdc": "sign_bdc", "va": "sign_va", "invoice": "file_solde", "vat_exemption": "file_solde",
                  "honour_statement": "request_cancellation", "client_renunciation": "request_cancellation"}
        for plan in plans:
            moments = plan.moments
            for kind in sorted(plan.documents):
                step = before.get(kind)
                if step in plan.steps:
                    i = plan.steps.index(step) + 1
                    start, end = moments[i - 1], moments[i]       # uploaded between the event before and the step
                else:
                    start, end = moments[-1], self.now             # uploaded ahead of a step still to come
                uploaded = start + (end - start) * rng.random()
                yield (plan.org.id, plan.id, kind, f"org{plan.org.id}/dossier{plan.id}/{rng.getrandbits(128):032x}.pdf",
                       f"{kind}-SEG-{plan.id:06d}.pdf", "application/pdf", rng.randint(30_000, 2_500_000),
                       f"{rng.getrandbits(256):064x}", plan.org.manager_id, uploaded)

    def history(self, plans: list[Plan]):
        """Every dossier's rows, chained; the dossier row (with its chain's head) is kept on the plan."""
        self.amendment_rows: list[tuple] = []
        for plan in plans:
            yield from self.realise(plan)

    def realise(self, plan: Plan):
        """Apply the plan's steps as the model's transition methods would, yielding one history row per event."""
        rng, dispositif, client = self.rng, plan.dispositif, plan.client
        d = dict(DOSSIER_DEFAULTS)
        reference = f"SEG-{plan.id:06d}"
        scenario = rng.choice(SCENARIOS)
        d.update(id=plan.id, organisation_id=plan.org.id, client_id=client.id, solution_id=plan.solution.id,
                 dispositif_id=dispositif.id, reference=reference, scenario=scenario, created_at=plan.moments[0])
        user_id, username = plan.org.manager_id, plan.org.manager_username
        seq, prev = 0, ""
        events = [("create", {"client": client.id, "solution": plan.solution.id, "scenario": scenario,
                              "reference": reference})] + [(s, None) for s in plan.steps]
        amendment: list = []
        for (action, data), at, day in zip(events, plan.moments, plan.days):
            from_state = d["state"] if seq else ""
            if data is None:
                action, data = self.apply(plan, d, action, day, amendment)
            if not action.startswith(("file_amendment", "amendment_")) and seq:
                d["state_changed_at"] = at
            seq += 1
            payload = data_json(data)
            digest = chain_hash(dossier_id=plan.id, seq=seq, at=at, username=username, action=action,
                                from_state=from_state, to_state=d["state"], data=payload, prev_hash=prev)
            yield (plan.id, seq, at, user_id, username, action, from_state, d["state"], payload, prev, digest)
            prev = digest
        if d["state"] != plan.state:
            raise CommandError(f"SEG-{plan.id:06d}: {d['state']} instead of {plan.state} after {plan.steps}")
        if amendment:
            self.amendment_rows.append(tuple(amendment))
        d.update(history_seq=seq, history_hash=prev, history_anchor=anchor(plan.id, seq, prev),
                 updated_at=plan.moments[-1], solde_draft="{}")
        plan.row = dossier_row(d)

    def apply(self, plan: Plan, d: dict, step: str, on: date, amendment: list) -> tuple[str, dict]:
        """One step on the dossier's fields (mirrors Dossier's transition methods); returns (action, data)."""
        rng = self.rng
        iso = on.isoformat()
        state = d["state"]
        if step.startswith("+"):
            return self.apply_amendment(plan, d, step, on, amendment)
        if step == "sign_bdc":
            signer = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            data = {"signed_on": iso, "signer_name": signer, "signature_type": weighted(rng, SIGNATURES)}
            solution = plan.solution
            if not solution.referenced and (solution.proofs_submitted_on is None or on < (
                    solution.proofs_submitted_on - timedelta(days=PRE_REFERENCING_DAYS))):
                data["warnings"] = ["bdc.pre_referencing_window"]
            d.update(bdc_signed_on=on, bdc_signer_name=signer, bdc_signature_type=data["signature_type"],
                     state="bdc_signed")
        elif step in FILINGS:
            data = {"filed_on": iso}
            if step == "file_avance" or rng.random() < 0.5:
                dispositif = plan.dispositif
                high = min(dispositif.high, dispositif.ceiling_cents or dispositif.high)
                amount = cents(rng.randint(min(dispositif.low, high), high) if step == "file_avance" else
                               int(d["declared_amount"] * 100 * Decimal(rng.uniform(0.85, 1.0))))
                data["declared_amount"] = str(amount)
                d["avance_declared_amount"] = d["declared_amount"] = amount
            if rng.random() < 0.7:
                data["scenario"] = d["scenario"] = rng.choice(SCENARIOS)
            d.update(avance_filed_on=on, state="avance_filed")
        elif step in ("request_avance_fix", "request_solde_fix"):
            data = {"on": iso, "reason": rng.choice(FIX_REASONS)}
            prefix = step[len("request_"):-len("_fix")]
            d.update({f"{prefix}_fix_requested_on": on, f"{prefix}_fix_reason": data["reason"],
                      "state": f"{prefix}_to_fix"})
            # As the transition records it: due in jours ouvrés of the client's department.
            d[f"{prefix}_fix_due_on"] = correction_due_on(on, department=plan.client.department)
        elif step in ("validate_avance", "validate_solde"):
            data = {"on": iso}
            prefix = step[len("validate_"):]
            d.update({f"{prefix}_validated_on": on, "state": f"{prefix}_validated"})
        elif step == "record_avance_payment":
            amount = cents(round(d["declared_amount"] * 30))          # 30 % of the declared amount
            data = {"paid_on": iso, "amount": str(amount)}
            d.update(avance_paid_on=on, avance_paid_amount=amount, avance_paid_total=d["avance_paid_total"] + amount,
                     state="avance_paid")
        elif step == "mark_deployed":
            data = {"deployed_on": iso}
            d.update(deployed_on=on, state="deployed")
        elif step == "sign_va":
            signer = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            data = {"signed_on": iso, "signer_name": signer, "scenario": rng.choice(SCENARIOS)}
            if plan.dispositif.mss:
                data["mss_deployment"] = rng.choice(["cas_1", "cas_2"])
            d.update(va_signed_on=on, va_signer_name=signer, scenario=data["scenario"], va_scenario=data["scenario"],
                     mss_deployment=data.get("mss_deployment", ""), state="va_signed")
        elif step == "file_solde":
            data = self.solde_payload(plan, d, on)
            d.update(solde_filed_on=on, invoice_number=data["invoice_number"], invoice_date=date.fromisoformat(
                data["invoice_date"]), invoice_addressee=data["invoice_addressee"],
                invoice_total=Decimal(data["invoice_total"]), solde_amount=Decimal(data["solde_amount"]),
                vat=data["vat"], invoice_count=data["invoice_count"], invoice_mentions_checked=True,
                state="solde_filed",
                invoices_in_single_pdf=data["invoices_in_single_pdf"] if data["invoice_count"] == 2 else None,
                invoices_total=Decimal(data["invoices_total"]) if data["invoice_count"] == 2 else None)
        elif step == "record_solde_payment":
            amount = max(d["solde_amount"] - d["avance_paid_total"], Decimal("0.00"))
            data = {"paid_on": iso, "amount": str(amount)}
            d.update(solde_paid_on=on, solde_paid_amount=amount, state="solde_paid")
        elif step == "request_cancellation":
            reason = "client_agreement" if rng.random() < 0.4 else "vendor_error"
            data = {"requested_on": iso, "reason": reason, "motive": rng.choice(MOTIVES[reason])}
            if reason == "client_agreement":
                plan.documents.add("client_renunciation")
            d.update(cancellation_from_state=state, cancellation_requested_on=on, cancellation_reason=reason,
                     cancellation_motive=data["motive"], state="cancellation_requested")
        elif step == "confirm_cancellation":
            data = {"on": iso}
            if d["avance_paid_total"] > 0:    # SEED-0: an avance received is to be repaid
                d.update(recovery_issued_on=on, state="recovery_issued")
            else:
                d.update(cancelled_on=on, state="cancelled")
        elif step == "record_recovery":
            data = {"repaid_on": iso, "amount": str(d["avance_paid_total"])}
            d.update(recovered_on=on, recovered_amount=d["avance_paid_total"], recovery_repaid=d["avance_paid_total"],
                     cancelled_on=on, state="cancelled")
        else:
            raise CommandError(f"Unknown step {step}")
        return step, data

    def solde_payload(self, plan: Plan, d: dict, on: date) -> dict:
        """The invoice of a solde: addressed to the VA signer, within the avance declared, at the usual VAT."""
        rng, client = self.rng, plan.client
        first, last = d["va_signer_name"].split(" ", 1)
        addressee = f"{rng.choice(TITLES)} {last.upper()} {first}".strip()
        declared = d["declared_amount"]
        amount = declared if rng.random() < 0.8 else cents(int(declared * 100 * Decimal(rng.uniform(0.85, 1.0))))
        if not client.vat_liable:
            vat = "HT"
        else:
            vat = {"971": "8.5", "972": "8.5", "974": "8.5", "973": "0", "976": "0"}.get(client.department, "20")
        total = amount if vat == "HT" else cents(round(amount * (100 + Decimal(vat))))
        invoice_date = max(on - timedelta(days=rng.randint(0, 10)), d["va_signed_on"])
        data = {"filed_on": on.isoformat(), "invoice_number": f"FA-{invoice_date.year}-{plan.id:07d}",
                "invoice_date": invoice_date.isoformat(), "invoice_addressee": addressee, "invoice_total": str(total),
                "solde_amount": str(amount), "vat": vat, "invoice_count": 1, "invoices_in_single_pdf": None,
                "invoices_marked": False, "invoice_mentions_checked": True}
        if rng.random() < 0.1:
            data.update(invoice_count=2, invoices_in_single_pdf=True, invoices_total=str(total), invoices_marked=True)
        return data

    def apply_amendment(self, plan: Plan, d: dict, step: str, on: date, amendment: list) -> tuple[str, dict]:
        """services.add_amendment / update_amendment: the amounts in force recomputed from the amendment."""
        iso = on.isoformat()
        if step == "+amendment_filed":
            amount = cents(int(d["declared_amount"] * 100 * Decimal(self.rng.uniform(1.05, 1.25))))
            # id, dossier, filed_on, amount, status, validated_on, paid_on, paid_amount, created_at
            amendment[:] = [plan.amendment_id, plan.id, on, amount, "filed", None, None, None,
                            plan.moments[plan.steps.index(step) + 1]]
            self.amendment_previous = d["declared_amount"]
            d["declared_amount"] = amount
            return "file_amendment", {"amendment": plan.amendment_id, "filed_on": iso, "amount": str(amount)}
        if step == "+amendment_validated":
            amendment[4:6] = ["validated", on]
            return "amendment_validated", {"amendment": plan.amendment_id, "on": iso, "paid_amount": None}
        paid = cents(round((amendment[3] - self.amendment_previous) * 30))
        amendment[4], amendment[6], amendment[7] = "paid", on, paid
        d["avance_paid_total"] = (d["avance_paid_amount"] or Decimal("0.00")) + paid
        return "amendment_paid", {"amendment": plan.amendment_id, "on": iso, "paid_amount": str(paid)}


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


class Command(BaseCommand):
    help = _("Génère des dossiers réalistes en masse (données de banc d'essai), chargés par COPY sur PostgreSQL.")

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1000, help=_("Nombre de dossiers (défaut 1000)."))
        parser.add_argument("--organisations", type=int, default=5,
                            help=_("Nombre d'organisations « Éditeur généré k » (défaut 5), créées au besoin."))
        parser.add_argument("--seed", type=int, default=0, help=_("Graine : même graine, mêmes données (défaut 0)."))
        parser.add_argument("--batch", type=int, default=50_000,
                            help=_("Dossiers par lot, un lot par transaction (défaut 50000)."))
        parser.add_argument("--workers", type=int, default=None,
                            help=_("Processus de génération sur PostgreSQL (défaut : min(2, nombre de cœurs))."))
        parser.add_argument("--password", default=None,
                            help=_("Mot de passe des comptes org<k>-admin|manager|viewer (défaut : inutilisable)."))

    def handle(self, *args, count=1000, organisations=5, seed=0, batch=50_000, password=None, workers=None,
               **options):
        if count < 0 or organisations < 1 or batch < 1 or (workers is not None and workers < 1):
            raise CommandError(_("--count ≥ 0, --organisations ≥ 1, --batch ≥ 1 et --workers ≥ 1 sont attendus."))
        if connection.vendor != "postgresql" and count > MAX_WITHOUT_POSTGRESQL:
            raise CommandError(_(
                "PostgreSQL est requis au-delà de %(max)s dossiers (chargement par COPY) ; la base actuelle est "
                "%(vendor)s. Définissez DATABASE_URL=postgres://…") % {
                "max": f"{MAX_WITHOUT_POSTGRESQL:,}".replace(",", " "), "vendor": connection.vendor})
        check_chain_hash(chain_samples())
        self.verbose = options.get("verbosity", 1) >= 1
        batches = math.ceil(count / batch)
        # Worker processes need their own connections to see committed data: PostgreSQL only, and not inside
        # the caller's transaction (a test's), where everything runs in this process.
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            workers = 1
        workers = max(1, min(workers or min(os.cpu_count() or 1, 2), batches))
        self.started = time.monotonic()
        with transaction.atomic():
            orgs, dispositifs = self.setup(organisations, password)
        generator = Generator(seed=seed, organisations=orgs, dispositifs=dispositifs, batch_size=batch, sink=None)
        self.totals: Counter = Counter()
        self.states: Counter = Counter()
        self.batches = batches
        sizes = [min(batch, count - number * batch) for number in range(batches)]
        if workers == 1:
            generator.sink = sink_for_connection()
            for number, size in enumerate(sizes):
                with transaction.atomic():
                    written = generator.batch(number, size)
                self.progress(written, generator.states)
        else:
            self.run_workers(generator, sizes, workers)
        counters.rebuild([org.id for org in orgs])  # COPY bypasses the writer: count what was loaded
        loaded = time.monotonic() - self.started
        sink_for_connection().finish(MAIN_TABLES)
        total = time.monotonic() - self.started
        totals = self.totals
        rows = sum(totals.values())
        self.stdout.write(self.style.SUCCESS(_(
            "%(dossiers)s dossiers générés en %(s).1f s (%(rate)s dossiers/s) ; %(rows)s lignes (%(rows_rate)s "
            "lignes/s) ; chargement %(loaded).1f s, ANALYZE %(analyze).1f s ; %(workers)d processus.") % {
            "dossiers": f"{totals['dossiers']:,}", "s": total, "rate": f"{totals['dossiers'] / total:,.0f}",
            "rows": f"{rows:,}", "rows_rate": f"{rows / total:,.0f}", "loaded": loaded, "analyze": total - loaded,
            "workers": workers}))
        for table in ("clients", "dossiers", "history", "documents", "amendments", "blockers"):
            self.stdout.write(f"  {table:<12}{totals[table]:>14,}")
        self.stdout.write("  " + ", ".join(f"{state} {self.states[state]:,}" for state in STATE_WEIGHTS))

    def progress(self, written: Counter, states: Counter) -> None:
        self.totals.update(written)
        self.states.update(states)
        self.done = getattr(self, "done", 0) + 1
        if self.verbose:
            elapsed = time.monotonic() - self.started
            self.stdout.write(_("lot %(n)d/%(of)d : %(done)s dossiers, %(s).1f s (%(rate)s dossiers/s)") % {
                "n": self.done, "of": self.batches, "done": f"{self.totals['dossiers']:,}", "s": elapsed,
                "rate": f"{self.totals['dossiers'] / elapsed:,.0f}"})

    def run_workers(self, generator: Generator, sizes: list[int], workers: int) -> None:
        """Batches shared among forked processes, each with its own connection: Python generation and
        PostgreSQL's work on the rows (indexes, foreign key checks) then use every core."""
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        connections.close_all()     # a forked child must not share the parent's socket
        processes = [context.Process(target=work, args=(generator, sizes, index, workers, results), daemon=True)
                     for index in range(workers)]
        for process in processes:
            process.start()
        try:
            for _batch in sizes:
                while True:
                    try:
                        kind, payload = results.get(timeout=2)
                        break
                    except queue.Empty:
                        if any(p.exitcode not in (None, 0) for p in processes):
                            raise CommandError(_("Un processus de génération s'est arrêté sans rendre compte."))
                if kind == "error":
                    raise CommandError(payload)
                self.progress(Counter(payload[0]), Counter(payload[1]))
        finally:
            for process in processes:
                if process.exitcode is None and sys.exc_info()[0] is not None:
                    process.terminate()
                process.join()


    def setup(self, count: int, password: str | None) -> tuple[list[OrgInfo], list[DispositifInfo]]:
        """Organisations, one member per role each, and their solutions per dispositif (created once)."""
        dispositifs = list(Dispositif.objects.order_by("code"))
        if not dispositifs:
            raise CommandError(_("Aucun dispositif : appliquez les migrations (données de référence) d'abord."))
        today = timezone.localdate()
        User = get_user_model()
        # One hash for every account: hashing is deliberately slow, and these are benchmark accounts.
        hashed = make_password(password) if password else None
        rng = random.Random("solutions")
        infos = [DispositifInfo(
            d.id, d.code, d.couloir_id, d.requires_mss_deployment,
            timezone.localtime(d.avance_deadline).date() if d.avance_deadline else None,
            int(d.ceiling_amount * 100) if d.ceiling_amount is not None else None,
            PROFILES.get(d.code, DEFAULT_PROFILE)[1] * 100, PROFILES.get(d.code, DEFAULT_PROFILE)[2] * 100,
        ) for d in dispositifs]
        orgs = []
        for k in range(1, count + 1):
            organisation, _created = Organisation.objects.get_or_create(name=f"Éditeur généré {k}")
            members = {}
            for role in (Role.ADMIN, Role.MANAGER, Role.VIEWER):
                user, _created = User.objects.get_or_create(username=f"org{k}-{role}", defaults={
                    "email": f"org{k}-{role}@bench.segurtrack.invalid", "password": hashed or make_password(None)})
                Membership.objects.get_or_create(user=user, organisation=organisation, defaults={"role": role})
                members[role] = user
            info = OrgInfo(organisation.id, members[Role.MANAGER].id, members[Role.MANAGER].get_username())
            brand = BRANDS[(k - 1) % len(BRANDS)] + ("" if k <= len(BRANDS) else f" {k}")
            for j, (dispositif, dinfo) in enumerate(zip(dispositifs, infos)):
                name = f"{brand} {PROFILES.get(dispositif.code, DEFAULT_PROFILE)[3]}"
                main = self.solution(organisation, dispositif, name, "5.0", today, referenced=True, pv="validated",
                                     rng=rng)
                # Every other (organisation, dispositif) has a second referenced version without a validated PV
                # pilote (pending or none), every third one a version not yet referenced.
                second = self.solution(organisation, dispositif, name, "6.0", today, referenced=True, rng=rng,
                                       pv="pending" if (j + k) % 4 == 0 else None) if (j + k) % 2 == 0 else None
                unreferenced = self.solution(organisation, dispositif, name, "7.0", today, referenced=False,
                                             pv=None, rng=rng, proofs=(j + k) % 2 == 1) if (j + k) % 3 == 0 else None
                info.solutions[dinfo.id] = (main, second, unreferenced)
            orgs.append(info)
        return orgs, infos

    def solution(self, organisation, dispositif, name, version, today, *, referenced: bool, pv: str | None,
                 rng: random.Random, proofs: bool = True) -> SolutionInfo:
        solution, created = Solution.objects.get_or_create(
            organisation=organisation, name=name, version=version, dispositif=dispositif, defaults={
                "proofs_submitted_on": (today - timedelta(days=1560 if referenced else 45)) if proofs else None,
                "referenced_on": today - timedelta(days=1500) if referenced else None})
        if created and pv is not None:
            # Metadata only: the file named here does not exist on disk (benchmark data is never downloaded).
            PvPilote.objects.create(solution=solution, signed_on=today - timedelta(days=1470), status=pv,
                                    file=f"org{organisation.id}/pv/{rng.getrandbits(128):032x}.pdf",
                                    filename="pv-pilote.pdf", size=rng.randint(50_000, 900_000),
                                    sha256=f"{rng.getrandbits(256):064x}")
        validated = PvPilote.objects.filter(solution=solution, status="validated").exists()
        return SolutionInfo(solution.id, validated, solution.referenced_on is not None, solution.proofs_submitted_on)


def work(generator: Generator, sizes: list[int], index: int, workers: int, results) -> None:
    """A worker process: its share of the batches, one transaction each; rows counts or the error reported."""
    try:
        generator.sink = sink_for_connection()
        for number in range(index, len(sizes), workers):
            with transaction.atomic():
                written = generator.batch(number, sizes[number])
            results.put(("batch", (dict(written), dict(generator.states))))
    except BaseException:
        results.put(("error", traceback.format_exc()))
    finally:
        connections.close_all()
