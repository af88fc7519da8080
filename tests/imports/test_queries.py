"""An import costs a fixed number of queries per batch of rows, whatever the batch holds."""
from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from imports import importer
from imports.models import ImportJob

from .conftest import csv_file, rows

pytestmark = pytest.mark.django_db

# Job read, dispositifs, savepoint, release, outcome saved and read back; then per batch: clients, solutions,
# dossiers by reference, dossiers of the clients, rows of this job, the id sequence (first batch) and its ids,
# PV pilotes, six bulk inserts (clients, solutions, dossiers, history, blockers, job rows). A run that saves
# adds its dossiers to the kept counters at its end: one upsert per counter table.
FIXED = 6 + 2
PER_BATCH = 14


def _job(organisation, manager, count: int, *, dry_run: bool) -> ImportJob:
    upload = csv_file(rows(count))
    job = ImportJob(organisation=organisation, user=manager, filename="f.csv", sha256="0" * 64, dry_run=dry_run)
    job.file.save("f.csv", ContentFile(upload.read()), save=False)
    job.save()
    return job


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize("count", [50, 500])
def test_one_batch_costs_the_same_queries_for_50_or_500_rows(organisation, manager, django_assert_max_num_queries,
                                                              count, dry_run):
    job = _job(organisation, manager, count, dry_run=dry_run)
    with django_assert_max_num_queries(FIXED + PER_BATCH):
        done = importer.execute(job.pk)
    assert (done.errors, done.created_dossiers) == ([], count)


def test_queries_grow_with_batches_not_rows(organisation, manager, django_assert_max_num_queries, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 50)
    job = _job(organisation, manager, 500, dry_run=False)
    with django_assert_max_num_queries(FIXED + 10 * PER_BATCH):
        done = importer.execute(job.pk)
    assert (done.errors, done.created_dossiers) == ([], 500)
