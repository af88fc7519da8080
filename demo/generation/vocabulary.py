"""What generated dossiers are made of: the portfolio's proportions, names, amounts, and the seeded dice."""
from __future__ import annotations

import bisect
import itertools
import math
import random
from datetime import timezone as dt_timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from stdnum import luhn

from dossiers.models import Amendment, Blocker, Client, Document, Dossier, HistoryEntry

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


