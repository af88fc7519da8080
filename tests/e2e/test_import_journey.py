"""In a real browser: a manager imports a spreadsheet — dry run, confirm, the progress bar polled by htmx, result."""
from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dossiers.models import Dossier
from imports import samples, services
from imports.models import ImportJob
from imports.tasks import run_import
from organisations.models import Role

from ..factories import MembershipFactory
from ..reports.conftest import broker_unreachable

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_import_dry_run_confirm_progress_result(page, live_server, sign_in, organisation, tmp_path, monkeypatch):
    MembershipFactory(organisation=organisation, role=Role.MANAGER, user__username="imane")
    path = tmp_path / "portefeuille.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        samples.write_csv(samples.sample_rows(30, today=timezone.localdate()), handle)
    sign_in("imane")
    page.get_by_role("link", name="Importer des dossiers").click()
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(str(path))
    page.get_by_role("button", name="Simuler l'import").click()
    expect(page.get_by_role("heading", name="Simulation réussie : rien n'est encore enregistré")).to_be_visible()
    expect(page.locator(".import-job__dossiers")).to_have_text("30")
    assert Dossier.objects.count() == 0

    # The real run goes to the background worker; the broker is away, so the job waits while the page polls.
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 10)
    with broker_unreachable():
        page.get_by_role("button", name="Confirmer l'import").click()
        expect(page.get_by_role("heading", name="Traitement en cours")).to_be_visible()
    job = ImportJob.objects.get(dry_run=False)
    ImportJob.objects.filter(pk=job.pk).update(progress=40)
    expect(page.locator("progress")).to_have_attribute("value", "40")
    assert run_import(job.pk) == "done"     # what the worker does with the task
    expect(page.get_by_role("heading", name="Import enregistré")).to_be_visible()
    expect(page.locator(".import-job__dossiers")).to_have_text("30")
    assert Dossier.objects.filter(organisation=organisation).count() == 30
    page.get_by_role("link", name="Tous les imports").click()
    expect(page.locator("table.table--list tbody tr")).to_have_count(2)
