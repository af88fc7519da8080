"""Build a demo organisation whose dossiers cover every state and every dispositif, written through the services.

Every dossier is created, documented and moved through its steps by `dossiers.services`, so its history chain
is real and verifies. Business dates (orders, filings, payments, deployments) are set relative to today; the
history rows carry the time the demo was built. Running the command again does nothing unless `--reset`.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import luhn

from dossiers import services
from dossiers.history import broken_dossiers
from dossiers.models import (
    Amendment,
    Client,
    Dispositif,
    Document,
    Dossier,
    PvPilote,
    SignatureType,
    Solution,
    State,
)
from organisations.models import ApiToken, Membership, Organisation, Role

from demo import followups as demo_followups

DEMO_ORGANISATION = "Démo Santé Logiciels"
DEMO_USERS = (("demo-admin", Role.ADMIN), ("demo-manager", Role.MANAGER), ("demo-viewer", Role.VIEWER))
DEFAULT_PASSWORD = "segurtrack-demo"

# name and version of the demo's referenced solution for each shipped dispositif (others get a generic name)
SOLUTIONS = {
    "HOP-DPI-VA1": ("Hospitalis DPI", "8.2"), "HOP-PFI-VA1": ("PassHôpital", "3.1"),
    "HOP-RI-VA1": ("IdentiCare", "2.0"), "HOP-DPI-VA2": ("Hospitalis DPI", "9.0"),
    "HOP-PFI-VA2": ("PassHôpital", "4.0"), "BIO-SGL-VA1": ("LaboNet SGL", "6.4"),
    "RAD-RIS-VA1": ("RadioFlow RIS", "5.0"), "RAD-DRIMBOX-VA2": ("DrimConnect", "1.2"),
    "MDV-LGC-VA1": ("CabinetPlus", "12.1"), "MDV-SAS-VA1": ("CabinetPlus SAS", "1.0"),
    "OFF-LGO-VA1": ("OfficinePro", "7.3"), "MS-DUI-MS1": ("MédicoSocial DUI", "4.2"),
    "MS-DUI-MS2": ("MédicoSocial DUI PDE", "1.1"),
}
# typical avance declared per dispositif couloir, in euros (the demo varies it by ±20 %)
BASE_AMOUNTS = {"hopital": 60000, "biologie": 18000, "imagerie": 14000, "medecine_ville": 2500, "officine": 3200,
                "medico_social": 9000}
KINDS = {"hopital": Client.Kind.ES, "biologie": Client.Kind.LABORATOIRE, "imagerie": Client.Kind.IMAGERIE,
         "medecine_ville": Client.Kind.PS, "officine": Client.Kind.OFFICINE, "medico_social": Client.Kind.ESMS}
CLIENT_NAMES = {
    "hopital": ["Centre hospitalier de {city}", "Clinique Saint-Joseph de {city}", "Hôpital privé de {city}"],
    "biologie": ["Laboratoire de biologie médicale de {city}", "Biolab {city}"],
    "imagerie": ["Centre d'imagerie médicale de {city}", "Radiologie du Parc ({city})"],
    "medecine_ville": ["Cabinet du Dr {person} ({city})", "Maison de santé de {city}"],
    "officine": ["Pharmacie du Centre ({city})", "Pharmacie {person} ({city})"],
    "medico_social": ["EHPAD Les Tilleuls ({city})", "IME Les Oliviers ({city})", "SSIAD de {city}"],
}
# overseas departments early in the cycle so even a small demo has them
CITIES = [("Paris", "75"), ("Pointe-à-Pitre", "971"), ("Lyon", "69"), ("Cayenne", "973"), ("Marseille", "13"),
          ("Saint-Denis", "974"), ("Bordeaux", "33"), ("Mamoudzou", "976"), ("Lille", "59"), ("Toulouse", "31"),
          ("Nantes", "44"), ("Ajaccio", "2A"), ("Strasbourg", "67"), ("Nice", "06"), ("Rennes", "35"),
          ("Montpellier", "34"), ("Dijon", "21"), ("Brest", "29"), ("Limoges", "87")]
PEOPLE = ["Claire Dubois", "Marc Lefèvre", "Sophie Martin", "Julien Moreau", "Nadia Benali", "Thomas Girard",
          "Émilie Roux", "Karim Haddad", "Isabelle Fontaine", "Hugo Lambert", "Léa Mercier", "Paul Durand"]
SCENARIOS = ["Scénario 1 — mise à jour", "Scénario 2 — migration", "Scénario 3 — installation"]

MAIN = ["sign_bdc", "file_avance", "validate_avance", "record_avance_payment", "mark_deployed", "sign_va",
        "file_solde", "validate_solde", "record_solde_payment"]
CANCEL = ["request_cancellation", "confirm_cancellation"]
# every state once, in order, then the extra weight of the states a real portfolio holds most
STATE_CYCLE = list(State.values) + [State.DEPLOYED, State.DEPLOYED, State.SOLDE_PAID]
# the dossiers on special solutions (see Demo.plans), on top of one regular dossier per state
SPECIAL_PLANS = 4
MIN_DOSSIERS = len(State.values) + SPECIAL_PLANS
# days since deployment of the dossiers still waiting for their VA, cycled to fill every ageing bucket
DEPLOYED_AGES = [10, 22, 38, 52, 68, 85, 100, 120]
# days between a step and the one before it (pseudo-steps starting with "+" are amendment changes)
GAPS = {"sign_bdc": 0, "file_avance": 12, "request_avance_fix": 9, "refile_avance": 6, "validate_avance": 20,
        "record_avance_payment": 14, "+amendment_filed": 10, "+amendment_validated": 12, "+amendment_paid": 10,
        "mark_deployed": 30, "sign_va": 21, "file_solde": 10, "request_solde_fix": 12, "validate_solde": 18,
        "record_solde_payment": 15, "request_cancellation": 20, "confirm_cancellation": 25, "record_recovery": 40}
# documents attached just before a step
DOCUMENTS = {"sign_bdc": ["bdc"], "sign_va": ["va"], "file_solde": ["invoice"],
             "request_cancellation": ["honour_statement"]}
CENT = Decimal("0.01")


def path_for(state: str, variant: int) -> list[str]:
    """The steps from draft to `state`; `variant` alternates the routes a dossier can take."""
    alt = variant % 2 == 1
    return {
        State.DRAFT: [],
        State.BDC_SIGNED: MAIN[:1],
        State.AVANCE_FILED: MAIN[:2] + (["request_avance_fix", "refile_avance"] if alt else []),
        State.AVANCE_TO_FIX: MAIN[:2] + ["request_avance_fix"],
        State.AVANCE_VALIDATED: MAIN[:3],
        State.AVANCE_PAID: MAIN[:4],
        State.DEPLOYED: MAIN[:5] if alt else MAIN[:3] + ["mark_deployed"],
        State.VA_SIGNED: MAIN[:6],
        State.SOLDE_FILED: MAIN[:7] + (["request_solde_fix", "file_solde"] if alt else []),
        State.SOLDE_TO_FIX: MAIN[:7] + ["request_solde_fix"],
        State.SOLDE_VALIDATED: MAIN[:8],
        State.SOLDE_PAID: MAIN[:9],
        State.CANCELLATION_REQUESTED: (MAIN[:5] if alt else MAIN[:1]) + CANCEL[:1],
        State.RECOVERY_ISSUED: MAIN[:4] + CANCEL,
        State.CANCELLED: MAIN[:4] + CANCEL + ["record_recovery"] if alt else MAIN[:1] + CANCEL,
    }[state]


def with_amendment(path: list[str]) -> list[str]:
    """An avance amendment after the payment: paid before any solde, left open otherwise."""
    if "record_avance_payment" not in path or "request_cancellation" in path:
        return path
    at = path.index("record_avance_payment") + 1
    steps = ["+amendment_filed", "+amendment_validated", "+amendment_paid"] if "file_solde" in path else [
        "+amendment_filed"]
    return path[:at] + steps + path[at:]


def pdf_document(title: str, lines: list[str]) -> bytes:
    """A small, valid one-page PDF (Helvetica text, correct cross-reference table), built in memory."""
    def text(value: str) -> str:
        return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    operations = ["BT", "/F1 16 Tf", "72 770 Td", f"({text(title)}) Tj", "/F1 11 Tf"]
    for line in lines:
        operations += ["0 -20 Td", f"({text(line)}) Tj"]
    stream = "\n".join(operations + ["ET"]).encode("cp1252", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_upload(name: str, title: str, lines: list[str]) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_document(title, lines), content_type="application/pdf")


def money(value: Decimal | float | int) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_for(client: Client) -> str:
    """The "TVA applicable" of the client's invoice: HT when exempt, else the territory's usual rate."""
    if not client.vat_liable:
        return "HT"
    return {"971": "8.5", "972": "8.5", "974": "8.5", "973": "0", "976": "0"}.get(client.department, "20")


def with_vat(amount: Decimal, vat: str) -> Decimal:
    return amount if vat == "HT" else money(amount * (1 + Decimal(vat) / 100))


@dataclass
class Plan:
    """One demo dossier: where it ends, on which solution, and the steps that take it there."""

    state: str
    solution: Solution
    steps: list[str]
    variant: int
    client: Client | None = None
    dates: list[date] = field(default_factory=list)   # one per step


class Demo:
    """Builds the demo inside the caller's transaction; `random` is seeded so every build looks the same."""

    def __init__(self, password: str, seed: int = 2024):
        self.password = password
        self.rng = random.Random(seed)
        self.today = timezone.localdate()
        self.identifiers = 0
        self.clients: dict[str, list[Client]] = {}
        self.used: set[tuple[int, int]] = set()   # (client, dispositif) pairs holding a dossier
        self.documents = 0
        self.deployed = 0   # dossiers left waiting for their VA so far, to spread them over DEPLOYED_AGES

    # --- organisation, people, solutions ---

    def people(self) -> None:
        self.organisation = Organisation.objects.create(name=DEMO_ORGANISATION)
        User = get_user_model()
        self.members: dict[str, Membership] = {}
        for username, role in DEMO_USERS:
            user = User.objects.filter(username=username).first() or User(username=username)
            user.first_name, user.last_name = "Démo", str(Role(role).label)
            user.email = f"{username}@demo.segurtrack.invalid"
            user.set_password(self.password)
            user.save()
            self.members[role] = Membership.objects.create(user=user, organisation=self.organisation, role=role)
        self.manager, self.admin = self.members[Role.MANAGER].user, self.members[Role.ADMIN].user

    def solution(self, dispositif: Dispositif, name: str, version: str, *, referenced: bool = True,
                 pv_status: str | None = PvPilote.Status.VALIDATED) -> Solution:
        age = 560 if dispositif.vague == 1 else 500
        solution = Solution.objects.create(
            organisation=self.organisation, name=name, version=version, dispositif=dispositif,
            proofs_submitted_on=self.today - timedelta(days=age + 70 if referenced else 20),
            referenced_on=self.today - timedelta(days=age) if referenced else None)
        if pv_status is not None:
            services.add_pv_pilote(solution, by=self.admin, signed_on=self.today - timedelta(days=age - 45),
                                   status=pv_status, upload=pdf_upload(
                                       "pv-pilote.pdf", "PV pilote", [f"Solution : {solution}",
                                                                      f"Dispositif : {dispositif.code}"]))
        return solution

    def solutions(self) -> None:
        self.dispositifs = list(Dispositif.objects.select_related("couloir").order_by("code"))
        if not self.dispositifs:
            raise CommandError(_("Aucun dispositif : appliquez les migrations avant la démo."))
        self.main = {d.pk: self.solution(d, *SOLUTIONS.get(d.code, (f"Solution {d.code}", "1.0")))
                     for d in self.dispositifs}
        first = self.dispositifs[0]
        by_code = {d.code: d for d in self.dispositifs}
        lgc, ris, sgl = (by_code.get(code, first) for code in ("MDV-LGC-VA1", "RAD-RIS-VA1", "BIO-SGL-VA1"))
        # the special cases a portfolio shows: not yet referenced, PV pilote pending, no PV pilote at all
        self.unreferenced = self.solution(lgc, "CabinetPlus", "13.0", referenced=False, pv_status=None)
        self.pv_pending = self.solution(ris, "RadioFlow RIS", "5.5", pv_status=PvPilote.Status.PENDING)
        self.no_pv = self.solution(sgl, "LaboNet SGL", "7.0", pv_status=None)

    # --- clients ---

    def finess(self, department: str) -> str:
        self.identifiers += 1
        if department in ("2A", "2B"):
            return f"{department}{self.identifiers:07d}"   # no published key rule for Corsica
        body = f"{department}{self.identifiers:0{8 - len(department)}d}"
        return body + luhn.calc_check_digit(body)

    def siret(self) -> str:
        self.identifiers += 1
        siren = f"{41_000_000 + self.identifiers:08d}"
        siren += luhn.calc_check_digit(siren)
        nic = f"{self.identifiers % 10_000:04d}"
        return siren + nic + luhn.calc_check_digit(siren + nic)

    def new_client(self, couloir: str, *, esms_ready: bool) -> Client:
        k = sum(len(pool) for pool in self.clients.values())
        city, department = CITIES[k % len(CITIES)]
        names = CLIENT_NAMES.get(couloir, ["Structure de santé de {city}"])
        name = names[k % len(names)].format(city=city, person=PEOPLE[k % len(PEOPLE)].split()[-1])
        kind = KINDS.get(couloir, Client.Kind.OTHER)
        siret_only = k % 5 == 4
        client = Client(
            organisation=self.organisation, name=f"{name} {k + 1:03d}" if k >= len(CITIES) else name, kind=kind,
            department=department, vat_liable=k % 6 != 3,
            finess_geo="" if siret_only else self.finess(department),
            siret=self.siret() if siret_only or k % 3 == 0 else "",
            finess_legal=self.finess(department) if not siret_only and kind in (Client.Kind.ES, Client.Kind.ESMS)
            and k % 2 == 0 else "",
        )
        if kind == Client.Kind.ESMS and esms_ready:
            client.ans_contract_signed_on = self.today - timedelta(days=300 + k)
            client.cpe_cards = Client.Prerequisite.ORDERED if k % 2 else Client.Prerequisite.NOT_NEEDED
            client.software_certificates = Client.Prerequisite.ORDERED
        elif kind == Client.Kind.ESMS and k % 2:
            client.ans_contract_signed_on = self.today - timedelta(days=60)   # the rest still to order
        client.full_clean()
        client.save()
        self.clients.setdefault(couloir, []).append(client)
        return client

    def client_for(self, plan: Plan) -> Client:
        dispositif = plan.solution.dispositif
        esms_ready = "sign_va" in plan.steps or plan.variant % 2 == 0
        for client in self.clients.get(dispositif.couloir_id, []):
            ready = client.ans_contract_signed_on is not None and client.cpe_cards and client.software_certificates
            if (client.pk, dispositif.pk) not in self.used and (not client.is_esms or bool(ready) == esms_ready):
                break
        else:
            client = self.new_client(dispositif.couloir_id, esms_ready=esms_ready)
        self.used.add((client.pk, dispositif.pk))
        return client

    # --- plans and dates ---

    def plans(self, count: int) -> list[Plan]:
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
            if variant % 3 == 2:
                steps = with_amendment(steps)
            solution = self.main[self.dispositifs[index % len(self.dispositifs)].pk]
            plans.append(Plan(state, solution, steps, variant))
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

    # --- building ---

    def attach(self, dossier: Dossier, kind: str, plan: Plan, by) -> None:
        title = str(dict(Document._meta.get_field("kind").choices)[kind])
        upload = pdf_upload(f"{kind}-{dossier.reference}.pdf", title, [
            f"Dossier : {dossier.reference}", f"Client : {plan.client.name}",
            f"Solution : {plan.solution}", f"Dispositif : {plan.solution.dispositif.code}"])
        services.add_document(dossier.pk, by=by, kind=kind, upload=upload)
        self.documents += 1

    def payload(self, step: str, dossier: Dossier, plan: Plan, on: date) -> dict:
        client, dispositif = plan.client, plan.solution.dispositif
        signer = PEOPLE[(dossier.pk + 3) % len(PEOPLE)]
        if step == "sign_bdc":
            return {"signed_on": on, "signer_name": PEOPLE[dossier.pk % len(PEOPLE)],
                    "signature_type": SignatureType.values[dossier.pk % len(SignatureType.values)]}
        if step in ("file_avance", "refile_avance"):
            base = BASE_AMOUNTS.get(dispositif.couloir_id, 8000) * self.rng.uniform(0.8, 1.2)
            amount = money(min(Decimal(base), dispositif.ceiling_amount or Decimal(base)))
            return {"filed_on": on, "declared_amount": amount, "scenario": SCENARIOS[dossier.pk % len(SCENARIOS)]}
        if step in ("request_avance_fix", "request_solde_fix"):
            return {"on": on, "reason": "Pièce justificative illisible, à déposer de nouveau."}
        if step in ("validate_avance", "validate_solde", "confirm_cancellation"):
            return {"on": on}
        if step == "record_avance_payment":
            return {"paid_on": on, "amount": money(dossier.declared_amount * Decimal("0.3"))}
        if step == "mark_deployed":
            return {"deployed_on": on}
        if step == "sign_va":
            return {"signed_on": on, "signer_name": signer, "scenario": SCENARIOS[(dossier.pk + plan.variant) % 3],
                    "mss_deployment": ("cas_1", "cas_2")[dossier.pk % 2] if dispositif.requires_mss_deployment else ""}
        if step == "file_solde":
            first, last = dossier.va_signer_name.split(" ", 1)
            vat, solde = vat_for(client), dossier.declared_amount
            total = with_vat(solde, vat)
            payload = {"filed_on": on, "invoice_number": f"FA-{on.year}-{dossier.pk:05d}", "invoice_date": on,
                       "invoice_addressee": f"{('Mme', 'M.', 'Dr')[dossier.pk % 3]} {last.upper()} {first}",
                       "invoice_total": total, "solde_amount": solde, "vat": vat, "invoice_count": 1,
                       "invoice_mentions_checked": True}
            if plan.variant % 4 == 3:
                payload.update(invoice_count=2, invoices_in_single_pdf=True, invoices_total=total,
                               invoices_marked=True)
            return payload
        if step == "record_solde_payment":
            return {"paid_on": on, "amount": max(dossier.solde_amount - dossier.avance_paid_total, Decimal("0.00"))}
        if step == "request_cancellation":
            reason = "client_agreement" if plan.variant % 2 else "vendor_error"
            return {"requested_on": on, "reason": reason,
                    "motive": "Le client renonce à la prestation." if plan.variant % 2
                    else "Dossier créé en double par erreur."}
        if step == "record_recovery":
            return {"repaid_on": on, "amount": dossier.avance_paid_total}
        raise CommandError(f"Unknown step {step}")

    def amend(self, dossier: Dossier, step: str, on: date) -> None:
        """File the avance amendment, or move the last one on (validated, then paid)."""
        if step == "+amendment_filed":
            services.add_amendment(dossier.pk, by=self.manager, filed_on=on,
                                   amount=money(dossier.declared_amount * Decimal("1.15")))
            return
        amendment = dossier.amendments.order_by("-id").first()
        paid = step == "+amendment_paid"
        services.update_amendment(amendment.pk, by=self.admin, on=on,
                                  status=Amendment.Status.PAID if paid else Amendment.Status.VALIDATED,
                                  paid_amount=money(amendment.amount * Decimal("0.05")) if paid else None)

    def run_step(self, dossier: Dossier, step: str, plan: Plan, on: date) -> Dossier:
        """Attach the documents the step needs, then run it through the service; the dossier as saved."""
        kinds = list(DOCUMENTS.get(step, []))
        if step == "file_solde" and not plan.client.vat_liable and not dossier.documents.filter(
                kind="vat_exemption").exists():
            kinds.append("vat_exemption")
        if step == "request_cancellation" and plan.variant % 2:
            kinds.append("client_renunciation")
        for kind in kinds:
            self.attach(dossier, kind, plan, self.manager)
        by = self.admin if step.startswith(("validate", "record", "confirm")) else self.manager
        try:
            outcome = services.run_transition(dossier.pk, step, by=by, data=self.payload(step, dossier, plan, on))
        except services.RulesFailed as refused:
            raise CommandError(f"{dossier.reference} {step}: {refused.failures}")
        return outcome.dossier

    def build_dossier(self, number: int, plan: Plan) -> Dossier:
        plan.client = self.client_for(plan)
        self.schedule(plan)
        dossier = services.create_dossier(
            organisation=self.organisation, by=self.manager, client=plan.client, solution=plan.solution,
            scenario=SCENARIOS[number % len(SCENARIOS)], reference=f"DEMO-{number:04d}")
        for step, on in zip(plan.steps, plan.dates):
            if step.startswith("+"):
                self.amend(dossier, step, on)
                dossier.refresh_from_db()   # the declared amount in force changed
            else:
                dossier = self.run_step(dossier, step, plan, on)
        if plan.state == State.VA_SIGNED and plan.variant % 2 == 0:
            # an invoice being prepared: the pre-solde checklist has something to check
            vat = vat_for(plan.client)
            services.update_dossier(dossier.pk, by=self.manager, changes={"solde_draft": {
                "invoice_number": f"FA-{self.today.year}-{dossier.pk:05d}", "invoice_addressee": dossier.va_signer_name,
                "solde_amount": str(dossier.declared_amount), "vat": vat,
                "invoice_total": str(with_vat(dossier.declared_amount, vat))}})
        if dossier.state != plan.state:
            raise CommandError(f"{dossier.reference}: {dossier.state} instead of {plan.state}")
        return dossier

    def build(self, count: int) -> dict[str, int]:
        self.people()
        self.solutions()
        states: Counter[str] = Counter()
        for number, plan in enumerate(self.plans(count), start=1):
            states[self.build_dossier(number, plan).state] += 1
        self.second_release_cases()
        return states

    # --- second release (DOMAIN.md §8): cases shown on dossiers the plans built, so the counts stay the same ---

    def second_release_cases(self) -> None:
        """A recovery repaid in instalments, a cancellation the ASP refused, installations with maintenance."""
        dossiers = Dossier.objects.filter(organisation=self.organisation).order_by("pk")
        recovering = dossiers.filter(state=State.RECOVERY_ISSUED).first()
        if recovering is not None and recovering.recovery_outstanding > CENT:
            on = min(recovering.recovery_issued_on + timedelta(days=20), self.today)
            services.run_transition(recovering.pk, "record_recovery", by=self.admin, data={
                "repaid_on": on, "amount": money(recovering.recovery_outstanding / 3)})
        refused = dossiers.filter(state=State.AVANCE_PAID, avance_paid_on__lte=self.today - timedelta(days=10)).first()
        if refused is not None:
            services.add_document(refused.pk, by=self.manager, kind="honour_statement", upload=pdf_upload(
                f"honour_statement-{refused.reference}.pdf", "Attestation sur l'honneur",
                [f"Dossier : {refused.reference}", "Annulation demandée par erreur."]))
            self.documents += 1
            requested = refused.avance_paid_on + timedelta(days=3)
            services.run_transition(refused.pk, "request_cancellation", by=self.manager, data={
                "requested_on": requested, "reason": "vendor_error", "motive": "Doublon supposé avec un autre dossier."})
            services.run_transition(refused.pk, "refuse_cancellation", by=self.admin, data={
                "on": requested + timedelta(days=3),
                "reason": "L'ASP refuse : le dossier n'est pas un doublon, la prestation se poursuit."})
        for index, dossier in enumerate(dossiers.filter(va_signed_on__isnull=False)):
            if index % 4 == 3:
                continue   # no maintenance contract: no 6-year maintenance deadline for this one
            changes = {"maintenance_contract": True}
            if index % 3 == 0:
                changes["installed_version"] = f"{dossier.solution.version}.1"
            services.update_dossier(dossier.pk, by=self.manager, changes=changes)


