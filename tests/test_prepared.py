"""segurtrack/prepared.py: statements prepared on the server, safe across rollbacks and new connections, still
logged and counted as Django's."""
from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from segurtrack import prepared

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
SQL = "SELECT %s::integer + 1 AS prepared_probe"

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")


def run(value: int) -> int:
    with prepared.cursor(connection) as cursor:
        cursor.execute(SQL, [value])
        return cursor.fetchone()[0]


def server_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%prepared_probe%"])
        return [row[0] for row in cursor.fetchall()]


def test_the_answer_is_the_statements_with_or_without_preparing(settings):
    assert run(41) == 42
    settings.PREPARED_STATEMENTS = False
    assert run(1) == 2


@on_postgres
def test_a_statement_is_prepared_once_and_reused():
    assert run(1) == 2 and run(2) == 3
    assert len(server_statements()) == 1


@on_postgres
def test_without_preparing_nothing_is_prepared(settings):
    settings.PREPARED_STATEMENTS = False
    assert run(1) == 2
    assert server_statements() == []


@on_postgres
def test_a_rollback_forgets_the_statements_and_the_next_call_prepares_again():
    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            assert run(1) == 2
            1 / 0
    assert run(5) == 6  # not "prepared statement does not exist"
    assert len(server_statements()) == 1
    with transaction.atomic():
        with pytest.raises(ZeroDivisionError), transaction.atomic():  # a savepoint rolled back
            assert run(2) == 3
            1 / 0
        assert run(6) == 7


@on_postgres
def test_a_new_connection_starts_without_statements_and_prepares_again():
    assert run(1) == 2
    connection.close()
    assert run(2) == 3
    assert len(server_statements()) == 1


def test_the_statements_are_logged_and_counted_as_djangos():
    with CaptureQueriesContext(connection) as captured:
        run(1)
        run(2)
    assert len(captured.captured_queries) == 2
    assert all("prepared_probe" in query["sql"] for query in captured.captured_queries)


def test_a_database_error_is_djangos():
    from django.db import DatabaseError
    with pytest.raises(DatabaseError), transaction.atomic(), prepared.cursor(connection) as cursor:
        cursor.execute("SELECT 1 / %s::integer", [0])
