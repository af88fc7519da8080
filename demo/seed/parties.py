"""The demo's people, solutions and clients: who works there, what they sell, and to whom."""
from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import luhn

from dossiers import services
from dossiers.models import Client, Dispositif, PvPilote, Solution
from organisations.models import Membership, Organisation, Role

from .data import CITIES, CLIENT_NAMES, DEMO_ORGANISATION, DEMO_USERS, KINDS, PEOPLE, SOLUTIONS, Plan
from .pdf import pdf_upload


class Parties:
    """The organisation, its members, solutions and clients; `random` is seeded so every build looks the same."""

    def __init__(self, password: str, seed: int = 2024):
        self.password = password
        self.rng = random.Random(seed)
        self.today = timezone.localdate()
        self.identifiers = 0
        self.clients: dict[str, list[Client]] = {}
        self.used: set[tuple[int, int]] = set()   # (id(client), dispositif) pairs holding a dossier

    def people(self) -> None:
        self.organisation = Organisation.objects.create(name=DEMO_ORGANISATION)
        User = get_user_model()
        self.members: dict[str, Membership] = {}
        # One hash for the three accounts: hashing is deliberately slow, and they share the password.
        hashed = make_password(self.password)
        for username, role in DEMO_USERS:
            user = User.objects.filter(username=username).first() or User(username=username)
            user.first_name, user.last_name = "Démo", str(Role(role).label)
            user.email = f"{username}@demo.segurtrack.invalid"
            user.password = hashed
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
        # Each client checked on its own (identifiers, choices); they are saved together by `save_clients`.
        client.full_clean(validate_unique=False, validate_constraints=False)
        self.clients.setdefault(couloir, []).append(client)
        return client

    def save_clients(self) -> None:
        Client.objects.bulk_create([client for pool in self.clients.values() for client in pool if client.pk is None])

    def client_for(self, plan: Plan) -> Client:
        dispositif = plan.solution.dispositif
        esms_ready = "sign_va" in plan.steps or plan.variant % 2 == 0
        for client in self.clients.get(dispositif.couloir_id, []):
            ready = client.ans_contract_signed_on is not None and client.cpe_cards and client.software_certificates
            if (id(client), dispositif.pk) not in self.used and (not client.is_esms or bool(ready) == esms_ready):
                break
        else:
            client = self.new_client(dispositif.couloir_id, esms_ready=esms_ready)
        self.used.add((id(client), dispositif.pk))
        return client
