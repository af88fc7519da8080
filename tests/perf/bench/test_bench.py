"""Each case of the benchmark: the real code path (ours) against the hand-written SQL the case needs (raw),
same data and organisation, alternated; ratio of medians asserted against its target."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from dossiers import services
from reports import deadlines, queries
from dossiers.models import Client as ClientModel
from faqref.search import excerpt, query_words, search
from organisations.models import Organisation

from .conftest import compare, count_queries

N_PAGE = 60
N_REPORT = 40
N_FAST = 200


def fetch(raw, sql: str, params=()) -> list:
    with raw.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def get_page(client, url: str):
    """The timed side that asks our page: the client gets `url`, which must answer 200 (the response is returned)."""
    def ours():
        response = client.get(url)
        assert response.status_code == 200
        return response
    return ours


@pytest.fixture(scope="module")
def org() -> Organisation:
    """The biggest organisation, and the smallest (to check that query counts do not depend on the data)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT organisation_id FROM dossiers_dossier GROUP BY 1 ORDER BY count(*) DESC, 1")
        ids = [row[0] for row in cursor.fetchall()]
    assert ids, "the benchmark database holds no dossier: run scripts/bench.sh"
    return Organisation.objects.get(pk=ids[0])


@pytest.fixture(scope="module")
def small_org() -> Organisation:
    with connection.cursor() as cursor:
        cursor.execute("SELECT organisation_id FROM dossiers_dossier GROUP BY 1 ORDER BY count(*), 1 LIMIT 1")
        return Organisation.objects.get(pk=cursor.fetchone()[0])


def _member(organisation: Organisation, role: str = "manager"):
    return get_user_model().objects.get(memberships__organisation=organisation, memberships__role=role)


@pytest.fixture
def member_client(org):
    client = Client()
    client.force_login(_member(org))
    yield client
    client.logout()


DOSSIER_JOINS = """
    FROM dossiers_dossier d
    JOIN dossiers_client c ON c.id = d.client_id
    JOIN dossiers_solution s ON s.id = d.solution_id
    JOIN dossiers_dispositif p ON p.id = d.dispositif_id
    JOIN dossiers_couloir co ON co.code = p.couloir_id"""


# --- pages ----------------------------------------------------------------------------------------------------------

def test_dossier_list_page_with_filters(member_client, raw, org):
    couloir = fetch(raw, "SELECT p.couloir_id FROM dossiers_dossier d JOIN dossiers_dispositif p ON p.id = "
                         "d.dispositif_id WHERE d.organisation_id = %s AND d.state = 'va_signed' GROUP BY 1 "
                         "ORDER BY count(*) DESC LIMIT 1", [org.pk])[0][0]
    url = f"/dossiers/?state=va_signed&couloir={couloir}&sort=-updated&page=2"
    where = "WHERE d.organisation_id = %s AND d.state = 'va_signed' AND p.couloir_id = %s"

    ours = get_page(member_client, url)

    def raw_side():
        fetch(raw, "SELECT code, label FROM dossiers_couloir ORDER BY code")
        fetch(raw, "SELECT * FROM dossiers_dispositif ORDER BY code")
        fetch(raw, "SELECT * FROM dossiers_solution WHERE organisation_id = %s ORDER BY name, version", [org.pk])
        total = fetch(raw, f"SELECT count(*) FROM dossiers_dossier d JOIN dossiers_dispositif p "
                           f"ON p.id = d.dispositif_id {where}", [org.pk, couloir])[0][0]
        rows = fetch(raw, f"SELECT d.*, c.*, s.*, p.*, co.* {DOSSIER_JOINS} {where} "
                          f"ORDER BY d.updated_at DESC, d.id DESC LIMIT 25 OFFSET %s",
                    [org.pk, couloir, 25 if total > 25 else 0])  # a small dataset has one page: Django shows it
        fetch(raw, "SELECT * FROM dossiers_blocker WHERE dossier_id = ANY(%s) ORDER BY rule",
              [[row[0] for row in rows]])
        return total, rows

    total, rows = raw_side()
    page = ours().context["page"]
    assert page.paginator.count == total and [d.pk for d in page] == [row[0] for row in rows]
    n = count_queries(ours)
    result = compare("dossier list page (state + couloir, page 2)", ours, raw_side, n=N_PAGE, target=2,
                     queries=n)
    assert result.ratio <= 2


