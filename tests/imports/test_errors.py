"""Each kind of error is reported on its spreadsheet row and column, and a run with any error saves nothing."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dossiers.models import Client, Dossier, HistoryEntry, Solution
from imports import importer
from imports.models import ImportJob
from tests.factories import MembershipFactory, walk_to

from .conftest import csv_file, rows, upload

pytestmark = pytest.mark.django_db

# Sample row i has state STATES[i % 15]: 0 draft, 1 bdc_signed, 2 avance_filed, 6 deployed, 11 solde_paid.


def _set(index: int, **values):
    def mutate(sheet):
        sheet[index].update(values)
    return mutate


def _same_client_and_dispositif(sheet):
    # Row 4 (index 2, avance_filed) takes the client and dispositif of row 3 (index 1, bdc_signed): two active.
    for name in ("client_name", "finess_geo", "siret", "dispositif", "solution_name"):
        sheet[2][name] = sheet[1][name]


ERROR_KINDS = [
    ("invalid FINESS", _set(2, finess_geo="690000001"), 4, "finess_geo"),
    ("invalid SIRET", _set(3, siret="12345678901234"), 5, "siret"),
    ("no site identifier", _set(4, finess_geo="", siret=""), 6, "finess_geo"),
    ("not a date", _set(2, avance_filed_on="31/02/2024"), 4, "avance_filed_on"),
    ("not a date format", _set(2, avance_filed_on="2024.01.05"), 4, "avance_filed_on"),
    ("not an amount", _set(2, declared_amount="douze euros"), 4, "declared_amount"),
    ("three decimals", _set(2, declared_amount="12,345"), 4, "declared_amount"),
    ("zero amount", _set(2, declared_amount="0"), 4, "declared_amount"),
    ("unknown dispositif", _set(5, dispositif="HOP-XXX-VA9"), 7, "dispositif"),
    ("unknown state", _set(5, state="presque fini"), 7, "state"),
    ("missing state", _set(5, state=""), 7, "state"),
    ("date the state implies missing", _set(4, avance_validated_on=""), 6, "avance_validated_on"),
    ("amount the state implies missing", _set(11, solde_paid_amount=""), 13, "solde_paid_amount"),
    ("step beyond the state", lambda sheet: sheet[1].update(deployed_on=sheet[1]["bdc_signed_on"]), 3,
     "deployed_on"),
    ("dates out of order", _set(2, avance_filed_on="2000-01-01"), 4, "avance_filed_on"),
    ("future date", _set(1, bdc_signed_on="2999-01-01"), 3, "bdc_signed_on"),
    ("solde above the avance", _set(11, solde_amount="999999.00"), 13, "solde_amount"),
    ("unknown signature type", _set(1, bdc_signature_type="fax"), 3, "bdc_signature_type"),
    ("yes or no", _set(1, vat_liable="peut-être"), 3, "vat_liable"),
    ("new client without its kind", _set(2, client_kind=""), 4, "client_kind"),
    ("bad department", _set(1, department="99"), 3, "department"),
    ("two active dossiers in the file", _same_client_and_dispositif, 4, "dispositif"),
    ("reference twice in the file", _set(3, reference="IMP-000002"), 5, "reference"),
]


@pytest.mark.parametrize("mutate,row,column", [k[1:] for k in ERROR_KINDS], ids=[k[0] for k in ERROR_KINDS])
def test_each_error_is_reported_on_its_row_and_column_and_nothing_is_saved(api, mutate, row, column):
    sheet = rows(15)
    mutate(sheet)
    body = upload(api, csv_file(sheet), dry_run=False).json()
    assert body["status"] == "done"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(row, column)], body["errors"]
    assert body["errors"][0]["message"]
    assert body["created"] == {"clients": 0, "solutions": 0, "dossiers": 0}
    assert (Dossier.objects.count(), Client.objects.count(), Solution.objects.count()) == (0, 0, 0)


def test_a_second_active_dossier_against_the_database_is_an_error(api, manager_membership):
    existing = walk_to("bdc_signed", membership=manager_membership)
    sheet = rows(3)
    sheet[1].update(finess_geo=existing.client.finess_geo, siret=existing.client.siret,
                    dispositif=existing.dispositif.code, reference="AUTRE-1")
    body = upload(api, csv_file(sheet), dry_run=False).json()
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "dispositif")]
    assert existing.reference in body["errors"][0]["message"]
    assert Dossier.objects.count() == 1


def test_a_reference_that_exists_with_other_values_is_an_error_never_an_overwrite(api):
    sheet = rows(5)
    upload(api, csv_file(sheet), dry_run=False)
    sheet[2]["declared_amount"] = "5000.00"
    body = upload(api, csv_file(sheet), dry_run=False).json()
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(4, "declared_amount")]
    assert body["unchanged"] == 4
    assert str(Dossier.objects.get(reference="IMP-000002").avance_declared_amount) != "5000.00"


def test_duplicates_across_batches_are_found(api, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 4)
    sheet = rows(12)
    sheet[10]["reference"] = sheet[1]["reference"]
    body = upload(api, csv_file(sheet)).json()
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(12, "reference")]
    assert "ligne 3" in body["errors"][0]["message"]


def test_one_bad_row_in_a_real_run_saves_nothing_at_all(api):
    sheet = rows(60)
    sheet[45]["finess_geo"] = "123"
    body = upload(api, csv_file(sheet), dry_run=False).json()
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(47, "finess_geo")]
    assert (Dossier.objects.count(), Client.objects.count(), HistoryEntry.objects.count()) == (0, 0, 0)
    assert ImportJob.objects.get().rows == 60


def test_a_dry_run_never_saves(api):
    upload(api, csv_file(rows(10)), dry_run=True)
    assert (Dossier.objects.count(), Client.objects.count()) == (0, 0)


def _raw(text: str, name: str = "dossiers.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def test_an_unknown_column_fails_the_file_at_row_1(api):
    body = upload(api, _raw("Référence;Client;Solution;Version;Dispositif;État;Couleur\nA;B;C;1;MDV-LGC-VA1;draft;bleu\n"),
                  dry_run=False).json()
    assert body["status"] == "failed"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(1, "Couleur")]


def test_a_missing_required_column_fails_the_file(api):
    body = upload(api, _raw("reference;client_name;solution_name;solution_version;dispositif\nA;B;C;1;X\n")).json()
    assert (body["status"], [(e["row"], e["column"]) for e in body["errors"]]) == ("failed", [(1, "state")])


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_message(api):
    body = upload(api, _raw("Référence;Client;Solution;Version;Dispositif;État\nA;Hôpital;C;1;MDV-LGC-VA1;draft\n",
                            encoding="latin-1")).json()
    assert body["status"] == "failed" and "UTF-8" in body["errors"][0]["message"]


def test_an_upload_without_a_file_is_a_400(api):
    answer = api.post("/api/v1/imports/", {"dry_run": "true"}, format="multipart")
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["file"])


def test_a_bad_dry_run_value_is_a_400(api):
    answer = upload(api, csv_file(rows(1)), dry_run="peut-être")
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["dry_run"])
    assert ImportJob.objects.count() == 0


def test_an_empty_file_is_a_400(api):
    answer = upload(api, _raw(""))
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["file"])


def test_a_viewer_may_not_import(viewer_api):
    answer = upload(viewer_api, csv_file(rows(2)))
    assert answer.status_code == 403
    assert ImportJob.objects.count() == 0


def test_another_organisations_import_job_is_a_404(api, outsider_api):
    job_id = upload(api, csv_file(rows(2, prefix="X"))).json()["id"]
    for path in (f"/api/v1/imports/{job_id}/", f"/api/v1/imports/{job_id}/report/"):
        assert outsider_api.get(path).status_code == 404
    assert outsider_api.get("/api/v1/imports/").json()["count"] == 0


def test_the_same_rows_in_another_organisation_are_its_own(api, other_organisation):
    sheet = rows(4)
    upload(api, csv_file(sheet), dry_run=False)
    other = MembershipFactory(organisation=other_organisation, role="manager")
    from tests.conftest import _api

    body = upload(_api(other), csv_file(sheet), dry_run=False).json()
    assert (body["errors"], body["created"]["dossiers"]) == ([], 4)


def test_the_error_report_is_the_spreadsheet_with_a_probleme_column(api):
    sheet = rows(4)
    sheet[2]["finess_geo"] = "690000001"
    job_id = upload(api, csv_file(sheet)).json()["id"]
    answer = api.get(f"/api/v1/imports/{job_id}/report/")
    assert answer.status_code == 200
    lines = b"".join(answer.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].endswith(";problème") and lines[0].startswith("Référence;")
    assert "FINESS géographique : La clé de contrôle" in lines[3]
    assert lines[2].endswith(";")


def test_the_error_report_of_an_xlsx_is_an_xlsx(api):
    from openpyxl import load_workbook

    from .conftest import xlsx_file

    sheet = rows(3)
    sheet[1]["state"] = "inconnu"
    job_id = upload(api, xlsx_file(sheet)).json()["id"]
    answer = api.get(f"/api/v1/imports/{job_id}/report/")
    workbook = load_workbook(io.BytesIO(b"".join(answer.streaming_content)), read_only=True)
    rows_read = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows_read[0][-1] == "problème" and "État" in rows_read[2][-1]


def test_errors_beyond_the_cap_are_counted_not_kept(api, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ERRORS", 3)
    sheet = rows(6)
    for row in sheet:
        row["state"] = "inconnu"
    body = upload(api, csv_file(sheet)).json()
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "state"), (3, "state"), (4, "state"), (0, "")]
    assert "3 autres erreurs" in body["errors"][-1]["message"]


def test_a_file_named_xlsx_that_is_not_a_workbook_fails_with_a_clear_message(api):
    body = upload(api, SimpleUploadedFile("faux.xlsx", b"PK\x03\x04pas un classeur")).json()
    assert body["status"] == "failed" and body["errors"][0]["message"] == "Classeur XLSX illisible."


def test_the_report_of_a_file_without_a_header_is_a_409_not_a_broken_download(api):
    job_id = upload(api, _raw("\n\n", name="vide.csv")).json()["id"]
    answer = api.get(f"/api/v1/imports/{job_id}/report/")
    assert answer.status_code == 409 and answer.json()["detail"]


def test_nul_characters_in_cells_are_dropped(api):
    sheet = rows(2)
    sheet[0]["client_name"] = "Centre\x00 de santé"
    body = upload(api, csv_file(sheet), dry_run=False).json()
    assert (body["errors"], Client.objects.filter(name="Centre de santé").count()) == ([], 1)