@contextmanager
def unflushed_commits() -> Iterator[None]:
    """Let commits skip the wait for the disk flush while the demo is built (restored afterwards).

    After the build, every history row's notification is published in its own small transaction; waiting for
    a thousand flushes would dominate the run, and a demo is rebuilt, not recovered. PostgreSQL keeps its
    consistency with `synchronous_commit` off (only the last commits can be lost in a crash).
    """
    vendor = connection.vendor
    # SQLite refuses to change the setting inside a transaction (the tests' case): leave it then.
    if vendor not in ("sqlite", "postgresql") or (vendor == "sqlite" and connection.in_atomic_block):
        yield
        return
    read, write = (("PRAGMA synchronous", "PRAGMA synchronous = {}") if vendor == "sqlite"
                   else ("SHOW synchronous_commit", "SET synchronous_commit = {}"))
    with connection.cursor() as cursor:
        cursor.execute(read)
        previous = cursor.fetchone()[0]
        cursor.execute(write.format("OFF"))
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(write.format(previous))


def delete_demo(organisation: Organisation) -> None:
    """Remove the demo organisation, its dossiers (history included), stored files and demo users."""
    for document in Document.objects.filter(organisation=organisation).only("file"):
        document.file.delete(save=False)
    for pv in PvPilote.objects.filter(solution__organisation=organisation).only("file"):
        pv.file.delete(save=False)
    Dossier.objects.filter(organisation=organisation).delete()
    organisation.delete()
    get_user_model().objects.filter(username__in=[username for username, _role in DEMO_USERS]).delete()


