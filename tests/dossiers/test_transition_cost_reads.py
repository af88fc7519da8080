"""The dossier page's and the pre-solde checklist's reads: few, fixed, each table read once."""
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers import queries, services
from dossiers.checklist import checklist_for
from dossiers.models import State

from ..factories import PvPiloteFactory, attach, walk_to

# Session, then user with membership (one joined statement): what every page reads before its own.
REQUEST = 2
CHECKLIST = 6


def long_dossier(membership, documents: int, history: int):
    dossier = walk_to(State.VA_SIGNED, membership=membership)
    PvPiloteFactory(solution=dossier.solution)
    while dossier.documents.count() < documents:
        attach(dossier, "other", membership.user)
    n = 0
    while dossier.history.count() < history:
        n += 1
        services.update_dossier(dossier.pk, by=membership.user, changes={"installed_version": f"v{n}"})
    return dossier


def main_table(sql: str) -> str:
    """The table a statement reads from: its first FROM outside parentheses (not a subquery's)."""
    depth = 0
    for i, char in enumerate(sql):
        depth += (char == "(") - (char == ")")
        if depth == 0 and sql.startswith(' FROM "', i):
            return re.match(r' FROM "(\w+)"', sql[i:]).group(1)
    return ""


def page_reads(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_the_checklist_reads_at_most_six_queries_each_table_once(manager_membership, client):
    dossier = long_dossier(manager_membership, documents=10, history=50)
    client.force_login(manager_membership.user)
    reads = page_reads(client, reverse("dossier-solde", args=[dossier.pk]))
    own = reads[REQUEST:]
    assert len(own) <= CHECKLIST, own
    assert [main_table(q) for q in own].count("dossiers_document") == 1  # listed once, the rules reuse the rows


def test_the_checklist_reads_the_same_with_few_or_many_documents(manager_membership, client):
    small = long_dossier(manager_membership, documents=2, history=10)
    large = long_dossier(manager_membership, documents=12, history=50)
    client.force_login(manager_membership.user)
    assert len(page_reads(client, reverse("dossier-solde", args=[small.pk]))) == len(
        page_reads(client, reverse("dossier-solde", args=[large.pk])))


def test_the_checklist_items_judge_the_documents_of_the_prefetched_rows(manager_membership,
                                                                         django_assert_num_queries):
    """The rules see the same documents whether they come from the page's rows or from their own read."""
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    PvPiloteFactory(solution=dossier.solution)
    attach(dossier, "invoice", manager_membership.user)
    loaded = queries.dossier_for_solde(manager_membership.organisation_id, dossier.pk)
    with django_assert_num_queries(2):  # PV pilote, last amendment: the documents come from the rows
        from_rows = {item.rule.code: item.status for item in checklist_for(loaded).items}
    dossier.refresh_from_db()
    own = {item.rule.code: item.status for item in checklist_for(dossier).items}
    assert from_rows == own and from_rows["solde.invoice_document"] == "ok"


def test_the_dossier_page_reads_the_same_with_a_short_or_a_long_history(manager_membership, client):
    short = long_dossier(manager_membership, documents=2, history=10)
    long = long_dossier(manager_membership, documents=10, history=50)
    client.force_login(manager_membership.user)
    few = page_reads(client, reverse("dossier-detail", args=[short.pk]))
    many = page_reads(client, reverse("dossier-detail", args=[long.pk]))
    assert len(few) == len(many) <= REQUEST + 9, many
    own = many[REQUEST:]
    for table in ("dossiers_dossier", "dossiers_document", "dossiers_historyentry", "dossiers_blocker"):
        assert [main_table(q) for q in own].count(table) == 1, (table, own)
