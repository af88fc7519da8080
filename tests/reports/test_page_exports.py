"""Page exports: the dossier list and the deadlines as the pages show them, as CSV and XLSX, for any member.

Each file is read back as a spreadsheet user's tool reads it (the csv module with `;`, openpyxl).
"""
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from dossiers.models import Client, Dispositif, Dossier, State
from reports import exports, generators

from ..factories import ClientFactory, SolutionFactory, next_finess
from .conftest import bulk_dossiers, deployed

pytestmark = pytest.mark.django_db

HEADERS = ["Référence", "État", "Client", "Type de client", "FINESS géographique", "SIRET", "Solution", "Version",
           "Dispositif", "Code dispositif", "Couloir", "Scénario", "Responsable", "BDC signé le", "Avance déposée le",
           "Montant déclaré (€)", "Avance payée (€)", "Déployé le", "VA signée le", "Solde déposé le",
           "Montant du solde (€)", "Solde payé le", "Solde payé (€)"]
MONEY = ["Montant déclaré (€)", "Avance payée (€)", "Montant du solde (€)", "Solde payé (€)"]


def dossiers_url(fmt: str) -> str:
    return reverse(f"dossiers-export-{fmt}")


def content(response) -> bytes:
    assert response.status_code == 200, response.content[:500] if not response.streaming else response.status_code
    return b"".join(response.streaming_content)


