"""Generate realistic dossiers in bulk (benchmark data): every state and dispositif, chained history, COPY loading.

Each batch is generated from (seed, batch number) alone and written in one transaction: PostgreSQL COPY on
PostgreSQL, executemany INSERTs elsewhere (SQLite, up to MAX_WITHOUT_POSTGRESQL dossiers). Nothing goes
through the services: the rows are built to be exactly what the services would have stored — the history
replays through the model's transitions, the hash chain verifies, the blockers are the rules' verdict —
and tests/demo/test_generate_dossiers.py checks that they are.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import queue
import random
import sys
import time
import traceback
from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from demo.generation.bulk import check_chain_hash, sink_for_connection
from demo.generation.generator import Generator
from demo.generation.plans import DispositifInfo, OrgInfo, SolutionInfo, chain_samples
from demo.generation.vocabulary import (
    BRANDS, DEFAULT_PROFILE, MAIN_TABLES, MAX_WITHOUT_POSTGRESQL, PROFILES, STATE_WEIGHTS,
)
from dossiers import counters
from dossiers.models import Dispositif, PvPilote, Solution
from organisations.models import Membership, Organisation, Role


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