class Command(BaseCommand):
    help = _("Crée une organisation de démonstration avec des dossiers dans chaque état et chaque dispositif.")

    def add_arguments(self, parser):
        parser.add_argument("--dossiers", type=int, default=200, help=_("Nombre de dossiers (défaut 200)."))
        parser.add_argument("--reset", action="store_true", help=_("Supprime la démo existante puis la reconstruit."))
        parser.add_argument("--password", default=DEFAULT_PASSWORD,
                            help=_("Mot de passe des comptes de démo (défaut %(default)s)."))

    def handle(self, *args, dossiers: int = 200, reset: bool = False, password: str = DEFAULT_PASSWORD, **options):
        if dossiers < MIN_DOSSIERS:
            raise CommandError(_("Il faut au moins %(n)d dossiers pour couvrir chaque état.") % {"n": MIN_DOSSIERS})
        existing = Organisation.objects.filter(name=DEMO_ORGANISATION).first()
        if existing is not None and not reset:
            self.stdout.write(_("La démo existe déjà (organisation « %(org)s », %(n)d dossiers) : rien n'est créé. "
                                "Utilisez --reset pour la reconstruire.") % {
                "org": existing.name, "n": Dossier.objects.filter(organisation=existing).count()})
            self.print_logins(password=None)
            return
        started = time.monotonic()
        with unflushed_commits(), transaction.atomic():
            if existing is not None:
                delete_demo(existing)
                self.stdout.write(_("Démo précédente supprimée."))
            demo = Demo(password)
            states = demo.build(dossiers)
            states.update(demo_followups.add_to(demo))
            _token, key = ApiToken.issue(demo.members[Role.MANAGER])
            # The demo exists to show sound chains: a broken one is a bug, and nothing is kept.
            broken = [dossier_id for dossier_id, _problems in broken_dossiers(
                Dossier.objects.filter(organisation=demo.organisation))]
            if broken:
                raise CommandError(_("Historique invalide pour les dossiers %(ids)s.") % {"ids": broken})
        self.stdout.write(self.style.SUCCESS(_(
            "Démo créée en %(seconds).1f s : %(dossiers)d dossiers, %(clients)d clients, %(solutions)d solutions, "
            "%(documents)d documents ; historiques vérifiés.") % {
            "seconds": time.monotonic() - started, "dossiers": sum(states.values()),
            "clients": sum(len(pool) for pool in demo.clients.values()),
            "solutions": Solution.objects.filter(organisation=demo.organisation).count(),
            "documents": demo.documents}))
        for state in State.values:
            self.stdout.write(f"  {State(state).label:<30} {states[state]:>4}")
        self.print_logins(password=password)
        self.stdout.write(_("Jeton d'API de demo-manager (affiché une seule fois) : %(key)s") % {"key": key})

    def print_logins(self, *, password: str | None) -> None:
        self.stdout.write(_("Comptes de démo :"))
        for username, role in DEMO_USERS:
            shown = password if password is not None else _("(inchangé)")
            self.stdout.write(f"  {username:<14} {shown:<20} {Role(role).label}")