def csv_table(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = content(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def workbook_sheet(response):
    assert response["Content-Type"] == exports.XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="')
    return load_workbook(io.BytesIO(content(response))).active


@pytest.fixture
def book(manager_membership, outsider_membership):
    """Five deployed dossiers and three BDC-signed ones, with different amounts; one client is a hospital; another
    organisation's dossiers beside them."""
    hospital = Dispositif.objects.filter(couloir__code="hopital").order_by("code").first()
    deployed_rows = bulk_dossiers(manager_membership, 5, state=State.DEPLOYED,
                                  solution=SolutionFactory(organisation=manager_membership.organisation,
                                                           dispositif=hospital))
    signed = bulk_dossiers(manager_membership, 3, state=State.BDC_SIGNED, declared_amount=Decimal("1234.56"),
                           avance_paid_total=Decimal("0.00"))
    Client.objects.filter(pk=deployed_rows[0].client_id).update(kind=Client.Kind.ES, finess_geo=next_finess("01"))
    bulk_dossiers(outsider_membership, 4, state=State.DEPLOYED)
    return {"deployed": deployed_rows, "signed": signed, "hospital": hospital}


# --- the dossier list --------------------------------------------------------------------------------------------

def test_the_csv_has_french_headers_labels_not_codes_and_the_filtered_rows_only(book, as_viewer):
    header, *rows = csv_table(as_viewer.get(dossiers_url("csv"), {"state": State.DEPLOYED}))
    assert header == HEADERS
    assert sorted(row[0] for row in rows) == sorted(d.reference for d in book["deployed"])
    by_reference = {row[0]: dict(zip(header, row)) for row in rows}
    first = by_reference[book["deployed"][0].reference]
    assert first["État"] == str(State.DEPLOYED.label) == "Déployé, VA attendue"
    assert first["Type de client"] == "Établissement de santé"
    assert first["Dispositif"] == book["hospital"].label and first["Code dispositif"] == book["hospital"].code
    assert first["Couloir"] == book["hospital"].couloir.label and first["Couloir"] != "hopital"
    assert first["FINESS géographique"].startswith("01")  # an identifier stays text: its leading zero too
    assert first["Montant déclaré (€)"] == "10000,00" and first["Déployé le"] == ""
    assert {row["Type de client"] for row in by_reference.values()} == {"Établissement de santé",
                                                                        "Professionnel de santé"}


def test_the_csv_is_data_for_machines_without_a_totals_row(book, as_viewer):
    _header, *rows = csv_table(as_viewer.get(dossiers_url("csv")))
    assert len(rows) == 8 and "Total" not in [row[0] for row in rows]


def test_the_xlsx_has_a_frozen_bold_header_widths_an_autofilter_and_the_totals_of_its_rows(book, as_viewer):
    sheet = workbook_sheet(as_viewer.get(dossiers_url("xlsx")))
    rows = list(sheet.iter_rows(values_only=True))
    header, data, total = list(rows[0]), rows[1:-1], rows[-1]
    assert header == HEADERS and len(data) == 8
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.auto_filter.ref == f"A1:W{len(data) + 1}"  # the data rows, not the total
    widths = {letter: sheet.column_dimensions[letter].width for letter in ("A", "C", "I", "P")}
    assert widths["I"] > widths["A"] and all(width >= 10 for width in widths.values())
    assert total[0] == "Total"
    for name in MONEY:
        index = header.index(name)
        assert Decimal(str(total[index])) == sum((Decimal(str(row[index])) for row in data if row[index] is not None),
                                                 Decimal(0)), name
    assert Decimal(str(total[header.index("Montant déclaré (€)")])) == Decimal("5") * 10000 + 3 * Decimal("1234.56")
    assert total[header.index("Référence") + 1] is None  # a text column is not summed
    states = {row[header.index("État")] for row in data}
    assert states == {"Déployé, VA attendue", str(State.BDC_SIGNED.label)}


def test_the_xlsx_types_its_cells_text_numbers_dates(book, as_viewer):
    Dossier.objects.filter(pk=book["deployed"][0].pk).update(deployed_on="2026-03-01")
    sheet = workbook_sheet(as_viewer.get(dossiers_url("xlsx"), {"state": State.DEPLOYED, "sort": "reference"}))
    header = [cell.value for cell in sheet[1]]
    cells = {row[0].value: {h: c for h, c in zip(header, row)} for row in sheet.iter_rows(min_row=2)}
    first = cells[book["deployed"][0].reference]
    finess = first["FINESS géographique"]
    assert (finess.data_type, finess.value[:2]) == ("s", "01")
    amount = first["Montant déclaré (€)"]
    assert (amount.data_type, amount.value, amount.number_format) == ("n", 10000, exports.MONEY_FORMAT)
    date_cell = first["Déployé le"]
    assert date_cell.is_date and date_cell.value.date().isoformat() == "2026-03-01"
    assert date_cell.number_format == "DD/MM/YYYY"


def test_both_files_follow_the_list_sort_and_owner_filter(manager_membership, viewer_membership, as_viewer):
    rows = bulk_dossiers(manager_membership, 4)
    Dossier.objects.filter(pk__in=[rows[1].pk, rows[3].pk]).update(owner=manager_membership)
    for fmt in ("csv", "xlsx"):
        response = as_viewer.get(dossiers_url(fmt), {"owner": str(manager_membership.pk), "sort": "-reference"})
        if fmt == "csv":
            references = [row[0] for row in csv_table(response)[1:]]
        else:
            references = [row[0] for row in list(workbook_sheet(response).iter_rows(values_only=True))[1:-1]]
        assert references == sorted([rows[1].reference, rows[3].reference], reverse=True), fmt
    owner = manager_membership.user
    header, *lines = csv_table(as_viewer.get(dossiers_url("csv"), {"owner": "all", "sort": "reference"}))
    named = {line[0]: line[header.index("Responsable")] for line in lines}
    assert named[rows[1].reference] == (owner.get_full_name() or owner.get_username())
    assert named[rows[0].reference] == ""


def test_a_search_is_honoured_as_on_the_list(book, as_viewer):
    target = book["signed"][1]
    _header, *rows = csv_table(as_viewer.get(dossiers_url("csv"), {"q": target.reference}))
    assert [row[0] for row in rows] == [target.reference]


def test_another_organisations_dossiers_are_never_in_the_files(book, as_outsider, outsider_membership):
    _header, *rows = csv_table(as_outsider.get(dossiers_url("csv"), {"owner": "all"}))
    assert len(rows) == 4 and all(row[0].startswith("BULK-") for row in rows)
    mine = {d.reference for d in book["deployed"] + book["signed"]}
    assert not mine & {row[0] for row in rows}
    sheet = workbook_sheet(as_outsider.get(dossiers_url("xlsx"), {"owner": "all"}))
    assert not mine & {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}


def test_another_organisations_solution_is_a_bad_filter_not_a_leak(book, as_viewer, outsider_membership):
    theirs = SolutionFactory(organisation=outsider_membership.organisation)
    response = as_viewer.get(dossiers_url("csv"), {"solution": theirs.pk})
    assert response.status_code == 400 and "Sélectionnez un choix valide" in response.content.decode()


@pytest.mark.parametrize("params, message", [
    ({"state": "hopital"}, "Sélectionnez un choix valide"),
    ({"dispositif": "999999"}, "Sélectionnez un choix valide"),
    ({"owner": "quelqu'un"}, "Sélectionnez un choix valide"),
    ({"q": "x" * 101}, "Assurez-vous que cette valeur comporte au plus 100 caractères"),
])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_bad_filters_are_a_400_page_in_french_and_no_file(book, as_viewer, params, message, fmt):
    response = as_viewer.get(dossiers_url(fmt), params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Export impossible" in body and message in body and "error-summary" in body
    assert 'action="/dossiers/export.' in body  # the filters, to correct and export again


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in (dossiers_url("csv"), reverse("deadlines-export-xlsx")):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_a_hostile_client_name_stays_inert_in_both_files(manager_membership, as_viewer):
    [row] = bulk_dossiers(manager_membership, 1)
    Client.objects.filter(pk=row.client_id).update(name='=HYPERLINK("http://evil.example")<&>\x07')
    [line] = csv_table(as_viewer.get(dossiers_url("csv")))[1:]
    assert line[2] == "'" + '=HYPERLINK("http://evil.example")<&>\x07'
    sheet = workbook_sheet(as_viewer.get(dossiers_url("xlsx")))
    cell = sheet["C2"]
    assert (cell.data_type, cell.value) == ("s", '=HYPERLINK("http://evil.example")<&>')  # no formula, no BEL


def test_the_list_page_links_to_both_files_with_its_filters(book, as_viewer):
    body = as_viewer.get(reverse("dossier-list"), {"state": "deployed", "sort": "reference", "page": "1"}
                         ).content.decode()
    assert 'href="/dossiers/export.csv?state=deployed&amp;sort=reference"' in body
    assert 'href="/dossiers/export.xlsx?state=deployed&amp;sort=reference"' in body


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_queries_do_not_grow_with_the_rows(manager_membership, as_viewer, monkeypatch, fmt):
    # Chunks of 2 rows: 3 and 30 rows are read in 2 and 15 chunks of one server-side cursor, one statement.
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    monkeypatch.setattr(generators, "XLSX_FETCH", 2)

    def queries_for_export() -> int:
        with CaptureQueriesContext(connection) as captured:
            content(as_viewer.get(dossiers_url(fmt), {"owner": "all"}))
        return len(captured.captured_queries)

    bulk_dossiers(manager_membership, 3)
    few = queries_for_export()
    bulk_dossiers(manager_membership, 27)
    assert queries_for_export() == few
    assert few <= 10  # session, membership, the form's choices, the owner filter's members, the rows


# --- the deadlines -----------------------------------------------------------------------------------------------

def deadlines_url(fmt: str) -> str:
    return reverse(f"deadlines-export-{fmt}")


def test_the_deadlines_files_have_the_pages_rows_and_filters(manager_membership, outsider_membership, as_viewer):
    late, soon = deployed(manager_membership, 40), deployed(manager_membership, 10)
    deployed(outsider_membership, 40)
    header, *rows = csv_table(as_viewer.get(deadlines_url("csv"), {"kind": "pending_va"}))
    assert header[:5] == ["Échéance", "Date", "En retard", "Jours restants", "Référence"]
    assert [(row[0], row[2], row[4]) for row in rows] == [
        ("VA attendue après déploiement", "oui", late.reference), ("VA attendue après déploiement", "non", soon.reference)]
    sheet = workbook_sheet(as_viewer.get(deadlines_url("xlsx"), {"kind": "pending_va"}))
    lines = list(sheet.iter_rows(values_only=True))
    assert [line[4] for line in lines[1:-1]] == [late.reference, soon.reference]
    assert lines[-1][0] == "Total" and lines[-1][3] is None  # days left are not summed
    assert sheet.freeze_panes == "A2"
    before = (late.deployed_on + timedelta(days=31)).isoformat()
    narrowed = csv_table(as_viewer.get(deadlines_url("csv"), {"kind": "pending_va", "due_before": before}))[1:]
    assert [row[4] for row in narrowed] == [late.reference]


def test_the_deadlines_page_links_to_its_files_with_its_filters(manager_membership, as_viewer):
    deployed(manager_membership, 40)
    body = as_viewer.get(reverse("deadlines"), {"kind": "pending_va"}).content.decode()
    assert 'href="/echeances/export.csv?kind=pending_va"' in body
    assert 'href="/echeances/export.xlsx?kind=pending_va"' in body


@pytest.mark.parametrize("params, message", [
    ({"due_before": "2024-13-45"}, "Saisissez une date valide, au format JJ/MM/AAAA ou AAAA-MM-JJ."),
    ({"kind": "anniversaire"}, "Sélectionnez un choix valide"),
])
def test_bad_deadline_filters_are_a_400_page_in_french(as_viewer, params, message):
    response = as_viewer.get(deadlines_url("csv"), params)
    assert response.status_code == 400 and message in response.content.decode()


# --- the pipeline page's links (API exports, signed in by the session) -------------------------------------------

def test_the_pipeline_pages_links_download_for_a_signed_in_member_with_its_filters(manager_membership, as_viewer):
    bulk_dossiers(manager_membership, 2)
    hospital = Dispositif.objects.filter(couloir__code="hopital").first()
    bulk_dossiers(manager_membership, 1, solution=SolutionFactory(organisation=manager_membership.organisation,
                                                                   dispositif=hospital))
    page = as_viewer.get(reverse("report-pipeline"), {"couloir": "hopital"})
    assert page.status_code == 200
    csv_link = f'{reverse("reports:pipeline-export", kwargs={"fmt": "csv"})}?couloir=hopital'
    assert f'href="{csv_link}"' in page.content.decode()
    rows = csv_table(as_viewer.get(csv_link))
    assert rows[-1][:2] == ["Total", "1"]  # the filter: one hospital dossier, not three
    sheet = workbook_sheet(as_viewer.get(csv_link.replace("export.csv", "export.xlsx")))
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[-1][:2] == ("Total", 1) and sheet.freeze_panes == "A2"
    assert [line[0] for line in lines].count("Total") == 1  # its own total row, no second one


def test_a_client_kind_label_never_shows_its_code(manager_membership, as_viewer):
    client = ClientFactory(organisation=manager_membership.organisation, kind=Client.Kind.OFFICINE)
    [row] = bulk_dossiers(manager_membership, 1)
    Dossier.objects.filter(pk=row.pk).update(client=client)
    header, line = csv_table(as_viewer.get(dossiers_url("csv")))
    assert line[header.index("Type de client")] == "Officine"


# --- what every file shares ----------------------------------------------------------------------------------------

def test_the_pending_va_files_name_the_dispositif_and_couloir_by_their_labels(api, manager_membership):
    dossier = deployed(manager_membership, 40)
    dispositif = Dispositif.objects.select_related("couloir").get(pk=dossier.dispositif_id)
    header, line = csv_table(api.get(reverse("reports:pending-va-export", kwargs={"fmt": "csv"})))
    row = dict(zip(header, line))
    assert (row["Dispositif"], row["Code dispositif"], row["Couloir"]) == (
        dispositif.label, dispositif.code, dispositif.couloir.label)
    sheet = workbook_sheet(api.get(reverse("reports:pending-va-export", kwargs={"fmt": "xlsx"})))
    lines = list(sheet.iter_rows(values_only=True))
    stake = lines[0].index("Montant en jeu (€)")
    assert lines[-1][0] == "Total" and Decimal(str(lines[-1][stake])) == Decimal("7000")
    assert lines[-1][lines[0].index("Âge (jours)")] is None  # an age is not summed


def test_an_empty_export_is_a_valid_workbook_with_its_header_and_a_zero_total(as_viewer):
    sheet = workbook_sheet(as_viewer.get(dossiers_url("xlsx"), {"owner": "all"}))
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0]) == HEADERS and lines[1][0] == "Total" and lines[1][HEADERS.index("Solde payé (€)")] == 0
    assert sheet.auto_filter.ref == "A1:W1" and sheet.freeze_panes == "A2"


def test_the_python_and_database_written_cells_agree(book, manager_membership):
    # The dossier list's XLSX has its cells written by PostgreSQL; an export job writes the same columns in Python.
    report = generators.DossierListReport(manager_membership.organisation_id, {})
    from_database = load_workbook(io.BytesIO(b"".join(exports.xlsx_chunks(
        report.columns, report.xlsx_rows(), rendered=True)))).active
    in_python = load_workbook(io.BytesIO(b"".join(exports.xlsx_chunks(report.columns, report.rows())))).active
    assert list(from_database.iter_rows(values_only=True)) == list(in_python.iter_rows(values_only=True))
    assert from_database.max_row == 10  # header, 8 rows, total
