"""What the demo is made of: its people, solutions, clients' names and places, and the path of each dossier."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dossiers.models import Client, Solution, State
from organisations.models import Role

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
    # Steps from this index on run through the services (the showcase); those before it come with the import.
    walk_from: int = 0

    @property
    def imported_steps(self) -> list[str]:
        return [step for step in self.steps[:self.walk_from] if not step.startswith("+")]


