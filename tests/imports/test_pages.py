"""Import pages: upload → dry-run table → confirm → result; history; progress partial; isolation and roles."""
from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.models import Dossier
from imports import services
from imports.models import ImportJob
from tests.pages.conftest import signed_in

from .conftest import csv_file, rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_manager(manager_membership):
    return signed_in(manager_membership)


def test_upload_dry_run_then_confirm(as_manager):
    answer = as_manager.post(reverse("imports:index"), {"file": csv_file(rows(12))})
    job = ImportJob.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("imports:detail", args=[job.pk])
    page = as_manager.get(answer["Location"]).content.decode()
    assert "Simulation réussie" in page and "Confirmer l'import" in page and Dossier.objects.count() == 0
    answer = as_manager.post(reverse("imports:confirm", args=[job.pk]))
    real = ImportJob.objects.get(dry_run=False)
    assert answer["Location"] == reverse("imports:detail", args=[real.pk])
    assert Dossier.objects.count() == 12 and real.sha256 == job.sha256
    page = as_manager.get(answer["Location"]).content.decode()
    assert "Import enregistré" in page and "12 dossiers créés" in page
    history = as_manager.get(reverse("imports:index")).content.decode()
    assert history.count("dossiers.csv") == 2 and job.sha256[:12] in history


def test_the_dry_run_table_shows_row_column_and_message_and_offers_the_report(as_manager):
    sheet = rows(5)
    sheet[3]["finess_geo"] = "690000001"
    as_manager.post(reverse("imports:index"), {"file": csv_file(sheet)})
    job = ImportJob.objects.get()
    page = as_manager.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "<td>5</td><td>FINESS géographique</td>" in page and "La clé de contrôle" in page
    assert "Confirmer l'import" not in page
    report = as_manager.get(reverse("imports:report", args=[job.pk]))
    assert "problème" in b"".join(report.streaming_content).decode("utf-8-sig").splitlines()[0]
    # A dry run with errors cannot be confirmed, even by a crafted request.
    as_manager.post(reverse("imports:confirm", args=[job.pk]))
    assert ImportJob.objects.count() == 1


def test_a_background_job_shows_a_polling_progress_bar(as_manager, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 10)
    with django_capture_on_commit_callbacks(execute=False):
        as_manager.post(reverse("imports:index"), {"file": csv_file(rows(3))})
    job = ImportJob.objects.get()
    page = as_manager.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert f'hx-get="{reverse("imports:status", args=[job.pk])}"' in page and "<progress" in page
    assert "<script>" not in page
    ImportJob.objects.filter(pk=job.pk).update(progress=42)
    partial = as_manager.get(reverse("imports:status", args=[job.pk])).content.decode()
    assert 'value="42"' in partial


def test_the_navigation_offers_the_import_to_managers_only(as_manager, viewer_membership):
    assert "Importer des dossiers" in as_manager.get(reverse("home")).content.decode()
    assert "Importer des dossiers" not in signed_in(viewer_membership).get(reverse("home")).content.decode()


def test_a_viewer_gets_403_on_every_import_page(as_manager, viewer_membership):
    as_manager.post(reverse("imports:index"), {"file": csv_file(rows(2))})
    job = ImportJob.objects.get()
    viewer = signed_in(viewer_membership)
    assert viewer.post(reverse("imports:index"), {"file": csv_file(rows(2))}).status_code == 403
    for name in ("index", "detail", "status", "report"):
        args = [] if name == "index" else [job.pk]
        assert viewer.get(reverse(f"imports:{name}", args=args)).status_code == 403
    assert viewer.post(reverse("imports:confirm", args=[job.pk])).status_code == 403
    assert ImportJob.objects.count() == 1


def test_another_organisations_job_is_404_on_every_page(as_manager, outsider_membership):
    as_manager.post(reverse("imports:index"), {"file": csv_file(rows(2))})
    job = ImportJob.objects.get()
    outsider = signed_in(outsider_membership)
    for name in ("detail", "status", "report"):
        assert outsider.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
    assert outsider.post(reverse("imports:confirm", args=[job.pk])).status_code == 404
    assert job.filename not in outsider.get(reverse("imports:index")).content.decode()


def test_an_upload_without_a_file_is_a_french_error(as_manager):
    answer = as_manager.post(reverse("imports:index"), {})
    assert answer.status_code == 400 and "Ce champ est obligatoire" in answer.content.decode()
    assert ImportJob.objects.count() == 0


def test_an_empty_file_is_a_french_error(as_manager):
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = as_manager.post(reverse("imports:index"), {"file": SimpleUploadedFile("vide.csv", b"")})
    assert answer.status_code == 400 and "vide" in answer.content.decode()