def test_admin_dossier_changelist(raw, org):
    """The Django admin's changelist on the same organisation and state (its filters), as a point of comparison."""
    with transaction.atomic():
        admin = get_user_model().objects.create_superuser("bench-admin", "bench@example.invalid", None)
        client = Client()
        client.force_login(admin)
        url = f"/admin/dossiers/dossier/?organisation__id__exact={org.pk}&state__exact=va_signed&p=2"
        where = "WHERE d.organisation_id = %s AND d.state = 'va_signed'"

        ours = get_page(client, url)

        def raw_side():
            fetch(raw, "SELECT * FROM dossiers_dispositif ORDER BY code")
            fetch(raw, "SELECT * FROM organisations_organisation ORDER BY name")
            total = fetch(raw, f"SELECT count(*) FROM dossiers_dossier d {where}", [org.pk])[0][0]
            fetch(raw, "SELECT count(*) FROM dossiers_dossier")  # the admin's full result count
            rows = fetch(raw, f"SELECT d.*, c.*, s.*, p.*, o.* {DOSSIER_JOINS} JOIN organisations_organisation o "
                              f"ON o.id = d.organisation_id {where} ORDER BY d.id DESC LIMIT 100 OFFSET %s",
                         [org.pk, 100 if total > 100 else 0])
            fetch(raw, "SELECT * FROM dossiers_blocker WHERE dossier_id = ANY(%s)", [[row[0] for row in rows]])
            return total, rows

        total, rows = raw_side()
        changelist = ours().context["cl"]
        assert changelist.result_count == total
        assert [d.pk for d in changelist.result_list] == [row[0] for row in rows]
        n = count_queries(ours)
        compare("admin changelist (organisation + state, page 2 of 100 rows)", ours, raw_side, n=N_PAGE // 2,
                target=None, queries=n, notes="comparison only")
        transaction.set_rollback(True)


def _dossier(raw, org, state: str) -> int:
    """A dossier of the state with the longest history (the page shows all of it)."""
    return fetch(raw, "SELECT id FROM dossiers_dossier WHERE organisation_id = %s AND state = %s "
                      "ORDER BY history_seq DESC, id LIMIT 1", [org.pk, state])[0][0]


def test_dossier_page(member_client, raw, org):
    pk = _dossier(raw, org, "solde_paid")

    ours = get_page(member_client, f"/dossiers/{pk}/")

    def raw_side():
        fetch(raw, f"SELECT d.*, c.*, s.*, p.*, co.* {DOSSIER_JOINS} WHERE d.organisation_id = %s AND d.id = %s",
              [org.pk, pk])
        fetch(raw, "SELECT doc.*, u.* FROM dossiers_document doc LEFT JOIN auth_user u ON u.id = doc.uploaded_by_id "
                   "WHERE doc.dossier_id = %s ORDER BY doc.uploaded_at, doc.id", [pk])
        fetch(raw, "SELECT * FROM dossiers_amendment WHERE dossier_id = %s ORDER BY filed_on, id", [pk])
        fetch(raw, "SELECT * FROM dossiers_historyentry WHERE dossier_id = %s ORDER BY seq", [pk])
        fetch(raw, "SELECT * FROM dossiers_blocker WHERE dossier_id = %s ORDER BY rule", [pk])

    n = count_queries(ours)
    compare("dossier page (solde paid, longest history)", ours, raw_side, n=N_PAGE, target=None, queries=n)


def test_pre_solde_checklist_page(member_client, raw, org):
    pk = _dossier(raw, org, "va_signed")

    ours = get_page(member_client, f"/dossiers/{pk}/solde/")

    def raw_side():
        row = fetch(raw, f"SELECT d.*, c.*, s.*, p.*, co.* {DOSSIER_JOINS} "
                         f"WHERE d.organisation_id = %s AND d.id = %s", [org.pk, pk])[0]
        fetch(raw, "SELECT doc.*, u.* FROM dossiers_document doc LEFT JOIN auth_user u ON u.id = doc.uploaded_by_id "
                   "WHERE doc.dossier_id = %s ORDER BY doc.uploaded_at, doc.id", [pk])
        fetch(raw, "SELECT * FROM dossiers_pvpilote WHERE solution_id = (SELECT solution_id FROM dossiers_dossier "
                   "WHERE id = %s)", [pk])
        fetch(raw, "SELECT * FROM dossiers_amendment WHERE dossier_id = %s ORDER BY filed_on, id", [pk])
        return row

    n = count_queries(ours)
    compare("pre-solde checklist page (VA signed)", ours, raw_side, n=N_PAGE, target=None, queries=n)


# --- transition -----------------------------------------------------------------------------------------------------

