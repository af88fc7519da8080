"""Every file in object storage (issue 17): documents, PV pilotes, the VA a signatory returns, import files and
exports written by the worker go to the S3 bucket (moto) through Django's storage API; downloads stay
permission-checked and stream through the app; nothing stays in the bucket after a refused upload, a failure
inside the transaction or a failed commit."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.urls import reverse

from dossiers import audit, services
from dossiers.models import Document, PvPilote, State
from reports import tasks
from reports.models import ExportJob
from imports import services as import_services
from imports.models import ImportJob
from segurtrack.errors import InvalidInput
from varequests import services as va_services

from ..factories import PDF, SolutionFactory, pdf_upload, walk_to
from ..imports.conftest import csv_file, rows, upload as upload_import, xlsx_file
from ..pages.conftest import as_manager  # noqa: F401 (a signed-in page client)
from ..reports.test_worker import transactional

ROOT = Path(__file__).resolve().parents[2]
NOT_A_PDF = b"MZ\x90\x00 not a pdf at all"


class Boom(Exception):
    pass


def boom(*args, **kwargs):
    raise Boom("failure after the file was written")


def download(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


@pytest.fixture
def dossier(manager_membership):
    return walk_to(State.DRAFT, membership=manager_membership)


# --- the settings ----------------------------------------------------------------------------------------------

def storage_in_a_fresh_process(**env: str) -> dict:
    script = ("import django, json; django.setup(); from django.core.files.storage import storages; "
              "s = storages['default']; print(json.dumps({'class': type(s).__name__, "
              "'bucket': getattr(s, 'bucket_name', None), 'endpoint': getattr(s, 'endpoint_url', None), "
              "'region': getattr(s, 'region_name', None), 'location': getattr(s, 'location', None), "
              "'overwrite': getattr(s, 'file_overwrite', None)}))")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORAGE_BACKEND"))}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**clean, "DJANGO_SETTINGS_MODULE": "segurtrack.settings", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_storage_backend_s3_reads_the_bucket_endpoint_region_and_prefix_from_the_environment():
    chosen = storage_in_a_fresh_process(
        STORAGE_BACKEND="s3", AWS_STORAGE_BUCKET_NAME="segur-docs", AWS_S3_ENDPOINT_URL="http://minio:9000",
        AWS_S3_REGION_NAME="fr-par", AWS_LOCATION="vendor-a", AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s")
    assert chosen == {"class": "S3Storage", "bucket": "segur-docs", "endpoint": "http://minio:9000",
                      "region": "fr-par", "location": "vendor-a", "overwrite": False}


def test_the_local_filesystem_stays_the_default():
    assert storage_in_a_fresh_process()["class"] == "FileSystemStorage"


def test_an_unknown_storage_backend_is_refused_at_start():
    script = "import django; django.setup()"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "segurtrack.settings",
                                 "STORAGE_BACKEND": "nfs"})
    assert result.returncode != 0 and "STORAGE_BACKEND" in result.stderr


# --- documents and PV pilotes ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_document_goes_to_the_bucket_and_downloads_through_the_checked_views(s3, api, outsider_api, dossier,
                                                                                 as_manager):  # noqa: F811
    response = api.post(reverse("api:document-list", args=[dossier.pk]),
                        {"kind": "bdc", "file": pdf_upload("bon de commande.pdf")}, format="multipart")
    assert response.status_code == 201, response.content
    document = Document.objects.get(pk=response.json()["id"])
    assert s3.keys() == [document.file.name]
    assert re.fullmatch(rf"org{dossier.organisation_id}/dossier{dossier.pk}/[0-9a-f]{{32}}\.pdf", document.file.name)
    assert s3.read(document.file.name) == PDF
    api_url = reverse("api:document-download", args=[dossier.pk, document.pk])
    through_api = api.get(api_url)
    assert download(through_api) == PDF
    assert through_api["Content-Disposition"].startswith("attachment")
    assert "bon de commande.pdf" in through_api["Content-Disposition"]
    assert through_api["X-Content-Type-Options"] == "nosniff"
    assert download(as_manager.get(reverse("document-download", args=[document.pk]))) == PDF
    # Another organisation's member gets the same 404 as for a missing document; no URL to the bucket anywhere.
    assert outsider_api.get(api_url).status_code == 404
    assert "amazonaws" not in through_api.get("Location", "")


@pytest.mark.django_db
def test_a_refused_upload_writes_nothing_to_the_bucket(s3, api, manager, dossier, settings):
    response = api.post(reverse("api:document-list", args=[dossier.pk]),
                        {"kind": "bdc", "file": SimpleUploadedFile("x.pdf", NOT_A_PDF)}, format="multipart")
    assert response.status_code == 400
    settings.DOCUMENT_MAX_BYTES = 10
    with pytest.raises(InvalidInput):
        services.add_document(dossier.pk, by=manager, kind="bdc", upload=pdf_upload())
    assert s3.keys() == [] and Document.objects.count() == 0


@pytest.mark.django_db
def test_a_failure_after_the_document_is_written_removes_it_from_the_bucket(s3, manager, dossier, monkeypatch):
    monkeypatch.setattr(services.documents, "refresh_blockers", boom)
    with pytest.raises(Boom):
        services.add_document(dossier.pk, by=manager, kind="bdc", upload=pdf_upload())
    assert s3.keys() == [] and Document.objects.count() == 0


@pytest.fixture
def failing_commit(monkeypatch):
    """The next COMMIT fails (as when the database goes away at that moment); later ones succeed."""
    real = connection.commit
    calls = []

    def commit():
        if not calls:
            calls.append(1)
            raise DatabaseError("the commit failed")
        return real()

    def arm():
        monkeypatch.setattr(connection, "commit", commit)
    return arm


@transactional
def test_a_failed_commit_leaves_no_document_in_the_bucket(s3, manager_membership, failing_commit):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    failing_commit()
    with pytest.raises(DatabaseError):
        services.add_document(dossier.pk, by=manager_membership.user, kind="bdc", upload=pdf_upload())
    assert s3.keys() == [] and Document.objects.count() == 0


@pytest.mark.django_db
def test_a_pv_pilote_goes_to_the_bucket_and_a_failure_removes_it(s3, api, manager, monkeypatch):
    solution = SolutionFactory(organisation=api.membership.organisation)
    pv = services.add_pv_pilote(solution, by=manager, signed_on=date(2024, 6, 1), status="validated",
                                upload=pdf_upload("pv.pdf"))
    assert s3.keys() == [pv.file.name]
    assert download(api.get(reverse("api:pv-pilote-download", args=[solution.pk, pv.pk]))) == PDF
    monkeypatch.setattr(audit, "record_pv_pilote", boom)
    with pytest.raises(Boom):
        services.add_pv_pilote(solution, by=manager, signed_on=date(2024, 6, 2), status="validated",
                               upload=pdf_upload("pv2.pdf"))
    assert s3.keys() == [pv.file.name] and PvPilote.objects.count() == 1


@pytest.mark.django_db
def test_the_va_a_signatory_returns_goes_to_the_bucket_and_a_failure_removes_it(s3, manager, manager_membership,
                                                                                monkeypatch):
    deployed = walk_to(State.DEPLOYED, membership=manager_membership)
    before = s3.keys()
    va_request = va_services.request_va(deployed.pk, by=manager, email="j.martin@clinique.example",
                                        name="Dr Jeanne Martin")
    monkeypatch.setattr(va_services.outbox, "enqueue", boom)
    with pytest.raises(Boom):
        va_services.return_va(va_request.pk, upload=pdf_upload("va.pdf"))
    assert s3.keys() == before
    monkeypatch.undo()
    returned = va_services.return_va(va_request.pk, upload=pdf_upload("va.pdf"))
    assert s3.read(returned.document.file.name) == PDF and len(s3.keys()) == len(before) + 1


# --- import files and exports ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_import_file_is_stored_read_back_and_reported_from_the_bucket(s3, api):
    bad = rows(3)
    bad[1]["finess_geo"] = "123"
    response = upload_import(api, csv_file(bad))
    assert response.status_code in (200, 201), response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert s3.keys() == [job.file.name]
    report = download(api.get(reverse("imports_api:import-report", args=[job.pk]))).decode("utf-8-sig")
    # The report copies the uploaded rows from the stored file, with the error beside the bad one.
    assert len(report.splitlines()) == 4 and "123" in report, report
    # A spreadsheet is read back from the bucket too (openpyxl seeks in the spooled copy).
    spreadsheet = upload_import(api, xlsx_file(rows(2, start=10)))
    assert spreadsheet.status_code == 201 and spreadsheet.json()["status"] == "done", spreadsheet.content
    assert len(s3.keys()) == 2


@pytest.mark.django_db
def test_a_refused_or_failed_import_file_leaves_nothing_in_the_bucket(s3, api, manager_membership, monkeypatch):
    assert upload_import(api, SimpleUploadedFile("vide.csv", b"")).status_code == 400
    monkeypatch.setattr(import_services.ImportJob, "save", boom)
    with pytest.raises(Boom):
        import_services.create_job(organisation=manager_membership.organisation, by=manager_membership.user,
                                   upload=csv_file(rows(2)), dry_run=True, background=False)
    assert s3.keys() == []


@pytest.mark.django_db
def test_an_export_built_by_the_task_is_written_to_the_bucket_and_downloaded_through_the_api(
        s3, api, manager_membership, django_capture_on_commit_callbacks):
    walk_to(State.AVANCE_PAID, membership=manager_membership)
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(reverse("reports:export-list"), {"kind": "dossiers", "format": "csv"}, format="json")
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert tasks.run_export(job_id) == "done"
    job = ExportJob.objects.get(pk=job_id)
    assert job.file.name in s3.keys()
    body = download(api.get(reverse("reports:export-download", args=[job_id])))
    assert body == s3.read(job.file.name) and len(body.decode("utf-8-sig").splitlines()) == 2


# --- what the code may not do ------------------------------------------------------------------------------------

FORBIDDEN = [
    (re.compile(r"\.file\.path\b|\.path\b\s*\)|FieldFile\.path"), "a stored file's local path"),
    (re.compile(r"\bMEDIA_ROOT\b|\bDOCUMENT_ROOT\b"), "the local media directory"),
    (re.compile(r"open\(\s*(settings|os\.path\.join\(settings)"), "a file opened under a settings directory"),
    (re.compile(r"\.file\.url\b|storage\.url\("), "a URL to the store (downloads go through the checked views)"),
]


def test_application_code_reaches_files_only_through_the_storage_api():
    """`.path` and the media directory exist only on the filesystem storage: code using them breaks on S3."""
    offences = []
    for app in ("dossiers", "imports", "varequests", "webhooks", "organisations", "faqref", "segurtrack"):
        for source in (ROOT / app).rglob("*.py"):
            if "migrations" in source.parts or source.name == "settings.py" or "management" in source.parts:
                continue
            for number, line in enumerate(source.read_text().splitlines(), 1):
                offences += [f"{source.relative_to(ROOT)}:{number}: {what}: {line.strip()}"
                             for pattern, what in FORBIDDEN if pattern.search(line)]
    assert offences == []


@pytest.mark.django_db
def test_an_export_whose_row_cannot_be_saved_leaves_no_file_in_the_bucket(s3, api, manager_membership, monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(reverse("reports:export-list"), {"kind": "dossiers", "format": "csv"}, format="json")
    job_id = response.json()["id"]
    monkeypatch.setattr(ExportJob, "save", boom)
    assert tasks.run_export(job_id) == "failed"
    assert s3.keys() == [] and ExportJob.objects.get(pk=job_id).status == ExportJob.Status.FAILED
