"""The report objects: the same rows whichever formatter writes them."""
import csv
import io
from datetime import timedelta

import pytest

from reports import generators
from reports.exports import FORMATTERS

from .conftest import deployed

pytestmark = pytest.mark.django_db


def csv_rows(report: generators.Report) -> list[list[str]]:
    handle = io.BytesIO()
    FORMATTERS["csv"].write(report.columns, report.rows(), handle)
    return list(csv.reader(io.StringIO(handle.getvalue().decode("utf-8-sig")), delimiter=";"))


def test_the_deadlines_report_writes_one_line_per_deadline_overdue_or_not(manager_membership, outsider_membership):
    late, soon = deployed(manager_membership, 40), deployed(manager_membership, 10)
    deployed(outsider_membership, 40)
    report = generators.DeadlinesReport(manager_membership.organisation, kinds=["pending_va"])
    header, *lines = csv_rows(report)
    assert header == ["Échéance", "Date", "En retard", "Jours restants", "Référence", "Client", "Solution",
                      "Reste dû (€)"]
    assert report.count() == len(lines) == 2
    assert [(line[2], line[3], line[4]) for line in lines] == [("oui", "-10", late.reference),
                                                               ("non", "20", soon.reference)]
    assert lines[0][1] == (late.deployed_on + timedelta(days=30)).isoformat()  # the organisation's 30-day delay


def test_the_pipeline_report_ends_with_its_total_in_every_format(manager_membership):
    deployed(manager_membership, 3)
    report = generators.PipelineReport(manager_membership.organisation_id, {})
    lines = csv_rows(report)
    assert lines[-1][:2] == ["Total", "1"] and len(lines) == report.count() + 1  # the header, then the rows
    response = FORMATTERS["xlsx"].response(report.columns, report.rows(), filename="pipeline.xlsx")
    assert response["Content-Type"] == FORMATTERS["xlsx"].content_type
    assert 'filename="pipeline.xlsx"' in response["Content-Disposition"]
