"""Run an import job: stream the rows, check each batch against the database, write it, all or nothing.

One transaction holds the whole run. Each batch of rows is read, checked (its own consistency, then one
query per kind of lookup: clients, solutions, dossiers by reference, dossiers of the same clients, rows of this
job, validated PV pilotes) and written with bulk inserts: clients, solutions, dossiers with their `import`
history row (the chain's first link), their blockers and the job's row record. Later batches thus find
what earlier ones wrote (a duplicate reference or a second active dossier within the file is caught like
one in the database). At the end a dry run, or any error, rolls the transaction back: nothing is saved.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers import anchors, counters, deadlines, rules
from segurtrack.bulk_ids import ids_for_connection
from dossiers.models import (
    Blocker,
    Client,
    Dispositif,
    Dossier,
    HistoryEntry,
    PvPilote,
    Solution,
    State,
)

from . import checks
from . import columns as c
from .columns import HeaderError, map_header
from .models import ImportedDossier, ImportJob
from .reading import FileError, count_csv_rows, read_table

logger = logging.getLogger(__name__)
BATCH_SIZE = 500
MAX_ERRORS = 10_000
# Fields another release may add to the dossier; set when present (the VA fixes the scenario, DOMAIN.md §8).
_DOSSIER_FIELD_NAMES = {f.name for f in Dossier._meta.concrete_fields}
INACTIVE = (State.DRAFT, State.CANCELLED)
# Dossier fields an import sets from its columns (column name → model field), compared on a re-import.
DOSSIER_FIELDS = {
    "scenario": "scenario", "state": "state", "bdc_signed_on": "bdc_signed_on", "bdc_signer_name": "bdc_signer_name",
    "bdc_signature_type": "bdc_signature_type", "avance_filed_on": "avance_filed_on",
    "declared_amount": "avance_declared_amount", "avance_validated_on": "avance_validated_on",
    "avance_paid_on": "avance_paid_on", "avance_paid_amount": "avance_paid_amount", "deployed_on": "deployed_on",
    "va_signed_on": "va_signed_on", "va_signer_name": "va_signer_name", "solde_filed_on": "solde_filed_on",
    "solde_amount": "solde_amount", "solde_validated_on": "solde_validated_on", "solde_paid_on": "solde_paid_on",
    "solde_paid_amount": "solde_paid_amount",
}


class ProgressWriter:
    """Writes the job's progress through a second connection, so a poller sees it while the run's transaction
    is open (PostgreSQL only: SQLite would wait on its own write lock)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.connection = None
        if connection.vendor == "postgresql":
            self.connection = connections.create_connection("default")

    def __call__(self, done: int, total: int) -> None:
        if self.connection is None:
            return
        percent = min(99, done * 100 // total) if total else 0
        with self.connection.cursor() as cursor:
            cursor.execute(f"UPDATE {ImportJob._meta.db_table} SET progress = %s, rows = %s WHERE id = %s",
                           [percent, done, self.job_id])

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


class Importer:
    def __init__(self, job: ImportJob, *, today: date | None = None,
                 on_progress: Callable[[int, int], None] | None = None):
        self.job = job
        self.organisation_id = job.organisation_id
        self.user = job.user
        self.username = self.user.get_username() if self.user is not None else ""
        self.today = today or timezone.localdate()
        self.on_progress = on_progress
        self.errors: list[dict[str, Any]] = []
        self.error_count = 0
        self.rows = self.clients = self.solutions = self.dossiers = self.unchanged = 0
        self.dispositifs = {d.code.upper(): d for d in Dispositif.objects.select_related("couloir")}
        self.sink = ids_for_connection()
        self.now = timezone.now()
        self.counts = counters.Deltas()  # the run's dossiers counted once, at its end (counter rows locked briefly)

    # --- the run -------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Read, check and write every row; roll everything back on a dry run or any error."""
        job = self.job
        total = None
        if job.format == "csv":
            with job.file.open("rb") as handle:
                total = count_csv_rows(handle)
        with job.file.open("rb") as handle:
            table = read_table(handle, job.format)
            mapping = map_header(table.header)
            total = table.total if table.total is not None else total
            width = len(table.header)
            with transaction.atomic():
                batch: list[checks.Row] = []
                for number, cells in table.rows:
                    if all(c.text(cell) == "" for cell in cells):
                        continue
                    row = checks.parse(number, {name: cells[i] if i < len(cells) else None for i, name in mapping})
                    if any(c.text(cell) for cell in cells[width:]):
                        row.error("", _("Cellules remplies au-delà de la dernière colonne nommée."))
                    checks.check(row, self.today)
                    batch.append(row)
                    if len(batch) >= BATCH_SIZE:
                        self.process(batch)
                        batch = []
                        self.progress(total)
                if batch:
                    self.process(batch)
                if self.errors or job.dry_run:
                    transaction.set_rollback(True)
                else:
                    self.counts.apply()
        self.progress(total)

    def progress(self, total: int | None) -> None:
        if self.on_progress is not None:
            self.on_progress(self.rows, max(total or 0, self.rows))

    # --- one batch -----------------------------------------------------------------------------------------

    def process(self, batch: list[checks.Row]) -> None:
        self.rows += len(batch)
        org = self.organisation_id
        finess = {r["finess_geo"] for r in batch if r["finess_geo"]}
        sirets = {r["siret"] for r in batch if r["siret"]}
        by_finess: dict[str, Client] = {}
        by_siret: dict[str, Client] = {}
        if finess or sirets:
            for client in Client.objects.filter(organisation_id=org).filter(
                    Q(finess_geo__in=finess) | Q(siret__in=sirets)):
                if client.finess_geo:
                    by_finess.setdefault(client.finess_geo, client)
                if client.siret:
                    by_siret.setdefault(client.siret, client)
        names = {r["solution_name"] for r in batch if r["solution_name"]}
        solutions = {(s.name, s.version, s.dispositif_id): s
                     for s in Solution.objects.filter(organisation_id=org, name__in=names)}
        references = {r["reference"] for r in batch if r["reference"]}
        related = ("client", "solution", "dispositif")
        by_reference = {d.reference: d for d in Dossier.objects.filter(
            organisation_id=org, reference__in=references).select_related(*related)} if references else {}
        client_ids = {cl.pk for cl in [*by_finess.values(), *by_siret.values()]}
        of_client: dict[tuple[int, int], list[Dossier]] = defaultdict(list)
        for dossier in Dossier.objects.filter(organisation_id=org, client_id__in=client_ids).exclude(
                state=State.CANCELLED).select_related(*related):
            of_client[(dossier.client_id, dossier.dispositif_id)].append(dossier)
        known = {d.pk for d in by_reference.values()} | {d.pk for ds in of_client.values() for d in ds}
        this_job = dict(ImportedDossier.objects.filter(job=self.job, dossier_id__in=known).values_list(
            "dossier_id", "row")) if known else {}

        new_clients: dict[int, Client] = {}       # id(client) → client, created by this batch
        new_solutions: dict[tuple, Solution] = {}
        batch_references: dict[str, int] = {}
        batch_active: dict[tuple[int, int], int] = {}     # (id(client), dispositif id) → row number
        plans: list[tuple[checks.Row, Client, Solution, Dispositif]] = []
        for row in batch:
            dispositif = self.dispositifs.get((row["dispositif"] or "").upper())
            if row["dispositif"] and dispositif is None:
                row.error("dispositif", _("Dispositif inconnu : « %(code)s ».") % {"code": row["dispositif"]})
            client = self.client_for(row, by_finess, by_siret, new_clients)
            solution = None
            if dispositif is not None and row["solution_name"] and row["solution_version"]:
                key = (row["solution_name"], row["solution_version"], dispositif.pk)
                solution = solutions.get(key) or new_solutions.get(key)
                if solution is None:
                    solution = new_solutions[key] = Solution(
                        organisation_id=org, name=row["solution_name"][:200], version=row["solution_version"][:50],
                        dispositif=dispositif)
            if dispositif is not None and row["declared_amount"] and dispositif.ceiling_amount is not None and \
                    row["declared_amount"] > dispositif.ceiling_amount:
                row.error("declared_amount", _("Le montant déclaré dépasse le plafond du dispositif %(code)s (%(c)s).")
                          % {"code": dispositif.code, "c": rules.money(dispositif.ceiling_amount)})
            existing = None
            if row["reference"]:
                if row["reference"] in batch_references:
                    row.error("reference", _("Référence déjà présente à la ligne %(n)d du fichier.") % {
                        "n": batch_references[row["reference"]]})
                existing = by_reference.get(row["reference"])
            elif client is not None and client.pk and dispositif is not None:
                # No reference: the dossier is the same one when the client and dispositif hold one with these values.
                existing = next((d for d in of_client.get((client.pk, dispositif.pk), [])
                                 if not self.differences(d, row)), None)
            if existing is not None and not row.errors:
                if existing.pk in this_job:
                    row.error("reference", _("Même dossier qu'à la ligne %(n)d du fichier.") % {
                        "n": this_job[existing.pk]})
                else:
                    for column, message in self.differences(existing, row):
                        row.error(column, message)
                    if not row.errors:
                        self.unchanged += 1
                        continue
            if existing is None and client is not None and dispositif is not None and row["state"] and \
                    row["state"] not in INACTIVE:
                active = [d for d in of_client.get((client.pk, dispositif.pk), []) if d.state not in INACTIVE] \
                    if client.pk else []
                if active:
                    row.error("dispositif", _("Le client a déjà un dossier actif pour le dispositif %(code)s (%(ref)s, "
                                              "état « %(state)s ») : un seul par site et dispositif.") % {
                        "code": dispositif.code, "ref": active[0].reference, "state": State(active[0].state).label})
                elif (id(client), dispositif.pk) in batch_active:
                    row.error("dispositif", _("Le client a déjà un dossier actif pour ce dispositif à la ligne %(n)d "
                                              "du fichier : un seul par site et dispositif.") % {
                        "n": batch_active[(id(client), dispositif.pk)]})
            if row.errors:
                self.report(row)
                continue
            if row["reference"]:
                batch_references[row["reference"]] = row.number
            if row["state"] not in INACTIVE:
                batch_active[(id(client), dispositif.pk)] = row.number
            plans.append((row, client, solution, dispositif))
        if plans:
            self.write(plans, of_client, batch_active)

    def report(self, row: checks.Row) -> None:
        """Keep the row's errors, up to MAX_ERRORS in all (then only counted): memory stays bounded."""
        for column, message in row.errors:
            self.error_count += 1
            if len(self.errors) < MAX_ERRORS:
                self.errors.append({"row": row.number, "column": column, "message": message})

    def client_for(self, row: checks.Row, by_finess: dict, by_siret: dict, new: dict) -> Client | None:
        finess, siret = row["finess_geo"], row["siret"]
        if not finess and not siret:
            return None
        known = by_finess.get(finess) if finess else None
        other = by_siret.get(siret) if siret else None
        if known is not None and other is not None and known is not other:
            row.error("siret", _("Ce SIRET est celui d'un autre client (%(other)s) que ce FINESS (%(known)s).") % {
                "other": other.name, "known": known.name})
            return None
        client = known or other
        if client is not None:
            return client
        for name in ("client_kind", "department"):
            if not row[name] and not any(column == name for column, _m in row.errors):
                row.error(name, _("Obligatoire pour créer le client « %(name)s ».") % {"name": row["client_name"]})
        if row.errors:
            return None
        client = Client(organisation_id=self.organisation_id, name=row["client_name"][:200], kind=row["client_kind"],
                        finess_geo=finess, finess_legal=row["finess_legal"] or "", siret=siret,
                        department=row["department"], vat_liable=row["vat_liable"] is not False)
        new[id(client)] = client
        if finess:
            by_finess[finess] = client
        if siret:
            by_siret[siret] = client
        return client

    @staticmethod
    def differences(dossier: Dossier, row: checks.Row) -> list[tuple[str, str]]:
        """The columns where the row says otherwise than the existing dossier (an import never overwrites)."""
        found: list[tuple[str, str]] = []

        def differ(column: str, stored: Any, given: Any) -> None:
            if (stored or None) != (given or None):
                shown = stored.strftime("%d/%m/%Y") if isinstance(stored, date) else stored
                found.append((column, _("Le dossier « %(ref)s » existe déjà avec « %(stored)s » ici : un import ne "
                                        "modifie jamais un dossier existant.") % {
                    "ref": dossier.reference, "stored": "" if shown is None else shown}))

        for column, attribute in DOSSIER_FIELDS.items():
            if column in row.values or attribute == "state":
                differ(column, getattr(dossier, attribute), row[column])
        differ("dispositif", dossier.dispositif.code, (row["dispositif"] or "").upper() or None)
        differ("solution_name", dossier.solution.name, row["solution_name"])
        differ("solution_version", dossier.solution.version, row["solution_version"])
        for column in ("finess_geo", "siret"):
            if row[column]:
                differ(column, getattr(dossier.client, column), row[column])
        return found

    # --- writing -------------------------------------------------------------------------------------------

    def write(self, plans: list[tuple[checks.Row, Client, Solution, Dispositif]],
              of_client: dict[tuple[int, int], list[Dossier]], batch_active: dict) -> None:
        clients = {id(cl): cl for _r, cl, _s, _d in plans if cl.pk is None}
        Client.objects.bulk_create(clients.values())
        solutions = {id(s): s for _r, _c, s, _d in plans if s.pk is None}
        Solution.objects.bulk_create(solutions.values())
        self.clients += len(clients)
        self.solutions += len(solutions)
        ids = self.sink.reserve_ids(Dossier, len(plans))
        validated = set(PvPilote.objects.filter(
            solution_id__in={s.pk for _r, _c, s, _d in plans}, status=PvPilote.Status.VALIDATED).values_list(
            "solution_id", flat=True))
        dossiers, entries, blockers, links = [], [], [], []
        active_new: dict[tuple[int, int], Dossier] = {}
        for (row, client, solution, dispositif), pk in zip(plans, ids):
            dossier = self.dossier(pk, row, client, solution, dispositif)
            entry = HistoryEntry(dossier_id=pk, seq=1, at=self.now, user=self.user, username=self.username,
                                 action="import", from_state="", to_state=dossier.state,
                                 data={"import": self.job.pk, "file": self.job.filename, "row": row.number,
                                       "values": {k: v for k, v in row.raw.items() if v}}, prev_hash="")
            entry.hash = entry.compute_hash()
            dossier.history_seq, dossier.history_hash = 1, entry.hash
            dossier.history_anchor = anchors.anchor(pk, 1, entry.hash)
            dossiers.append(dossier)
            entries.append(entry)
            links.append(ImportedDossier(job=self.job, dossier_id=pk, row=row.number))
            if dossier.state not in INACTIVE:
                active_new[(client.pk, dispositif.pk)] = dossier
        for dossier in dossiers:
            key = (dossier.client_id, dossier.dispositif_id)
            other = active_new.get(key)
            if other is dossier:
                other = None
            other = other or next((d for d in of_client.get(key, []) if d.state not in INACTIVE), None)
            blockers.extend(Blocker(dossier_id=dossier.pk, organisation_id=dossier.organisation_id,
                                    transition=rules.NEXT_STEP[dossier.state], rule=code)
                            for code in self.blockers(dossier, dossier.solution_id in validated, other))
        Dossier.objects.bulk_create(dossiers)
        HistoryEntry.objects.bulk_create(entries)
        Blocker.objects.bulk_create(blockers)
        self.counts.add_dossiers(dossiers, blockers)
        deadlines.keep(dossier_ids=[d.pk for d in dossiers])  # one statement per batch, in the run's transaction
        ImportedDossier.objects.bulk_create(links)
        self.dossiers += len(dossiers)

    def dossier(self, pk: int, row: checks.Row, client: Client, solution: Solution, dispositif: Dispositif) -> Dossier:
        state = row["state"]
        values = {attribute: row[column] for column, attribute in DOSSIER_FIELDS.items() if column != "state"}
        for name in ("scenario", "bdc_signer_name", "bdc_signature_type", "va_signer_name"):
            values[name] = (values[name] or "")[:200 if name != "bdc_signature_type" else 30]
        paid = row["avance_paid_amount"]
        dossier = Dossier(
            pk=pk, organisation_id=self.organisation_id, client=client, client_name=client.name, solution=solution,
            dispositif=dispositif,
            reference=row["reference"] or f"SEG-{pk:06d}", state=state,
            state_changed_at=self.now, declared_amount=row["declared_amount"],
            avance_paid_total=paid if paid is not None else 0,
            cancellation_from_state=checks.cancellation_from_state(row) if state == State.CANCELLATION_REQUESTED else "",
            **values,
        )
        if "va_scenario" in _DOSSIER_FIELD_NAMES and row["va_signed_on"]:
            dossier.va_scenario = row["scenario"] or ""
        return dossier

    @staticmethod
    def blockers(dossier: Dossier, validated_pv: bool, other_active: Dossier | None) -> list[str]:
        """rules.next_step_blockers with what the rules would query already known: an imported dossier has no
        document nor amendment; the PV pilotes and the other active dossier were looked up for the batch."""
        transition = rules.NEXT_STEP.get(dossier.state)
        if transition is None:
            return []
        context = rules.Context(dossier, transition, {})
        context.__dict__.update(document_kinds=frozenset(), has_validated_pv_pilote=validated_pv,
                                last_amendment=None, other_active_dossier=other_active)
        return [item.rule.code for item in rules.checklist(context)
                if item.status == "failed" and item.rule.severity is rules.Severity.BLOCK]


def execute(job_id: int, *, on_progress: Callable[[int, int], None] | None = None) -> ImportJob:
    """Run the job and record its outcome (status, counts, errors); never raises for a bad file."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    writer = ProgressWriter(job.pk)

    def progress(done: int, total: int) -> None:
        writer(done, total)
        if on_progress is not None:
            on_progress(done, total)

    importer = Importer(job, on_progress=progress)
    status = ImportJob.Status.DONE
    try:
        importer.run()
    except HeaderError as error:
        importer.errors = error.errors
        status = ImportJob.Status.FAILED
    except FileError as error:
        importer.errors.append({"row": importer.rows + 1, "column": "", "message": str(error)})
        status = ImportJob.Status.FAILED
    except Exception:
        logger.exception("Import %s failed", job_id)
        importer.errors.append({"row": 0, "column": "", "message": _(
            "L'import a échoué sur une erreur inattendue ; rien n'a été enregistré.")})
        status = ImportJob.Status.FAILED
    finally:
        writer.close()
    if importer.error_count > len(importer.errors):
        importer.errors.append({"row": 0, "column": "", "message": _(
            "… et %(n)d autres erreurs non détaillées : corrigez les premières puis relancez.") % {
            "n": importer.error_count - len(importer.errors)}})
    saved_nothing = bool(importer.errors) and not job.dry_run
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, progress=100, rows=importer.rows, unchanged=importer.unchanged, errors=importer.errors,
        created_clients=0 if saved_nothing else importer.clients,
        created_solutions=0 if saved_nothing else importer.solutions,
        created_dossiers=0 if saved_nothing else importer.dossiers, finished_at=timezone.now())
    job.refresh_from_db()
    return job
