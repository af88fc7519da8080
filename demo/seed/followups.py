"""The demo's follow-up cases (issue 12): a portability request, a change awaiting its ANS notice, and an Alsace
client whose correction deadline skips 26 December; built through the services after the main demo."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING

from dossiers import followups, services
from dossiers.models import Client, Dossier, State

from .data import Plan, path_for

if TYPE_CHECKING:
    from .builder import Demo

ALSACE_CLIENT = "Clinique de l'Orangerie (Strasbourg)"
ALSACE_REFERENCE = "DEMO-ALSACE"


def correction_year(today: date) -> int:
    """The latest year whose 19 December is past and whose 26 December is a weekday (a holiday only in Alsace)."""
    year = today.year if date(today.year, 12, 19) < today else today.year - 1
    while date(year, 12, 26).weekday() >= 5:
        year -= 1
    return year


def alsace_correction(demo: "Demo") -> Dossier:
    """A solde sent back for correction on 19 December: due in ten jours ouvrés of the Bas-Rhin (26/12 excluded)."""
    requested_on = date(correction_year(demo.today), 12, 19)
    solution = next((s for s in demo.main.values() if s.dispositif.code == "HOP-DPI-VA1"),
                    next(iter(demo.main.values())))
    client = services.save_client(Client(
        organisation=demo.organisation, name=ALSACE_CLIENT, kind=Client.Kind.ES, department="67", vat_liable=True,
        finess_geo=demo.finess("67")), by=demo.manager)
    demo.clients.setdefault(solution.dispositif.couloir_id, []).append(client)
    demo.used.add((id(client), solution.dispositif_id))
    plan = Plan(State.SOLDE_TO_FIX, solution, path_for(State.SOLDE_TO_FIX, 0), 0, client=client)
    demo.schedule(plan)
    shift = plan.dates[-1] - requested_on
    plan.dates = [on - shift for on in plan.dates]
    dossier = services.create_dossier(organisation=demo.organisation, by=demo.manager, client=client,
                                      solution=solution, scenario="Scénario 1 — mise à jour",
                                      reference=ALSACE_REFERENCE)
    for step, on in zip(plan.steps, plan.dates):
        dossier = demo.run_step(dossier, step, plan, on)
    return dossier


def add_to(demo: "Demo") -> Counter[str]:
    """Add the follow-up cases to a built demo; the states of the dossiers it added."""
    client = next(c for pool in demo.clients.values() for c in pool)
    followups.save_portability_request(client, by=demo.manager, changes={
        "requested_on": demo.today - timedelta(days=5), "channel": "customer_space",
        "notes": "Export des dossiers patients demandé avant changement de logiciel."})
    solution = next(iter(demo.main.values()))
    followups.save_solution_change(solution, by=demo.manager, changes={
        "changed_on": demo.today - timedelta(days=4), "affects_conformity": True,
        "description": "Nouveau module d'échange avec la messagerie sécurisée de santé."})
    followups.save_solution_change(solution, by=demo.manager, changes={
        "changed_on": demo.today - timedelta(days=90), "affects_conformity": False,
        "description": "Nouvelle charte graphique de l'interface."})
    return Counter({alsace_correction(demo).state: 1})
