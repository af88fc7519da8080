"""Pending-VA report: figures by hand on every bucket boundary, scoping, filters, staff, exports."""
import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook
from rest_framework.test import APIClient

from dossiers import services
from dossiers.models import Dossier, State

from ..factories import days_ago, walk_to
from .conftest import deployed, url

AGES = [0, 30, 31, 60, 61, 90, 91, 120]


@pytest.fixture
def pending(manager_membership, hospital_solution):
    """Eight deployed dossiers on the bucket boundaries; the 120-day one on the hospital dispositif."""
    dossiers = {age: deployed(manager_membership, age, solution=hospital_solution if age == 120 else None)
                for age in AGES}
    # An amendment filed, validated and paid: 12 000 € declared, 3 000 + 1 500 € paid → 7 500 € at stake.
    amendment = services.add_amendment(dossiers[61].pk, by=manager_membership.user, filed_on=date(2024, 6, 5),
                                       amount=Decimal("12000.00"))
    services.update_amendment(amendment.pk, by=manager_membership.user, status="validated")
    services.update_amendment(amendment.pk, by=manager_membership.user, status="paid", paid_amount=Decimal("1500.00"))
    # Not pending: cancelled (a recovery repaid), recovery issued, VA signed.
    walk_to(State.CANCELLED, membership=manager_membership)
    walk_to(State.RECOVERY_ISSUED, membership=manager_membership)
    walk_to(State.VA_SIGNED, membership=manager_membership)
    return dossiers


def test_pending_va_figures_match_the_hand_count_on_every_bucket_boundary(api, pending):
    body = api.get(url("pending-va")).json()
    assert body["total"] == 8
    assert body["buckets"] == [{"label": "0-30", "count": 2}, {"label": "31-60", "count": 2},
                               {"label": "61-90", "count": 2}, {"label": "90+", "count": 2}]
    assert body["overdue"] == 6  # ages above 30 days: 31, 60, 61, 90, 91, 120
    assert body["amount_at_stake"] == "56500.00"  # 7 × (10 000 − 3 000) + (12 000 − 4 500)
    assert body["by_dispositif"] == [{"dispositif": "HOP-DPI-VA1", "count": 1, "overdue": 1},
                                     {"dispositif": "MDV-LGC-VA1", "count": 7, "overdue": 5}]
    assert [row["age_days"] for row in body["results"]] == sorted(AGES, reverse=True)  # oldest first
    assert body["count"] == 8 and body["next"] is None
    amended = next(row for row in body["results"] if row["id"] == pending[61].pk)
    assert amended["declared_amount"] == "12000.00" and amended["avance_paid_total"] == "4500.00"
    assert amended["amount_at_stake"] == "7500.00" and amended["overdue"] is True
    assert next(row for row in body["results"] if row["age_days"] == 30)["overdue"] is False


def test_the_report_keeps_the_contract_keys(api, pending):
    body = api.get(url("pending-va")).json()
    assert {"total", "overdue", "amount_at_stake", "buckets", "by_dispositif", "results"} <= set(body)
    row = body["results"][0]
    assert {"id", "reference", "client", "solution", "dispositif", "deployed_on", "age_days", "overdue",
            "amount_at_stake"} <= set(row)
    assert row["deployed_on"] == days_ago(120).isoformat()


def test_the_overdue_threshold_is_the_organisation_s_own(api, pending, organisation):
    organisation.pending_va_days = 60
    organisation.save()
    body = api.get(url("pending-va")).json()
    assert body["overdue"] == 4  # 61, 90, 91, 120
    assert sum(1 for row in body["results"] if row["overdue"]) == 4


def test_filters_narrow_the_report(api, pending, hospital_solution):
    by_dispositif = api.get(url("pending-va"), {"dispositif": "HOP-DPI-VA1"}).json()
    assert by_dispositif["total"] == 1 and by_dispositif["results"][0]["id"] == pending[120].pk
    assert api.get(url("pending-va"), {"couloir": "hopital"}).json()["total"] == 1
    assert api.get(url("pending-va"), {"couloir": "medecine_ville"}).json()["total"] == 7
    assert api.get(url("pending-va"), {"solution": hospital_solution.pk}).json()["amount_at_stake"] == "7000.00"
    assert api.get(url("pending-va"), {"dispositif": "INCONNU"}).json()["total"] == 0


