"""Export jobs: queued on commit, run as a task with progress, downloaded by their organisation only."""
import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from dossiers.models import State
from reports import exports
from reports.models import ExportJob

from ..factories import walk_to
from .conftest import bulk_dossiers, deployed, url


def start(api, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url("export-list"), body, format="json")
    return response


def download_rows(api, job_id) -> list[list[str]]:
    response = api.get(url("export-download", job_id))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_a_pending_va_export_runs_to_100_percent_and_downloads_the_report_rows(
        api, manager_membership, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    old, recent = deployed(manager_membership, 80), deployed(manager_membership, 5)
    bulk_dossiers(manager_membership, 3, state=State.VA_SIGNED)
    response = start(api, django_capture_on_commit_callbacks, kind="pending_va", format="csv")
    assert response.status_code == 202
    job = response.json()
    assert response["Location"] == job["url"] == url("export-detail", job["id"])
    status = api.get(job["url"]).json()
    assert (status["status"], status["progress"], status["row_count"]) == ("done", 100, 2)
    assert status["download_url"] == url("export-download", job["id"])
    rows = download_rows(api, job["id"])
    assert rows[0][0] == "Référence" and [r[0] for r in rows[1:]] == [old.reference, recent.reference]


def test_progress_is_written_chunk_by_chunk(manager_membership, monkeypatch):
    from reports import tasks

    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    calls = []
    assert list(exports.counting(iter("abcde"), 5, lambda done, total: calls.append((done, total)))) == list("abcde")
    assert calls == [(2, 5), (4, 5), (5, 5)]
    bulk_dossiers(manager_membership, 5)
    job = ExportJob.objects.create(organisation=manager_membership.organisation, kind="dossiers", format="csv")
    with CaptureQueriesContext(connection) as captured:
        assert tasks.run_export(job.pk) == "done"
    updates = [q["sql"] for q in captured.captured_queries
               if q["sql"].startswith("UPDATE") and "row_count" in q["sql"] and "finished_at" not in q["sql"]]
    assert len(updates) == 3  # after rows 2 and 4, then at the end
    job.refresh_from_db()
    assert (job.status, job.progress, job.row_count) == ("done", 100, 5)
    assert tasks.run_export(job.pk) == "not queued"  # a second delivery does nothing


def test_a_dossier_export_applies_the_list_filters_and_writes_xlsx(api, manager_membership,
                                                                  django_capture_on_commit_callbacks):
    deployed(manager_membership, 10)
    walk_to(State.BDC_SIGNED, membership=manager_membership)
    response = start(api, django_capture_on_commit_callbacks, kind="dossiers", format="xlsx", state="bdc_signed")
    job = api.get(response.json()["url"]).json()
    assert job["status"] == "done" and job["params"] == {"state": "bdc_signed"}
    download = api.get(job["download_url"])
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Référence", "État") and [r[1] for r in rows[1:-1]] == ["BDC signé"]
    assert rows[-1][0] == "Total"


def test_a_viewer_may_export(viewer_api, django_capture_on_commit_callbacks):
    assert start(viewer_api, django_capture_on_commit_callbacks, kind="dossiers").status_code == 202


@pytest.mark.parametrize("body, field", [
    ({"kind": "everything"}, "kind"),
    ({"kind": "dossiers", "format": "pdf"}, "format"),
    ({"kind": "pending_va", "state": "deployed"}, "state"),
    ({"kind": "dossiers", "colour": "blue"}, "colour"),
])
def test_a_bad_export_request_is_a_400_and_nothing_is_queued(api, body, field):
    response = api.post(url("export-list"), body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not ExportJob.objects.exists()


def test_another_organisation_s_export_is_a_404(api, outsider_api, django_capture_on_commit_callbacks):
    job = start(api, django_capture_on_commit_callbacks, kind="dossiers").json()
    assert outsider_api.get(url("export-detail", job["id"])).status_code == 404
    assert outsider_api.get(url("export-download", job["id"])).status_code == 404
    assert outsider_api.get(url("export-list")).json()["count"] == 0
    assert api.get(url("export-list")).json()["count"] == 1


def test_an_unfinished_export_cannot_be_downloaded_yet(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the task never runs
        job = api.post(url("export-list"), {"kind": "dossiers"}, format="json").json()
    assert job["status"] == "queued" and job["download_url"] is None
    assert api.get(url("export-download", job["id"])).status_code == 409


def test_the_file_is_stored_outside_any_public_url(api, django_capture_on_commit_callbacks, settings):
    job = start(api, django_capture_on_commit_callbacks, kind="dossiers").json()
    stored = ExportJob.objects.get(pk=job["id"]).file
    assert stored.name.startswith(f"exports/org{api.membership.organisation_id}/")
    with pytest.raises(ValueError):
        stored.url  # noqa: B018 — the storage has no base URL: only the download view serves it
