"""Connections across requests: kept for DATABASE_CONN_MAX_AGE (60 s by default), checked before reuse
(CONN_HEALTH_CHECKS), closed once too old, also after the outbox's publications at the end of a request.

These tests send the request signals themselves, as the WSGI handler does around every request (the test client
leaves the connection alone on purpose), on a connection outside any test transaction.
"""
import time

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection

from dossiers import outbox

# serialized_rollback: the flush after a transactional test would otherwise empty the reference data.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def request(sql: str = "SELECT 1"):
    """One request's cycle: start, a query, finish; returns the driver connection the query used."""
    request_started.send(sender=None)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.fetchone()
    used = connection.connection
    request_finished.send(sender=None)
    return used


def test_the_settings_keep_connections_a_minute_and_check_them():
    assert connection.settings_dict["CONN_MAX_AGE"] == 60
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_one_connection_serves_request_after_request():
    first = request()
    assert request() is first and request() is first
    assert connection.connection is first and not first.closed


def test_a_connection_older_than_its_age_is_closed_when_a_request_ends():
    first = request()
    connection.close_at = time.monotonic() - 1  # its CONN_MAX_AGE has passed
    request_started.send(sender=None)
    assert connection.connection is None and first.closed
    assert request() is not first


def test_a_connection_dropped_between_requests_is_replaced_by_the_health_check():
    first = request()
    first.close()  # the server went away (restart, idle timeout, PgBouncer) while the worker slept
    replacement = request()  # answers: the health check saw the dead connection and opened another
    assert replacement is not first and not replacement.closed


def test_the_outbox_publications_after_the_response_leave_a_young_connection_open():
    first = request()
    outbox.begin_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    outbox._request.pending.append((0, {}))  # a message gone meanwhile: publishing it is a read and nothing else
    assert outbox.finish_request() == 1
    assert connection.connection is first and not first.closed


def test_the_outbox_publications_after_the_response_close_an_old_connection():
    first = request()
    outbox.begin_request()
    outbox._request.pending.append((0, {}))
    connection.close_at = time.monotonic() - 1
    assert outbox.finish_request() == 1
    assert connection.connection is None and first.closed
