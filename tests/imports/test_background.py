"""Large files run in the background: the API answers at once (running), the Celery worker runs the job once."""
from __future__ import annotations

import os

import pytest
from django.urls import reverse

from dossiers.models import Dossier
from imports import services, tasks
from imports.models import ImportJob
from tests.reports.test_worker import Worker, transactional, wait_for

from .conftest import csv_file, rows, upload


@pytest.mark.django_db
def test_a_large_file_answers_running_then_the_task_runs_it_once(api, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 100)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        body = upload(api, csv_file(rows(40)), dry_run=False).json()
    assert (body["status"], body["progress"], body["rows"]) == ("running", 0, 0)
    assert Dossier.objects.count() == 0 and len(callbacks) == 1
    assert tasks.run_import(body["id"]) == "done"
    assert tasks.run_import(body["id"]) == "already started"
    detail = api.get(reverse("imports_api:import-detail", args=[body["id"]])).json()
    assert (detail["status"], detail["progress"], detail["created"]["dossiers"]) == ("done", 100, 40)
    assert Dossier.objects.count() == 40


class StorageWorker(Worker):
    """The reports' worker, storing files where this test's process does (the uploaded file is read from there)."""

    def __init__(self, log, documents):
        super().__init__(log)
        self.documents = documents

    def start(self) -> None:
        os.environ["DOCUMENT_ROOT"] = str(self.documents)
        try:
            super().start()
        finally:
            os.environ.pop("DOCUMENT_ROOT", None)


@pytest.fixture(scope="module")
def import_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        started = StorageWorker(tmp_path_factory.mktemp("celery") / "worker.log",
                                tmp_path_factory.mktemp("documents"))
        try:
            started.start()
            yield started
        finally:
            started.stop()


@pytest.mark.celery_worker
@transactional
def test_a_real_worker_imports_a_large_file(import_worker, api, monkeypatch, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(import_worker.documents), "base_url": None}}}
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 100)
    background = import_worker
    with background.active():
        body = upload(api, csv_file(rows(600, prefix="BG")), dry_run=False).json()
        assert body["status"] in ("running", "done")
        job = wait_for(lambda: ImportJob.objects.filter(pk=body["id"], status="done").first(),
                       what="the worker to finish the import")
        background.finished("imports.tasks.run_import", 1)
    assert (job.errors, job.created_dossiers, job.progress, job.rows) == ([], 600, 100, 600)
    assert Dossier.objects.filter(reference__startswith="BG-").count() == 600


@transactional
def test_progress_is_visible_while_the_run_is_still_open(organisation, manager, monkeypatch):
    """The progress goes through a second connection: a reader sees it before the run's transaction ends."""
    from django.core.files.base import ContentFile

    from imports import importer

    monkeypatch.setattr(importer, "BATCH_SIZE", 10)
    job = ImportJob(organisation=organisation, user=manager, filename="f.csv", sha256="0" * 64, dry_run=True)
    job.file.save("f.csv", ContentFile(csv_file(rows(30)).read()), save=False)
    job.save()
    seen = []

    def progress(done: int, total: int) -> None:
        if done < total:
            seen.append(ImportJob.objects.values_list("progress", "rows").get(pk=job.pk))

    importer.execute(job.pk, on_progress=progress)
    assert seen == [(33, 10), (66, 20)]
