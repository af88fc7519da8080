"""The import API (API.md "Imports"): a realistic file at mixed states in both formats, dry run then commit."""
from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.history import broken_dossiers
from dossiers.models import Blocker, Client, Dossier, HistoryEntry, Solution, State
from imports.models import ImportJob

from .conftest import csv_file, rows, upload, xlsx_file

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("make_file", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_a_200_row_file_at_mixed_states_is_dry_run_then_imported(api, make_file):
    sheet = rows(200)
    answer = upload(api, make_file(sheet))
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["errors"] == []
    assert (body["status"], body["dry_run"], body["progress"], body["rows"]) == ("done", True, 100, 200)
    assert body["created"] == {"clients": 100, "solutions": 8, "dossiers": 200}
    assert Dossier.objects.count() == 0 and Client.objects.count() == 0

    answer = upload(api, make_file(sheet), dry_run=False)
    body = answer.json()
    assert (answer.status_code, body["status"], body["errors"]) == (201, "done", [])
    assert body["created"] == {"clients": 100, "solutions": 8, "dossiers": 200}
    assert Dossier.objects.count() == 200
    assert set(Dossier.objects.values_list("state", flat=True)) == set(State.values)
    assert HistoryEntry.objects.filter(action="import").count() == 200
    assert list(broken_dossiers()) == []
    paid = Dossier.objects.get(reference="IMP-000011")   # solde_paid: every step's date and amount
    assert paid.state == State.SOLDE_PAID and paid.solde_paid_on and paid.solde_paid_amount
    assert paid.declared_amount == paid.avance_declared_amount
    entry = HistoryEntry.objects.get(dossier=paid)
    assert (entry.action, entry.to_state, entry.data["row"]) == ("import", "solde_paid", 13)
    assert entry.data["values"]["reference"] == "IMP-000011"
    # Blockers as the rules give them: a draft has no BDC document, a deployed dossier no VA.
    draft = Dossier.objects.get(reference="IMP-000000")
    assert set(Blocker.objects.filter(dossier=draft).values_list("rule", flat=True)) == {"bdc.document"}
    deployed = Dossier.objects.get(reference="IMP-000006")
    assert "va.document" in Blocker.objects.filter(dossier=deployed).values_list("rule", flat=True)
    assert Solution.objects.count() == 8


def test_reimporting_the_same_file_creates_nothing(api):
    sheet = rows(30)
    upload(api, csv_file(sheet), dry_run=False)
    before = (Dossier.objects.count(), Client.objects.count(), HistoryEntry.objects.count())
    body = upload(api, csv_file(sheet), dry_run=False).json()
    assert (body["status"], body["errors"], body["unchanged"]) == ("done", [], 30)
    assert body["created"] == {"clients": 0, "solutions": 0, "dossiers": 0}
    assert (Dossier.objects.count(), Client.objects.count(), HistoryEntry.objects.count()) == before


def test_field_name_headers_and_commas_are_read_too(api):
    body = upload(api, csv_file(rows(15), kind="fields", delimiter=",", bom=False), dry_run=False).json()
    assert (body["errors"], body["created"]["dossiers"]) == ([], 15)


def test_the_job_is_listed_and_read_back(api):
    job_id = upload(api, csv_file(rows(3))).json()["id"]
    listed = api.get(reverse("imports_api:import-list")).json()
    assert [job["id"] for job in listed["results"]] == [job_id]
    detail = api.get(reverse("imports_api:import-detail", args=[job_id])).json()
    assert detail["filename"] == "dossiers.csv" and len(detail["sha256"]) == 64
    assert ImportJob.objects.get().user.username == "manon"


def test_known_clients_and_solutions_are_found_not_created(api, manager_membership):
    from dossiers.models import Dispositif
    from tests.factories import ClientFactory, SolutionFactory

    sheet = rows(4)
    organisation = manager_membership.organisation
    known = ClientFactory(organisation=organisation, finess_geo=sheet[2]["finess_geo"], siret="")
    SolutionFactory(organisation=organisation, name=sheet[2]["solution_name"], version="5.0",
                    dispositif=Dispositif.objects.get(code=sheet[2]["dispositif"]))
    body = upload(api, csv_file(sheet), dry_run=False).json()
    assert body["errors"] == []
    assert body["created"] == {"clients": 1, "solutions": 3, "dossiers": 4}
    assert set(Dossier.objects.filter(client=known).values_list("reference", flat=True)) == {"IMP-000002", "IMP-000003"}


def test_xlsx_identifiers_typed_as_numbers_get_their_leading_zeros_back(api):
    sheet = rows(2)
    for row in sheet:
        row.update(finess_geo="010003820", siret="", department="01")
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    from imports import samples

    # The identifiers stored as numbers, as a spreadsheet does when nobody formats the column as text.
    workbook = Workbook(write_only=True)
    sheet_out = workbook.create_sheet("Dossiers")
    sheet_out.append(samples.headers("fields"))
    for row in sheet:
        sheet_out.append([int(row[n]) if n in ("finess_geo", "department") else (row[n] or None)
                          for n in samples.headers("fields")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    body = upload(api, SimpleUploadedFile("n.xlsx", buffer.getvalue()), dry_run=False).json()
    assert body["errors"] == []
    assert Client.objects.get().finess_geo == "010003820" and Client.objects.get().department == "01"
