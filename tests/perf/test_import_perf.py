"""Benchmark of imports (not in the default run): `pytest tests/perf/test_import_perf.py -s`, see docs/benchmarks.md.

For each size (PERF_IMPORT_ROWS, default "10000,100000") one CSV file of sample rows at mixed states is written to
disk, then: the floor — the same rows COPY-loaded through demo/generation/bulk.py (generate_dossiers' path: ids reserved,
rows streamed by COPY, one `import` history row each with its chained hash, no checks), rolled back; the import
as a dry run; the dry run again under tracemalloc for its peak Python memory; the import for real.
"""
from __future__ import annotations

import csv
import os
import time
import tracemalloc
from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from demo.generation.bulk import Table, chain_hash, data_json, sink_for_connection
from dossiers.models import Client, Dispositif, Dossier, HistoryEntry, Solution
from imports import checks, importer, samples, services
from imports import columns as c
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
SIZES = [int(n) for n in os.environ.get("PERF_IMPORT_ROWS", "10000,100000").split(",") if n]
MAX_RATIO = 3.0
FIGURES: list[str] = []

DOSSIER_COLUMNS = ["id", "organisation_id", "client_id", "solution_id", "dispositif_id", "reference", "scenario", "state",
                   "state_changed_at", "bdc_signed_on", "bdc_signer_name", "bdc_signature_type", "avance_filed_on",
                   "avance_declared_amount", "declared_amount", "avance_validated_on", "avance_paid_on",
                   "avance_paid_amount", "avance_paid_total", "deployed_on", "va_signed_on", "va_signer_name",
                   "solde_filed_on", "solde_amount", "solde_validated_on", "solde_paid_on", "solde_paid_amount",
                   "history_seq", "history_hash", "created_at", "updated_at"]


def copy_floor(path: str, organisation_id: int, username: str, user_id: int) -> int:
    """The same rows loaded the generator's way: parsed, then COPY; clients deduplicated by identifier."""
    sink = sink_for_connection()
    tables = {"client": Table(Client, ["id", "organisation_id", "name", "kind", "finess_geo", "finess_legal", "siret",
                                       "department", "vat_liable", "created_at"]),
              "dossier": Table(Dossier, DOSSIER_COLUMNS),
              "history": Table(HistoryEntry, ["dossier_id", "seq", "at", "user_id", "username", "action",
                                              "from_state", "to_state", "data", "prev_hash", "hash"])}
    dispositifs = {d.code: d.pk for d in Dispositif.objects.all()}
    solutions: dict[tuple, int] = {}
    clients: dict[str, int] = {}
    now = timezone.now()
    index = c.header_index()
    count = 0
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        names = [index[c.normalise_header(h)] for h in next(reader)]
        while True:
            batch = [dict(zip(names, cells)) for _, cells in zip(range(5000), reader)]
            if not batch:
                break
            new_clients, dossier_rows, history_rows = [], [], []
            ids = sink.reserve_ids(Dossier, len(batch))
            for raw, pk in zip(batch, ids):
                row = checks.parse(0, raw)
                key = row["finess_geo"] or row["siret"]
                if key not in clients:
                    clients[key] = sink.reserve_ids(Client, 1)[0]
                    new_clients.append((clients[key], organisation_id, row["client_name"], row["client_kind"],
                                        row["finess_geo"], "", row["siret"], row["department"],
                                        row["vat_liable"] is not False, now))
                skey = (row["solution_name"], row["solution_version"], dispositifs[row["dispositif"]])
                if skey not in solutions:
                    solutions[skey] = Solution.objects.create(organisation_id=organisation_id, name=skey[0],
                                                              version=skey[1], dispositif_id=skey[2]).pk
                data = data_json({"import": 0, "row": count + 2, "values": {k: v for k, v in raw.items() if v}})
                digest = chain_hash(dossier_id=pk, seq=1, at=now, username=username, action="import", from_state="",
                                    to_state=row["state"], data=data, prev_hash="")
                history_rows.append((pk, 1, now, user_id, username, "import", "", row["state"], data, "", digest))
                paid = row["avance_paid_amount"]
                dossier_rows.append((
                    pk, organisation_id, clients[key], solutions[skey], dispositifs[row["dispositif"]],
                    row["reference"], row["scenario"], row["state"], now, row["bdc_signed_on"],
                    row["bdc_signer_name"], row["bdc_signature_type"], row["avance_filed_on"], row["declared_amount"],
                    row["declared_amount"], row["avance_validated_on"], row["avance_paid_on"], paid,
                    paid or 0, row["deployed_on"], row["va_signed_on"], row["va_signer_name"], row["solde_filed_on"],
                    row["solde_amount"], row["solde_validated_on"], row["solde_paid_on"], row["solde_paid_amount"],
                    1, digest, now, now))
                count += 1
            sink.begin_batch()
            sink.write(tables["client"], new_clients)
            sink.write(tables["dossier"], dossier_rows)
            sink.write(tables["history"], history_rows)
            sink.end_batch([Client, Dossier, HistoryEntry])
    return count


def _run(job_kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    job = importer.execute(services.create_job(**job_kwargs).pk)
    return time.perf_counter() - started, job


@pytest.mark.parametrize("size", SIZES)
def test_import_against_the_copy_floor(size, tmp_path, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "documents"), "base_url": None}}}
    membership = MembershipFactory(role="manager")
    path = str(tmp_path / f"import-{size}.csv")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        samples.write_csv(samples.sample_rows(size, today=timezone.localdate()), handle)
    megabytes = os.path.getsize(path) / 1_048_576

    started = time.perf_counter()
    with transaction.atomic():
        loaded = copy_floor(path, membership.organisation_id, membership.user.username, membership.user_id)
        transaction.set_rollback(True)
    floor = time.perf_counter() - started
    assert loaded == size

    def job(dry_run: bool) -> dict:
        handle = open(path, "rb")
        return {"organisation": membership.organisation, "by": membership.user, "dry_run": dry_run,
                "background": False, "upload": File(handle, name=os.path.basename(path))}

    dry_seconds, dry = _run(job(True))
    assert (dry.errors, dry.created_dossiers) == ([], size)
    # Before the commit, so the measured run writes every row as the commit will (then rolls back).
    tracemalloc.start()
    _run(job(True))
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    commit_seconds, real = _run(job(False))
    assert (real.errors, real.created_dossiers) == ([], size)
    assert Dossier.objects.filter(organisation=membership.organisation).count() == size

    line = (f"| {size:,} | {megabytes:.1f} MB | {floor:.1f} s | {dry_seconds:.1f} s ({dry_seconds / floor:.2f}×) | "
            f"{commit_seconds:.1f} s ({commit_seconds / floor:.2f}×) | {size / commit_seconds:,.0f} | "
            f"{peak / 1_048_576:.1f} MB |")
    FIGURES.append(line)
    print(f"\n{connection.vendor} {datetime.now(dt_timezone.utc):%Y-%m-%d %H:%M} UTC, load "
          f"{os.getloadavg()[0]:.1f}\n| rows | CSV | COPY floor | dry run | commit | rows/s (commit) | peak memory |\n"
          + "\n".join(FIGURES))
    # The goal is ≤ 3× the floor (docs/benchmarks.md says where it stands); this catches a path gone row by row.
    assert commit_seconds / floor < 10 * MAX_RATIO
