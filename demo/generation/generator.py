"""The generator of benchmark batches: the plan of each dossier (state, path, client, dates, documents, blockers).

A batch depends only on (seed, batch number); its rows come from `rows.Rows`, its loading from `bulk`.
"""
from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timedelta

from django.utils import timezone

from dossiers.models import AMENDMENT_STATES, Amendment, Blocker, Client, Document, Dossier, HistoryEntry
from dossiers.rules import NEXT_STEP

from .plans import ClientDraft, DispositifInfo, OrgInfo, Plan, state_after, tables
from .rows import Rows
from .vocabulary import (
    AMENDMENT_SHARE, AMENDMENT_STATUSES, CANCEL_FROM, CANCEL_FROM_PAID, CANCEL_FROM_UNPAID, CITIES, CLIENT_REUSE,
    DEFAULT_PROFILE, DEPLOYED_AGE_WEIGHTS, DEPLOYED_AGES, FILINGS, GAPS, KINDS, MAIN_TABLES, PARIS, PROFILES,
    STATE_WEIGHTS, UTC, Dice, quotas, weighted,
)


class Generator(Rows):
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
            (p.id, p.org.id, NEXT_STEP[p.state], rule) for p in plans for rule in p.blockers))
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

