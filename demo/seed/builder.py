"""The demo's build: plans for every state and dispositif, the portfolio loaded in one import, the showcase walked.

Most dossiers arrive the way a vendor's existing book does: one spreadsheet through the importer's bulk path
(`imports.services.start_import`), each dossier with its chained and anchored `import` history row and the rules'
blockers. A showcase then goes through the services as a person would: a paid dossier walked from its creation
(its documents and a paid amendment); on the first dossier of other states, the step taken there (a correction
request with its reason and due date, a cancellation with its statement, an open amendment); the second release's
cases. Business dates are relative to today; history rows carry the build time.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from demo.generation.plans import state_after
from dossiers import services
from dossiers.models import Dossier, SignatureType, State
from imports import services as imports

from .data import (
    CENT, DEPLOYED_AGES, GAPS, PEOPLE, SCENARIOS, SPECIAL_PLANS, STATE_CYCLE, Plan, money, path_for, vat_for,
    with_amendment, with_vat,
)
from .parties import Parties
from .pdf import pdf_upload
from .walk import Walk

IMPORT_FILE = "portefeuille-demo.csv"
ZERO = Decimal("0.00")
# The showcase: for the first dossier of each state, the steps from the first of these on run through the services
# (a correction request with its reason and due date, a cancellation with its statement, an open amendment); the
# first paid dossier is walked from its creation, documents and a paid amendment included.
SHOWCASE_STEPS = ("+amendment_filed", "request_avance_fix", "request_solde_fix", "request_cancellation")
# The import's date column of each step (the last one wins: a refiling's date is the filing's).
STEP_COLUMNS = {"sign_bdc": "bdc_signed_on", "file_avance": "avance_filed_on", "refile_avance": "avance_filed_on",
                "validate_avance": "avance_validated_on", "record_avance_payment": "avance_paid_on",
                "mark_deployed": "deployed_on", "sign_va": "va_signed_on", "file_solde": "solde_filed_on",
                "validate_solde": "solde_validated_on", "record_solde_payment": "solde_paid_on"}


class Demo(Parties, Walk):
    """Builds the demo: `prepare` (the organisation and its catalogue), then `build` (the dossiers)."""

    def __init__(self, password: str, seed: int = 2024):
        super().__init__(password, seed)
        self.deployed = 0   # dossiers left waiting for their VA so far, to spread them over DEPLOYED_AGES

    def prepare(self) -> None:
        """The organisation, its members and its solutions with their PV pilotes (before any dossier)."""
        self.people()
        self.solutions()

    def build(self, count: int) -> Counter[str]:
        """The dossiers, after `prepare`: the import, then the showcase; the states of the dossiers built."""
        plans = self.plans(count)
        for plan in plans:
            plan.client = self.client_for(plan)
            self.schedule(plan)
        self.save_clients()
        numbered = list(enumerate(plans, start=1))
        self.load([(number, plan) for number, plan in numbered if plan.walk_from > 0 or not plan.steps])
        imported = {d.reference: d for d in Dossier.objects.filter(organisation=self.organisation)}
        states: Counter[str] = Counter()
        for number, plan in numbered:
            states[self.finish(number, plan, imported).state] += 1
        self.second_release_cases()
        return states

    # --- plans and dates ---

    def plans(self, count: int) -> list[Plan]:
        """One plan per dossier: imported, but for the showcase steps of the first one of each state."""
        specials = [
            Plan(State.DRAFT, self.unreferenced, [], 0),
            Plan(State.BDC_SIGNED, self.unreferenced, path_for(State.BDC_SIGNED, 0), 0),
            Plan(State.VA_SIGNED, self.pv_pending, path_for(State.VA_SIGNED, 0), 0),
            Plan(State.DEPLOYED, self.no_pv, path_for(State.DEPLOYED, 1), 1),
        ]
        assert len(specials) == SPECIAL_PLANS
        seen: Counter[str] = Counter()
        plans = []
        for index in range(count - len(specials)):
            state = STATE_CYCLE[index % len(STATE_CYCLE)]
            variant = seen[state]
            seen[state] += 1
            steps = path_for(state, variant)
            if variant == 0 and state in (State.AVANCE_PAID, State.SOLDE_PAID):
                steps = with_amendment(steps)
            solution = self.main[self.dispositifs[index % len(self.dispositifs)].pk]
            plan = Plan(state, solution, steps, variant, walk_from=len(steps))
            if variant == 0:
                plan.walk_from = 0 if state == State.SOLDE_PAID else next(
                    (i for i, step in enumerate(steps) if step in SHOWCASE_STEPS), len(steps))
            plans.append(plan)
        for plan in specials:
            plan.walk_from = len(plan.steps)
        return plans + specials

    def schedule(self, plan: Plan) -> None:
        """Dates for each step, counted back from the last one, the avance filed before its deadline."""
        if not plan.steps:
            return
        if plan.state == State.DEPLOYED:
            last = self.today - timedelta(days=DEPLOYED_AGES[self.deployed % len(DEPLOYED_AGES)])
            self.deployed += 1
        else:
            last = self.today - timedelta(days=self.rng.randint(1, 40))
        dates = [last]
        for step in reversed(plan.steps[1:]):
            dates.append(dates[-1] - timedelta(days=GAPS[step] + self.rng.randint(0, 6)))
        dates.reverse()
        deadline = plan.solution.dispositif.avance_deadline
        if deadline is not None:
            limit = timezone.localtime(deadline).date() - timedelta(days=1)
            for index in reversed(range(len(plan.steps))):
                if plan.steps[index] in ("file_avance", "refile_avance") and dates[index] > limit:
                    shift = dates[index] - (limit - timedelta(days=self.rng.randint(0, 25)))
                    dates[:index + 1] = [d - shift for d in dates[:index + 1]]
        plan.dates = dates

    # --- the import ---

    def row(self, number: int, plan: Plan) -> dict[str, str]:
        """The plan's imported steps as one spreadsheet row (the importer's field names as headers)."""
        client, solution = plan.client, plan.solution
        steps = plan.imported_steps
        row = {"reference": f"DEMO-{number:04d}", "client_name": client.name, "client_kind": client.kind,
               "finess_geo": client.finess_geo, "finess_legal": client.finess_legal, "siret": client.siret,
               "department": client.department, "vat_liable": "oui" if client.vat_liable else "non",
               "solution_name": solution.name, "solution_version": solution.version,
               "dispositif": solution.dispositif.code, "scenario": SCENARIOS[number % len(SCENARIOS)],
               "state": state_after(steps)}
        for step, on in zip(plan.steps[:plan.walk_from], plan.dates[:plan.walk_from]):
            if step in STEP_COLUMNS:
                row[STEP_COLUMNS[step]] = on.isoformat()
        if "sign_bdc" in steps:
            row.update(bdc_signer_name=PEOPLE[number % len(PEOPLE)],
                       bdc_signature_type=SignatureType.values[number % len(SignatureType.values)])
        declared = self.declared_amount(plan) if "file_avance" in steps else None
        if declared is not None:
            row["declared_amount"] = str(declared)
        paid = money(declared * 3 / 10) if "record_avance_payment" in steps else ZERO
        if "record_avance_payment" in steps:
            row["avance_paid_amount"] = str(paid)
        if "sign_va" in steps:
            row["va_signer_name"] = PEOPLE[(number + 3) % len(PEOPLE)]
        if "file_solde" in steps:
            row["solde_amount"] = str(declared)
        if "record_solde_payment" in steps:
            row["solde_paid_amount"] = str(max(declared - paid, ZERO))
        return row

    def load(self, plans: list[tuple[int, Plan]]) -> None:
        """Import the plans' rows in one job, as a vendor would bring its book in; any refused row is a bug."""
        rows = [self.row(number, plan) for number, plan in plans]
        columns = list(dict.fromkeys(name for row in rows for name in row))
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
        job = imports.start_import(organisation=self.organisation, by=self.manager, dry_run=False, background=False,
                                   upload=ContentFile(text.getvalue().encode(), name=IMPORT_FILE))
        if not job.saved:
            raise CommandError(_("Import de la démo refusé : %(errors)s") % {"errors": job.errors[:5]})

    # --- the showcase ---

    def finish(self, number: int, plan: Plan, imported: dict[str, Dossier]) -> Dossier:
        """The plan's dossier: walked from its creation, or the imported one with its remaining steps walked."""
        reference = f"DEMO-{number:04d}"
        if plan.walk_from == 0 and plan.steps:
            dossier = services.create_dossier(
                organisation=self.organisation, by=self.manager, client=plan.client, solution=plan.solution,
                scenario=SCENARIOS[number % len(SCENARIOS)], reference=reference)
        else:
            dossier = imported[reference]
        if plan.walk_from < len(plan.steps):
            dossier = self.walk(dossier, plan, plan.walk_from)
        if plan.state == State.VA_SIGNED and plan.variant == 0:
            # an invoice being prepared: the pre-solde checklist has something to check
            vat = vat_for(plan.client)
            services.update_dossier(dossier.pk, by=self.manager, changes={"solde_draft": {
                "invoice_number": f"FA-{self.today.year}-{dossier.pk:05d}", "invoice_addressee": dossier.va_signer_name,
                "solde_amount": str(dossier.declared_amount), "vat": vat,
                "invoice_total": str(with_vat(dossier.declared_amount, vat))}})
        if dossier.state != plan.state:
            raise CommandError(f"{dossier.reference}: {dossier.state} instead of {plan.state}")
        return dossier


    # --- second release (DOMAIN.md §8): cases shown on dossiers the plans built, so the counts stay the same ---

    def second_release_cases(self) -> None:
        """A recovery repaid in instalments, a cancellation the ASP refused, installations with maintenance."""
        dossiers = Dossier.objects.filter(organisation=self.organisation).order_by("pk")
        recovering = dossiers.filter(state=State.RECOVERY_ISSUED, recovery_issued_on__isnull=False).first()
        if recovering is not None and recovering.recovery_outstanding > CENT:
            on = min(recovering.recovery_issued_on + timedelta(days=20), self.today)
            services.run_transition(recovering.pk, "record_recovery", by=self.admin, data={
                "repaid_on": on, "amount": money(recovering.recovery_outstanding / 3)})
        refused = dossiers.filter(state=State.AVANCE_PAID, avance_paid_on__lte=self.today - timedelta(days=10)).first()
        if refused is not None:
            services.add_document(refused.pk, by=self.manager, kind="honour_statement", upload=pdf_upload(
                f"honour_statement-{refused.reference}.pdf", "Attestation sur l'honneur",
                [f"Dossier : {refused.reference}", "Annulation demandée par erreur."]))
            requested = refused.avance_paid_on + timedelta(days=3)
            services.run_transition(refused.pk, "request_cancellation", by=self.manager, data={
                "requested_on": requested, "reason": "vendor_error", "motive": "Doublon supposé avec un autre dossier."})
            services.run_transition(refused.pk, "refuse_cancellation", by=self.admin, data={
                "on": requested + timedelta(days=3),
                "reason": "L'ASP refuse : le dossier n'est pas un doublon, la prestation se poursuit."})
        # the walked dossiers past their VA (created last) and a few imported ones
        for index, dossier in enumerate(dossiers.filter(va_signed_on__isnull=False).order_by("-pk")[:8]):
            if index % 4 == 3:
                continue   # no maintenance contract: no 6-year maintenance deadline for this one
            changes = {"maintenance_contract": True}
            if index % 3 == 0:
                changes["installed_version"] = f"{dossier.solution.version}.1"
            services.update_dossier(dossier.pk, by=self.manager, changes=changes)
