"""Reads below the pages, as the API views and the daily tasks call them: the pending-VA and pipeline reports, the
daily deadline scan of the reminders, the FAQ search; each against the floor, for the largest and the mid-size
organisation."""
from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from dossiers.models import Client as ClientModel
from faqref.search import excerpt, query_words, search
from reports import deadlines, queries

from .conftest import compare, count_queries, fetch
from .floors import has

N_REPORT = 20
N_FAST = 200


PENDING_VA_RAW_TOTALS = """
SELECT count(*), count(*) FILTER (WHERE d.deployed_on + o.pending_va_days < %(today)s),
       sum(COALESCE(d.declared_amount, 0) - d.avance_paid_total),
       count(*) FILTER (WHERE d.deployed_on >= %(today)s - 30),
       count(*) FILTER (WHERE d.deployed_on >= %(today)s - 60 AND d.deployed_on <= %(today)s - 31),
       count(*) FILTER (WHERE d.deployed_on >= %(today)s - 90 AND d.deployed_on <= %(today)s - 61),
       count(*) FILTER (WHERE d.deployed_on <= %(today)s - 91)
FROM dossiers_dossier d JOIN organisations_organisation o ON o.id = d.organisation_id
WHERE d.organisation_id = %(org)s AND d.state = 'deployed'"""
PENDING_VA_RAW_BY_DISPOSITIF = """
SELECT p.code, count(*), count(*) FILTER (WHERE d.deployed_on + o.pending_va_days < %(today)s)
FROM dossiers_dossier d JOIN organisations_organisation o ON o.id = d.organisation_id
JOIN dossiers_dispositif p ON p.id = d.dispositif_id
WHERE d.organisation_id = %(org)s AND d.state = 'deployed' GROUP BY p.code ORDER BY p.code"""
PENDING_VA_RAW_ROWS = """
SELECT d.id, d.reference, d.organisation_id, o.pending_va_days, d.client_id, c.name, c.finess_geo, c.siret,
       d.solution_id, s.name, s.version, p.code, p.couloir_id, d.deployed_on, d.declared_amount, d.avance_paid_total
FROM dossiers_dossier d JOIN organisations_organisation o ON o.id = d.organisation_id
JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
JOIN dossiers_dispositif p ON p.id = d.dispositif_id
WHERE d.organisation_id = %(org)s AND d.state = 'deployed' ORDER BY d.deployed_on, d.id LIMIT 50"""

# The same totals and per-dispositif counts from the kept cells (dossiers 0017): counts and amounts from the state
# cells, and only the last days' pending-VA cells (through their (organisation, day) index), the oldest bucket and the
# overdue deduced; the statement the report runs (reports.queries.PENDING_VA_KEPT_SQL) is that best form.
PENDING_VA_KEPT_BY_DISPOSITIF = queries.PENDING_VA_KEPT_SQL.format(where="k.organisation_id = %(org)s")


def pending_va_summary_floor(raw, params) -> tuple[tuple, list]:
    """The totals (count, overdue, amount at stake, the four buckets) and the (dispositif, count, overdue) rows:
    from the kept cells when the schema has them, else from the dossiers."""
    if has(raw, "dossiers_pendingvaday"):
        rows = fetch(raw, PENDING_VA_KEPT_BY_DISPOSITIF, params)
        totals = tuple(sum((row[i] or 0) for row in rows) for i in range(1, 8))
        return totals, [(row[0], row[1], row[2] or 0) for row in rows]
    return fetch(raw, PENDING_VA_RAW_TOTALS, params)[0], fetch(raw, PENDING_VA_RAW_BY_DISPOSITIF, params)


def _pending_va(organisation, today):
    """What the pending-VA report (API and page) reads: the summary, then the first page of 50 rows, paginated
    with the summary's total as its count (as both views do)."""
    from django.core.paginator import Paginator

    queryset = queries.pending_va_queryset(organisation)
    summary = queries.pending_va_summary_of(organisation.pk, {}, queryset, today)
    paginator = Paginator(queries.KnownCount(queries.pending_va_rows(queryset), summary["total"]), 50)
    page = [queries.PendingVa(row, today) for row in paginator.page(1).object_list]
    return summary, paginator.count, [(item.row["id"], item.overdue, item.amount_at_stake) for item in page]


