"""The pipeline export (CSV/XLSX) beside the pending-VA one: same rows as the report, organisation-scoped."""
import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from dossiers.models import State

from .conftest import bulk_dossiers

pytestmark = pytest.mark.django_db

CSV = "/api/v1/reports/pipeline/export.csv"
XLSX = "/api/v1/reports/pipeline/export.xlsx"


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def test_the_csv_has_one_row_per_state_and_a_total(api, manager_membership, outsider_membership):
    bulk_dossiers(manager_membership, 2, state=State.DEPLOYED)
    bulk_dossiers(manager_membership, 1, state=State.VA_SIGNED)
    bulk_dossiers(outsider_membership, 5, state=State.DEPLOYED)
    rows = csv_rows(api.get(CSV))
    assert rows[0] == ["État", "Dossiers", "Montant déclaré (€)", "Avance payée (€)", "Solde payé (€)"]
    by_label = {row[0]: row[1:] for row in rows[1:]}
    assert by_label[str(State.DEPLOYED.label)] == ["2", "20000,00", "6000,00", "0,00"]
    assert by_label[str(State.VA_SIGNED.label)][0] == "1"
    assert by_label[str(State.DRAFT.label)][0] == "0"
    assert rows[-1] == ["Total", "3", "30000,00", "9000,00", "0,00"]
    assert len(rows) == 1 + len(State) + 1


def test_the_xlsx_has_numbers_and_the_same_rows(api, manager_membership):
    bulk_dossiers(manager_membership, 2, state=State.DEPLOYED)
    response = api.get(XLSX)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[-1][:2] == ("Total", 2) and Decimal(str(rows[-1][2])) == Decimal("20000")


def test_filters_apply_and_a_bad_filter_is_a_400(api, manager_membership):
    bulk_dossiers(manager_membership, 2, state=State.DEPLOYED)
    assert csv_rows(api.get(CSV, {"dispositif": "AUCUN"}))[-1][1] == "0"
    response = api.get(CSV, {"solution": "abc"})
    assert response.status_code == 400 and "solution" in response.json()["errors"]


def test_a_viewer_and_a_read_token_may_export_and_anonymous_may_not(viewer_api, manager_membership):
    from rest_framework.test import APIClient

    from organisations.models import ApiToken

    assert viewer_api.get(CSV).status_code == 200
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(manager_membership, scope='read')[1]}")
    assert reader.get(CSV).status_code == 200
    assert APIClient().get(CSV).status_code == 401


def test_the_pipeline_page_links_both_formats(as_manager):
    page = as_manager.get("/rapports/pipeline/").content.decode()
    assert 'href="/api/v1/reports/pipeline/export.csv"' in page and 'href="/api/v1/reports/pipeline/export.xlsx"' in page


def test_the_export_costs_the_same_for_any_number_of_dossiers(api, manager_membership,
                                                             django_assert_max_num_queries):
    bulk_dossiers(manager_membership, 1)
    with django_assert_max_num_queries(3):  # auth (2) + the grouped query
        csv_rows(api.get(CSV))
    bulk_dossiers(manager_membership, 40)
    with django_assert_max_num_queries(3):
        csv_rows(api.get(CSV))