def test_one_transition_through_the_service(raw, org):
    manager = _member(org)
    pk = fetch(raw, "SELECT id FROM dossiers_dossier WHERE organisation_id = %s AND state = 'avance_filed' "
                    "ORDER BY id LIMIT 1", [org.pk])[0][0]
    today = timezone.localdate()

    def ours():
        with transaction.atomic():
            outcome = services.run_transition(pk, "validate_avance", by=manager, data={"on": today.isoformat()})
            assert outcome.dossier.state == "avance_validated"
            transaction.set_rollback(True)

    def raw_side():
        with raw.transaction(force_rollback=True):
            with raw.cursor() as cursor:
                cursor.execute(
                    "UPDATE dossiers_dossier SET state = 'avance_validated', avance_validated_on = %s, "
                    "state_changed_at = now(), updated_at = now(), history_seq = history_seq + 1, history_hash = %s "
                    "WHERE id = %s AND state = 'avance_filed' RETURNING history_seq, history_hash",
                    [today, "0" * 64, pk])
                seq, _hash = cursor.fetchone()
                cursor.execute(
                    "INSERT INTO dossiers_historyentry (dossier_id, seq, at, user_id, username, action, from_state, "
                    "to_state, data, prev_hash, hash) VALUES (%s, %s, now(), %s, %s, 'validate_avance', "
                    "'avance_filed', 'avance_validated', %s, %s, %s)",
                    [pk, seq, manager.pk, manager.username, f'{{"on": "{today.isoformat()}"}}', "0" * 64, "1" * 64])

    n = count_queries(ours)
    result = compare("one transition (validate_avance, rolled back)", ours, raw_side, n=N_FAST, target=3,
                     queries=n)
    assert result.ratio <= 3


# --- reports --------------------------------------------------------------------------------------------------------

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


def _pending_va(organisation, today):
    """What the pending-VA report (API and page) reads: the summary, then the first page of 50 rows, paginated
    with the summary's total as its count (as both views do)."""
    from django.core.paginator import Paginator

    queryset = queries.pending_va_queryset(organisation)
    summary = queries.pending_va_summary(queryset, today)
    paginator = Paginator(queries.KnownCount(queries.pending_va_rows(queryset), summary["total"]), 50)
    page = [queries.PendingVa(row, today) for row in paginator.page(1).object_list]
    return summary, paginator.count, [(item.row["id"], item.overdue, item.amount_at_stake) for item in page]


def test_pending_va_report(raw, org, small_org):
    today = timezone.localdate()
    params = {"org": org.pk, "today": today}

    def ours():
        return _pending_va(org, today)

    def raw_side():
        totals = fetch(raw, PENDING_VA_RAW_TOTALS, params)[0]
        by_dispositif = fetch(raw, PENDING_VA_RAW_BY_DISPOSITIF, params)
        rows = fetch(raw, PENDING_VA_RAW_ROWS, params)
        return totals, by_dispositif, rows

    summary, count, page = ours()
    totals, by_dispositif, rows = raw_side()
    assert (summary["total"], summary["overdue"], count) == (totals[0], totals[1], totals[0])
    assert [b["count"] for b in summary["buckets"]] == list(totals[3:7])
    assert summary["amount_at_stake"] == totals[2]
    assert [(r["dispositif"], r["count"], r["overdue"]) for r in summary["by_dispositif"]] == by_dispositif
    assert [row[0] for row in page] == [row[0] for row in rows]
    n = count_queries(ours)
    assert n == count_queries(lambda: _pending_va(small_org, today))
    result = compare("pending-VA report (summary + first page, as the API view)", ours, raw_side,
                     n=N_REPORT, target=1.5, queries=n)

    assert result.ratio <= 1.5


PIPELINE_RAW = """
SELECT state, count(*), COALESCE(sum(declared_amount), 0), COALESCE(sum(avance_paid_total), 0),
       COALESCE(sum(solde_paid_amount), 0)
FROM dossiers_dossier WHERE organisation_id = %s GROUP BY state ORDER BY state"""


def test_pipeline_report(raw, org, small_org):
    def ours():
        return queries.pipeline(org)

    def raw_side():
        return fetch(raw, PIPELINE_RAW, [org.pk])

    found = {row["state"]: row["count"] for row in ours() if row["count"]}
    assert found == {row[0]: row[1] for row in raw_side()}
    n = count_queries(ours)
    assert n == count_queries(lambda: queries.pipeline(small_org))
    result = compare("pipeline report", ours, raw_side, n=N_REPORT, target=1.5, queries=n)
    assert result.ratio <= 1.5


# --- deadline scan --------------------------------------------------------------------------------------------------