def test_pending_va_report(raw, sized):
    org = sized[1]
    today = timezone.localdate()
    params = {"org": org.pk, "today": today}

    def ours():
        return _pending_va(org, today)

    def floor():
        totals, by_dispositif = pending_va_summary_floor(raw, params)
        rows = fetch(raw, PENDING_VA_RAW_ROWS, params)
        return totals, by_dispositif, rows

    summary, count, page = ours()
    totals, by_dispositif, rows = floor()
    assert (summary["total"], summary["overdue"], count) == (totals[0], totals[1], totals[0])
    assert [b["count"] for b in summary["buckets"]] == list(totals[3:7])
    assert summary["amount_at_stake"] == totals[2]
    assert [(r["dispositif"], r["count"], r["overdue"]) for r in summary["by_dispositif"]] == by_dispositif
    assert [row[0] for row in page] == [row[0] for row in rows]
    compare("pending-VA report (summary + first page)", sized, ours, floor, n=N_REPORT, target=1.5,
            queries=count_queries(ours))


PIPELINE_RAW = """
SELECT state, sum(count), sum(declared_amount), sum(avance_paid), sum(solde_paid)
FROM dossiers_statecount WHERE organisation_id = %s GROUP BY state HAVING sum(count) > 0 ORDER BY state"""


def test_pipeline_report(raw, sized):
    org = sized[1]

    def ours():
        return queries.pipeline(org)

    def floor():
        return fetch(raw, PIPELINE_RAW, [org.pk])

    found = {row["state"]: row["count"] for row in ours() if row["count"]}
    assert found == {row[0]: row[1] for row in floor()}
    compare("pipeline report", sized, ours, floor, n=N_REPORT, target=1.5, queries=count_queries(ours))


DEADLINES_RAW = """
WITH dl AS (
  SELECT 'avance_filing' AS kind, (p.avance_deadline AT TIME ZONE 'Europe/Paris')::date AS due,
         p.avance_deadline AS due_at, d.id AS dossier, d.reference, d.client_id, c.name AS client, d.solution_id,
         s.name || ' ' || s.version AS solution, NULL::int AS object
  FROM dossiers_dossier d JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
  JOIN dossiers_dispositif p ON p.id = d.dispositif_id
  WHERE d.organisation_id = %(org)s AND d.state IN ('draft', 'bdc_signed', 'avance_to_fix')
    AND p.avance_deadline IS NOT NULL
    AND (p.avance_deadline AT TIME ZONE 'Europe/Paris')::date <= %(before)s
  UNION ALL
  SELECT 'esms_prerequisites', d.bdc_signed_on + 7, NULL, d.id, d.reference, d.client_id, c.name, d.solution_id,
         s.name || ' ' || s.version, NULL
  FROM dossiers_dossier d JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
  WHERE d.organisation_id = %(org)s AND c.kind = 'esms' AND d.bdc_signed_on IS NOT NULL
    AND d.state IN ('bdc_signed', 'avance_filed', 'avance_to_fix', 'avance_validated', 'avance_paid', 'deployed')
    AND (c.ans_contract_signed_on IS NULL OR c.cpe_cards NOT IN ('ordered', 'not_needed')
         OR c.software_certificates NOT IN ('ordered', 'not_needed'))
    AND d.bdc_signed_on + 7 <= %(before)s
  UNION ALL
  SELECT 'pending_va', d.deployed_on + %(va_days)s, NULL, d.id, d.reference, d.client_id, c.name, d.solution_id,
         s.name || ' ' || s.version, NULL
  FROM dossiers_dossier d JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
  WHERE d.organisation_id = %(org)s AND d.state = 'deployed' AND d.deployed_on + %(va_days)s <= %(before)s
  UNION ALL
  SELECT 'solde_to_fix', COALESCE(d.solde_fix_due_on, d.solde_fix_requested_on + 14), NULL, d.id, d.reference,
         d.client_id, c.name, d.solution_id, s.name || ' ' || s.version, NULL
  FROM dossiers_dossier d JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
  WHERE d.organisation_id = %(org)s AND d.state = 'solde_to_fix' AND d.solde_fix_requested_on IS NOT NULL
    AND COALESCE(d.solde_fix_due_on, d.solde_fix_requested_on + 14) <= %(before)s
  UNION ALL
  SELECT 'avance_to_fix', COALESCE(d.avance_fix_due_on, d.avance_fix_requested_on + 14), NULL, d.id, d.reference,
         d.client_id, c.name, d.solution_id, s.name || ' ' || s.version, NULL
  FROM dossiers_dossier d JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
  WHERE d.organisation_id = %(org)s AND d.state = 'avance_to_fix' AND d.avance_fix_requested_on IS NOT NULL
    AND COALESCE(d.avance_fix_due_on, d.avance_fix_requested_on + 14) <= %(before)s
  UNION ALL
  SELECT 'portability', r.requested_on + 15, NULL, NULL, NULL, r.client_id, c.name, NULL, NULL, r.id
  FROM dossiers_portabilityrequest r JOIN dossiers_client c ON c.id = r.client_id
  WHERE c.organisation_id = %(org)s AND r.fulfilled_on IS NULL AND r.requested_on + 15 <= %(before)s
  UNION ALL
  SELECT 'ans_notice', x.changed_on + 15, NULL, NULL, NULL, NULL, NULL, x.solution_id, s.name || ' ' || s.version, x.id
  FROM dossiers_solutionchange x JOIN dossiers_solution s ON s.id = x.solution_id
  WHERE s.organisation_id = %(org)s AND x.affects_conformity AND x.ans_notified_on IS NULL
    AND x.changed_on + 15 <= %(before)s
  UNION ALL
  SELECT 'rereferencing', (x.rereferencing_requested_on + interval '1 month')::date, NULL, NULL, NULL, NULL, NULL,
         x.solution_id, s.name || ' ' || s.version, x.id
  FROM dossiers_solutionchange x JOIN dossiers_solution s ON s.id = x.solution_id
  WHERE s.organisation_id = %(org)s AND x.rereferencing_requested_on IS NOT NULL AND x.rereferencing_filed_on IS NULL
    AND (x.rereferencing_requested_on + interval '1 month')::date <= %(before)s
  UNION ALL
  SELECT 'maintenance_end', (d.va_signed_on + interval '72 months')::date, NULL, d.id, d.reference, d.client_id,
         c.name, d.solution_id, s.name || ' ' || s.version, NULL
  FROM dossiers_dossier d JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
  WHERE d.organisation_id = %(org)s AND d.va_signed_on IS NOT NULL AND d.maintenance_contract
    AND d.state IN ('va_signed', 'solde_filed', 'solde_to_fix', 'solde_validated', 'solde_paid')
    AND (d.va_signed_on + interval '72 months')::date BETWEEN %(today)s AND %(before)s
  UNION ALL
  SELECT 'recovery', d.recovery_issued_on, NULL, d.id, d.reference, d.client_id, c.name, d.solution_id,
         s.name || ' ' || s.version, NULL
  FROM dossiers_dossier d JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
  WHERE d.organisation_id = %(org)s AND d.state = 'recovery_issued' AND d.recovery_issued_on <= %(before)s
)
SELECT * FROM dl ORDER BY due, due_at, kind, dossier, object"""


