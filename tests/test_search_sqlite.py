"""The accent-free search on SQLite, the embedded default: a Python UNACCENT registered on each connection, so the
same `unaccent` lookup works there as on PostgreSQL (where a migration creates the extension)."""
import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from dossiers.models import Client
from segurtrack.search import fold, folded_contains


@pytest.fixture
def sqlite():
    wrapper = DatabaseWrapper({"NAME": ":memory:", "ENGINE": "django.db.backends.sqlite3", "OPTIONS": {},
                               "TIME_ZONE": None, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False,
                               "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False, "USER": "", "PASSWORD": "",
                               "HOST": "", "PORT": "", "TEST": {}}, alias="sqlite-search-test")
    yield wrapper
    wrapper.close()


@pytest.mark.parametrize(("text", "folded"), [("Hôpital Saint-Éloi", "hopital saint-eloi"), ("ÇA", "ca"),
                                              ("plain", "plain"), ("", ""), (None, None)])
def test_fold_drops_accents_and_case(text, folded):
    assert fold(text) == folded


def test_a_new_sqlite_connection_gets_the_unaccent_function(db, sqlite):
    with sqlite.cursor() as cursor:
        cursor.execute("SELECT UNACCENT(%s) LIKE UNACCENT(%s), UNACCENT(%s) LIKE UNACCENT(%s)",
                       ["Hôpital Saint-Éloi", "%HOPITAL%", "Clinique", "%hôpital%"])
        assert cursor.fetchone() == (1, 0)


def test_a_new_sqlite_connection_gets_the_fold_function(db, sqlite):
    with sqlite.cursor() as cursor:
        cursor.execute("SELECT segurtrack_fold(%s) LIKE %s, segurtrack_fold(%s) LIKE %s",
                       ["Hôpital Saint-Éloi", "%hopital%", "Clinique", "%hopital%"])
        assert cursor.fetchone() == (1, 0)


def test_the_lookup_folds_the_column_in_sql_and_the_term_in_python_on_sqlite(sqlite):
    # The same expression as PostgreSQL's trigram indexes (migration dossiers 0015): segurtrack_fold(column).
    queryset = Client.objects.filter(folded_contains("name", "HÔPITAL"))
    sql, params = queryset.query.get_compiler(connection=sqlite).as_sql()
    assert 'segurtrack_fold("dossiers_client"."name") LIKE' in sql
    assert params[-1] == "%hopital%"


@pytest.mark.django_db
def test_the_identifier_search_is_a_list_of_ids_on_sqlite_and_an_array_on_postgresql(sqlite, monkeypatch):
    """The clients' ids are read first (dossiers.queries.search_dossiers): `IN (...)` on SQLite, one array parameter
    on PostgreSQL; past CLIENT_IDS_INLINE, `IN (subquery)` on both."""
    from dossiers import queries

    queryset = queries.dossier_list(1, q="75 000")
    sql, _params = queryset.query.get_compiler(connection=sqlite).as_sql()
    assert '"dossiers_dossier"."client_id" IN (' in sql and "ANY(" not in sql and "IN (SELECT" not in sql
    if connection.vendor == "postgresql":
        sql, _params = queryset.query.sql_with_params()
        assert '"dossiers_dossier"."client_id" = ANY(%s)' in sql and "ARRAY(SELECT" not in sql
    monkeypatch.setattr(queries, "CLIENT_IDS_INLINE", -1)
    sql, _params = queries.dossier_list(1, q="75 000").query.get_compiler(connection=sqlite).as_sql()
    assert '"dossiers_dossier"."client_id" IN (SELECT' in sql