DEADLINES_RAW = """
WITH dl AS (
  SELECT 'avance_filing' AS kind, (p.avance_deadline AT TIME ZONE 'Europe/Paris')::date AS due,
         p.avance_deadline AS due_at, d.id AS dossier, d.reference, d.client_id, c.name AS client, d.solution_id,
         s.name || ' ' || s.version AS solution, NULL::int AS object
  FROM dossiers_dossier d JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
  JOIN dossiers_dispositif p ON p.id = d.dispositif_id
  WHERE d.organisation_id = %(org)s AND d.state IN ('draft', 'bdc_signed') AND p.avance_deadline IS NOT NULL
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
  SELECT 'solde_to_fix', d.solde_fix_requested_on + 7, NULL, d.id, d.reference, d.client_id, c.name, d.solution_id,
         s.name || ' ' || s.version, NULL
  FROM dossiers_dossier d JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
  WHERE d.organisation_id = %(org)s AND d.state = 'solde_to_fix' AND d.solde_fix_requested_on + 7 <= %(before)s
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
  WHERE d.organisation_id = %(org)s AND d.va_signed_on IS NOT NULL
    AND d.state IN ('va_signed', 'solde_filed', 'solde_to_fix', 'solde_validated', 'solde_paid')
    AND (d.va_signed_on + interval '72 months')::date BETWEEN %(today)s AND %(before)s
  UNION ALL
  SELECT 'recovery', d.recovery_issued_on, NULL, d.id, d.reference, d.client_id, c.name, d.solution_id,
         s.name || ' ' || s.version, NULL
  FROM dossiers_dossier d JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_solution s ON s.id = d.solution_id
  WHERE d.organisation_id = %(org)s AND d.state = 'recovery_issued' AND d.recovery_issued_on <= %(before)s
)
SELECT * FROM dl ORDER BY due, due_at, kind, dossier, object"""


def test_daily_deadline_scan(raw, org, small_org):
    """What the daily reminders read per organisation: every deadline due within the reminder horizon."""
    today = timezone.localdate()
    before = today + timedelta(days=deadlines.REMINDER_HORIZON_DAYS)
    params = {"org": org.pk, "today": today, "before": before, "va_days": org.pending_va_days}
    assert set(ClientModel.Prerequisite.values) == {"ordered", "not_needed"}

    def ours():
        return deadlines.deadlines_for(org, due_before=before, today=today)

    def raw_side():
        return fetch(raw, DEADLINES_RAW, params)

    mine, theirs = ours(), raw_side()
    assert [(d["kind"], d["dossier"], d["object_id"]) for d in mine] == [(r[0], r[3], r[9]) for r in theirs]
    n = count_queries(ours)
    assert n == count_queries(lambda: deadlines.deadlines_for(small_org, due_before=before, today=today))
    result = compare(f"daily deadline scan ({len(theirs):,} rows)", ours, raw_side, n=N_REPORT // 2, target=2,
                     queries=n)
    assert result.ratio <= 2


# --- FAQ search -----------------------------------------------------------------------------------------------------

SEARCH_RAW = """
WITH q AS (SELECT websearch_to_tsquery('french_unaccent', %(q)s) AS q)
SELECT e.id, e.slug, e.question, e.derived_title, e.text, e.fingerprint, e.facets, e.created_at, e.updated_at,
       ts_rank(e.search_vector, q.q) AS rank,
       ts_headline('french_unaccent', e.text, q.q, %(options)s) AS headline
FROM faqref_entry e, q WHERE e.search_vector @@ q.q ORDER BY rank DESC, e.id LIMIT 20"""
SEARCH_OPTIONS = ("StartSel='\ue000', StopSel='\ue001', MaxWords=35, MinWords=20, ShortWord=2, MaxFragments=1")


def test_faq_search(raw):
    if connection.vendor != "postgresql":
        pytest.skip("the FAQ search benchmark is for PostgreSQL's full text")
    q = "facture du solde et PV pilote validé"

    words = " or ".join(query_words(q))

    def ours():
        return [(entry.pk, entry.rank, excerpt(entry, q)) for entry in search(q)[:20]]

    def raw_side():
        return fetch(raw, SEARCH_RAW, {"q": words, "options": SEARCH_OPTIONS})

    mine, theirs = ours(), raw_side()
    assert mine, "the FAQ is empty: import it (manage.py import_faq)"
    assert [row[0] for row in mine] == [row[0] for row in theirs]
    n = count_queries(ours)
    result = compare("FAQ search (top 20, headline)", ours, raw_side, n=N_FAST, target=2, queries=n)
    assert result.ratio <= 2