def test_daily_deadline_scan(raw, sized):
    """What the daily reminders read per organisation: every deadline due within the reminder horizon."""
    from .floors import deadlines_floor

    org = sized[1]
    today = timezone.localdate()
    before = today + timedelta(days=deadlines.REMINDER_HORIZON_DAYS)
    assert set(ClientModel.Prerequisite.values) == {"ordered", "not_needed"}

    def ours():
        return deadlines.deadlines_for(org, due_before=before, today=today)

    def floor():
        return deadlines_floor(raw, org, limit=10**9, due_before=before)

    mine, theirs = ours(), floor()
    assert len(mine) == len(theirs)
    compare("daily deadline scan", sized, ours, floor, n=N_REPORT // 2, target=2, queries=count_queries(ours),
            notes=f"{len(theirs):,} rows", answer_grows=True)  # every open deadline of the horizon


SEARCH_RAW = """
WITH q AS (SELECT websearch_to_tsquery('french_unaccent', %(q)s) AS q)
SELECT e.id, e.slug, e.question, e.derived_title, e.text, e.fingerprint, e.facets, e.created_at, e.updated_at,
       ts_rank(e.search_vector, q.q) AS rank,
       ts_headline('french_unaccent', e.text, q.q, %(options)s) AS headline
FROM faqref_entry e, q WHERE e.search_vector @@ q.q ORDER BY rank DESC, e.id LIMIT 20"""
SEARCH_OPTIONS = ("StartSel='\ue000', StopSel='\ue001', MaxWords=35, MinWords=20, ShortWord=2, MaxFragments=1")


def test_faq_search(raw, sized):
    if sized[0] != "largest":
        return  # the FAQ is the same for every organisation: measured once
    assert connection.vendor == "postgresql"
    q = "facture du solde et PV pilote validé"
    words = " or ".join(query_words(q))

    def ours():
        return [(entry.pk, entry.rank, excerpt(entry, q)) for entry in search(q)[:20]]

    def floor():
        return fetch(raw, SEARCH_RAW, {"q": words, "options": SEARCH_OPTIONS})

    mine, theirs = ours(), floor()
    assert mine, "the FAQ is empty: import it (manage.py import_faq)"
    assert [row[0] for row in mine] == [row[0] for row in theirs]
    compare("FAQ search (top 20, headline)", sized, ours, floor, n=N_FAST, target=2, queries=count_queries(ours))
