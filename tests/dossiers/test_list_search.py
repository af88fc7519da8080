"""The list's search ignores accents and case both ways (dossiers and clients), and on PostgreSQL it and every list
sort are answered from the organisation's indexes (migration dossiers 0015), not by reading the organisation."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dossiers import queries
from dossiers.models import Client, Dossier

from ..factories import ClientFactory, SolutionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(organisation, outsider_membership):
    solution = SolutionFactory(organisation=organisation)
    made = {}
    for name, reference in [("Hôpital Saint-Éloi", "SÉG-ÉTÉ-1"), ("HOPITAL DU LAC", "seg-ete-2"),
                            ("Clinique des Lilas", "AUTRE-3")]:
        client = ClientFactory(organisation=organisation, name=name)
        made[name] = Dossier.objects.create(organisation=organisation, client=client, solution=solution,
                                            dispositif_id=solution.dispositif_id, reference=reference)
    other = outsider_membership.organisation
    other_solution = SolutionFactory(organisation=other)
    Dossier.objects.create(organisation=other, client=ClientFactory(organisation=other, name="Hôpital Voisin"),
                           solution=other_solution, dispositif_id=other_solution.dispositif_id, reference="SEG-ETE-9")
    return made


def found(organisation_id: int, q: str) -> set[str]:
    return {d.client_name for d in queries.dossier_list(organisation_id, q=q)}


@pytest.mark.parametrize("q", ["hopital", "HÔPITAL", "Hôpital", "hÔpItAl", "  hopital  "])
def test_the_dossier_search_ignores_accents_and_case_on_both_sides(named, organisation, q):
    assert found(organisation.pk, q) == {"Hôpital Saint-Éloi", "HOPITAL DU LAC"}


@pytest.mark.parametrize(("q", "expected"), [
    ("saint-eloi", {"Hôpital Saint-Éloi"}),
    ("SÉG-été", {"Hôpital Saint-Éloi", "HOPITAL DU LAC"}),      # the reference, folded too
    ("seg-ete-2", {"HOPITAL DU LAC"}),
    ("lilas", {"Clinique des Lilas"}),
    ("hôpitaux", set()),
    ("100%", set()),                                          # LIKE's wildcards are searched as text
])
def test_the_dossier_search_reads_client_names_and_references(named, organisation, q, expected):
    assert found(organisation.pk, q) == expected


def test_the_search_never_lists_another_organisations_dossiers(named, organisation, outsider_membership):
    assert "Hôpital Voisin" not in found(organisation.pk, "hopital")
    assert found(outsider_membership.organisation_id, "HOPITAL") == {"Hôpital Voisin"}


@pytest.mark.parametrize("q", ["hopital", "HÔPITAL", "hÔpital"])
def test_the_client_search_ignores_accents_and_case_on_both_sides(named, organisation, q):
    assert {c.name for c in queries.clients_of(organisation.pk, q)} == {"Hôpital Saint-Éloi", "HOPITAL DU LAC"}


def test_an_identifier_is_found_typed_with_spaces(named, organisation):
    client = named["Clinique des Lilas"].client
    typed = " ".join([client.finess_geo[:3], client.finess_geo[3:6], client.finess_geo[6:]])
    assert found(organisation.pk, typed) == {"Clinique des Lilas"}
    assert {c.name for c in queries.clients_of(organisation.pk, typed)} == {"Clinique des Lilas"}


def test_an_identifier_is_looked_up_among_the_organisations_own_clients(named, organisation, outsider_membership):
    """A short number matches thousands of clients: the list reads only its organisation's ids (the API, given no
    organisation, every one's), once, and passes them as one array; it finds the same dossiers either way."""
    client = named["Clinique des Lilas"].client
    with CaptureQueriesContext(connection) as read:
        listed = queries.dossier_list(organisation.pk, q=client.finess_geo)
    assert len(read.captured_queries) == 1                               # the clients' ids, when the filter is built
    ids_sql = read.captured_queries[0]["sql"]
    assert f'"organisation_id" = {organisation.pk}' in ids_sql and "ORDER BY" not in ids_sql   # no sort by name
    assert {d.client_name for d in listed} == {"Clinique des Lilas"}
    if connection.vendor == "postgresql":
        assert '"client_id" = ANY(' in str(listed.query) and "ARRAY(SELECT" not in str(listed.query)
    with CaptureQueriesContext(connection) as read:
        everyone = queries.filter_dossiers(queries.dossiers_of(organisation.pk), {"q": client.finess_geo})
    assert '"organisation_id"' not in read.captured_queries[0]["sql"]
    assert {d.client_name for d in everyone} == {"Clinique des Lilas"}


def test_past_the_inline_cap_the_clients_are_a_subquery(named, organisation, monkeypatch):
    """More matching clients than CLIENT_IDS_INLINE: `IN (subquery)` (hashed), the same dossiers."""
    client = named["Clinique des Lilas"].client
    monkeypatch.setattr(queries, "CLIENT_IDS_INLINE", 0)
    listed = queries.dossier_list(organisation.pk, q=client.finess_geo)
    assert '"client_id" IN (SELECT' in str(listed.query)
    assert {d.client_name for d in listed} == {"Clinique des Lilas"}
    assert found(organisation.pk, "99999999999999") == set()