def test_a_malformed_filter_is_a_400_in_the_contract_shape(api):
    response = api.get(url("pending-va"), {"solution": "abc"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["solution"]


def test_results_are_paginated_while_the_summary_covers_every_dossier(api, pending):
    body = api.get(url("pending-va"), {"page_size": 3}).json()
    assert body["total"] == 8 and body["count"] == 8 and len(body["results"]) == 3
    assert body["next"] is not None
    last = api.get(url("pending-va"), {"page_size": 3, "page": 3}).json()
    assert [row["age_days"] for row in last["results"]] == [30, 0]


def test_another_organisation_s_pending_vas_never_appear(outsider_api, pending, outsider_membership):
    mine = deployed(outsider_membership, 45)
    body = outsider_api.get(url("pending-va")).json()
    assert body["total"] == 1 and [row["id"] for row in body["results"]] == [mine.pk]
    # The organisation filter only narrows a member's own data.
    other = outsider_api.get(url("pending-va"), {"organisation": pending[0].organisation_id}).json()
    assert other["total"] == 0 and other["results"] == []


@pytest.fixture
def staff_api(db):
    staff = get_user_model().objects.create_user("sophie", password="pw-staff-12345", is_staff=True)
    client = APIClient()
    client.force_login(staff)
    return client


def test_platform_staff_see_every_organisation_and_can_filter_one(staff_api, pending, outsider_membership):
    theirs = deployed(outsider_membership, 10)
    everyone = staff_api.get(url("pending-va")).json()
    assert everyone["total"] == 9
    one = staff_api.get(url("pending-va"), {"organisation": outsider_membership.organisation_id}).json()
    assert one["total"] == 1 and one["results"][0]["id"] == theirs.pk
    assert one["results"][0]["organisation"] == outsider_membership.organisation_id
    assert staff_api.get(url("pipeline"), {"organisation": outsider_membership.organisation_id}).json()[
        "totals"]["count"] == 1


def test_a_user_without_organisation_nor_staff_rights_is_refused(db):
    client = APIClient()
    client.force_login(get_user_model().objects.create_user("nobody", password="pw-nobody-12345"))
    assert client.get(url("pending-va")).status_code == 403
    assert APIClient().get(url("pending-va")).status_code == 401


def test_the_csv_export_has_the_same_rows_with_french_headers(api, pending):
    response = api.get(url("pending-va-export", "csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Référence", "Client", "FINESS géographique"] and "Montant en jeu (€)" in rows[0]
    assert len(rows) == 9
    stake = rows[0].index("Montant en jeu (€)")
    assert rows[1][rows[0].index("Référence")] == pending[120].reference  # oldest first
    assert sorted(row[stake] for row in rows[1:]) == ["7000,00"] * 7 + ["7500,00"]  # French decimal comma
    assert rows[1][rows[0].index("En retard")] == "oui"


def test_the_xlsx_export_has_numbers_with_two_decimals(api, pending):
    response = api.get(url("pending-va-export", "xlsx"), {"couloir": "medecine_ville"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 9 and rows[-1][0] == "Total"  # the header, 7 rows, their total
    header, rows = rows[0], rows[1:-1]
    stake = header.index("Montant en jeu (€)")
    assert all(isinstance(row[stake], (int, float, Decimal)) for row in rows)
    assert sorted(Decimal(str(row[stake])) for row in rows) == [Decimal("7000")] * 6 + [Decimal("7500")]
    first = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    assert first[stake].number_format == "#,##0.00"
    assert first[header.index("Déployé le")].is_date


def test_pipeline_lists_every_state_with_counts_and_amounts(api, pending):
    body = api.get(url("pipeline")).json()
    states = {row["state"]: row for row in body["states"]}
    assert list(states) == [s.value for s in State]
    assert states["deployed"]["count"] == 8 and states["deployed"]["label"] == "Déployé, VA attendue"
    assert states["deployed"]["declared_amount"] == "82000.00"  # 7 × 10 000 + 12 000
    assert states["deployed"]["avance_paid"] == "25500.00"  # 8 × 3 000 + 1 500
    assert states["draft"] == {"state": "draft", "label": "Brouillon", "count": 0, "declared_amount": "0.00",
                               "avance_paid": "0.00", "solde_paid": "0.00"}
    assert states["cancelled"]["count"] == 1 and states["recovery_issued"]["count"] == 1
    assert body["totals"]["count"] == 11


def test_pipeline_counts_solde_paid(api, manager_membership):
    walk_to(State.SOLDE_PAID, membership=manager_membership)
    row = next(r for r in api.get(url("pipeline")).json()["states"] if r["state"] == "solde_paid")
    assert row["count"] == 1 and row["solde_paid"] == "7000.00"


def test_a_dossier_deployed_today_is_in_the_first_bucket(api, manager_membership):
    dossier = deployed(manager_membership, 0)
    body = api.get(url("pending-va")).json()
    assert body["buckets"][0]["count"] == 1 and body["results"][0]["age_days"] == 0
    assert Dossier.objects.get(pk=dossier.pk).deployed_on == days_ago(0)


def test_an_organisation_id_beyond_64_bits_is_bad_input_not_a_crash(api):
    response = api.get("/api/v1/reports/pending-va/", {"organisation": 2**63})
    assert response.status_code == 400
    assert "organisation" in response.json()["errors"]