def test_a_term_shorter_than_a_trigram_is_a_filter_with_the_same_answer(named, organisation):
    """One or two characters hold no trigram: `strpos` (a filter on the organisation's rows) rather than a
    `LIKE` the trigram index would answer with every row of the table; accents and case still ignored."""
    assert found(organisation.pk, "lî") == {"Clinique des Lilas"}           # "Lilas", folded both ways
    assert found(organisation.pk, "Ô") == {"Hôpital Saint-Éloi", "HOPITAL DU LAC"}
    assert found(organisation.pk, "zq") == set()
    assert found(organisation.pk, "%") == set()                               # a literal, not a wildcard
    short = str(queries.dossier_list(organisation.pk, q="li").query)
    assert "LIKE" not in short and ("STRPOS" in short.upper() or "INSTR" in short.upper())
    assert "LIKE" in str(queries.dossier_list(organisation.pk, q="lil").query)
    client = named["Clinique des Lilas"].client
    digit = client.finess_geo[0]
    assert "Clinique des Lilas" in found(organisation.pk, digit)            # a one-digit number: the identifiers


# --- the plans (PostgreSQL, the target: CI runs the suite on it) ---------------------------------------------

def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A test table is tiny: without this PostgreSQL rightly reads it whole, which says nothing of the indexes.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes are PostgreSQL's")


@pytest.fixture
def crowd(named, organisation):
    """2,000 more drafts and clients of the organisation, then fresh statistics: the planner then knows that the
    organisation alone selects many rows, as it does at size, and reads the search's indexes."""
    solution = SolutionFactory(organisation=organisation)
    clients = Client.objects.bulk_create([Client(organisation=organisation, name=f"Centre {n}", kind=Client.Kind.PS,
                                                 department="75") for n in range(2000)])
    Dossier.objects.bulk_create([Dossier(organisation=organisation, client=client, client_name=client.name,
                                         solution=solution, dispositif_id=solution.dispositif_id, reference=f"F-{n}")
                                 for n, client in enumerate(clients)])
    with connection.cursor() as cursor:
        # The suite's inserts (rolled back, still listed) pile up in the GIN indexes' pending lists, which only a
        # VACUUM folds in; their size weighs on the plan's cost: fold them now, as autovacuum does in production.
        cursor.execute("SELECT gin_clean_pending_list(indexrelid) FROM pg_index JOIN pg_class ON oid = indexrelid "
                       "WHERE relname LIKE %s", ["%_trgm"])
        cursor.execute("ANALYZE dossiers_dossier")
        cursor.execute("ANALYZE dossiers_client")


@postgresql_only
def test_the_search_reads_the_trigram_indexes(crowd, organisation):
    searched = plan(queries.dossier_list(organisation.pk, q="hopital").order_by())
    assert "dossier_org_client_name_trgm" in searched and "dossier_org_reference_trgm" in searched, searched
    by_identifier = plan(queries.identifier_clients("75012", organisation.pk))
    assert "client_org_finess_geo_trgm" in by_identifier and "client_org_siret_trgm" in by_identifier, by_identifier
    with_ids = plan(queries.dossier_list(organisation.pk, q="750 12").order_by())
    assert "client_id = ANY" in with_ids and "SubPlan" not in with_ids, with_ids
    clients = plan(queries.clients_of(organisation.pk, "hopital"))
    assert "client_org_name_trgm" in clients, clients


@postgresql_only
@pytest.mark.parametrize(("sort", "index"), [
    (None, "dossier_org_updated"), ("-updated", "dossier_org_updated"), ("updated", "dossier_org_updated"),
    ("client", "dossier_org_client_name"), ("-client", "dossier_org_client_name"),
    ("reference", "dossier_org_reference"), ("-reference", "dossier_org_reference"),
    ("state", "dossier_org_state_id"), ("-state", "dossier_org_state_id"),
])
def test_each_sort_reads_its_page_in_order_from_its_index(crowd, organisation, sort, index):
    page = plan(queries.dossier_list(organisation.pk, sort=sort)[:25])
    assert f"Index Scan Backward using {index} " in page or f"Index Scan using {index} " in page, page
    assert "Sort Key" not in page.split(index)[0], page        # no sort above the index: it gives the order


@postgresql_only
def test_a_keyset_page_seeks_in_the_index(crowd, organisation):
    queryset = queries.dossier_list(organisation.pk, sort="client")
    last = list(queryset[:1000])[-1]
    seeking = plan(queries.after_key(queryset, "client", queries.sort_key(last, "client"))[:25])
    assert "Index Cond: ((organisation_id = " in seeking and "client_name)::text >= " in seeking, seeking


@postgresql_only
def test_the_benchmark_command_explains_every_list_query(crowd, organisation):
    out = StringIO()
    call_command("explain_dossier_list", depth=100, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"organisation {organisation.pk}: 2003 dossiers"
    labels = [line[:45].strip() for line in lines[1:]]
    assert labels[:8] == [f"page 1, sort {sort}" for sort in queries.SORTS]
    assert "deep page (key), sort client" in labels and all(" ms" in line for line in lines[1:])
    assert "dossier_org_client_name" in next(line for line in lines if line.startswith("deep page (key), sort client"))


def test_the_benchmark_command_needs_dossiers(db):
    with pytest.raises(CommandError):
        call_command("explain_dossier_list", stdout=StringIO())
