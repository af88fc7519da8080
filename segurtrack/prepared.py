"""Server-side prepared statements for the few hot statements whose planning costs more than their execution (a
transition's lock and kept deadlines, the API token's lookup).

Django's psycopg backend binds parameters on the client (a `ClientCursor`: the whole statement is sent as text and
planned on every execution). `cursor(connection)` returns a Django cursor (same wrappers: query logging and
counting, execute wrappers, database errors translated) over a server-binding psycopg cursor that asks psycopg to
prepare each statement it runs: the first execution PREPAREs it under a name psycopg chooses, the next ones only
EXECUTE it, and after five custom plans PostgreSQL keeps a generic plan when it is no dearer, so the statement is no
longer planned at all.

Why it is safe:
- psycopg keeps the names per connection (`_pg3_<n>`, never reused on that connection): a new connection (after
  CONN_MAX_AGE, a failed health check, a dropped connection) starts with none and prepares again; two connections
  cannot collide.
- psycopg forgets every prepared statement after a ROLLBACK (of a transaction or to a savepoint) and sends
  DEALLOCATE ALL before its next statement, and likewise after DROP/ALTER/DISCARD ALL: a statement is never run
  under a name the server no longer knows or that names a table changed under it.
- At most psycopg's `prepared_max` (100) statements per connection; the oldest are deallocated beyond that.

Django turns psycopg's preparing off by default so that a transaction-pooling PgBouncer keeps working; this
module turns it on for its own statements only. Behind such a pooler, set `PREPARED_STATEMENTS = False` in the
settings: Django's own cursor is then used. Elsewhere than on PostgreSQL, Django's own cursor."""
from __future__ import annotations

import sys
from typing import Any

import psycopg
from django.conf import settings
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from psycopg.pq import Format
from psycopg.postgres import types as _pg_types

TIMESTAMPTZ_OID = _pg_types["timestamptz"].oid
_ONLY_ON_REQUEST = sys.maxsize


class _PreparingCursor(psycopg.Cursor):
    """A server-binding cursor whose statements are prepared on their first execution."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                binary: bool | None = None) -> _PreparingCursor:
        return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)

    def _send_query_prepared(self, name: bytes, pgq: Any, *, binary: bool | None = None) -> None:
        # psycopg names the statement sent (what Django's query log reads, `_query`) only when it is not prepared:
        # without this the log and the statement counts of the tests would show None for a prepared one.
        self._query = pgq
        super()._send_query_prepared(name, pgq, binary=binary)


def cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor whose statements are prepared on the server (PostgreSQL), else Django's cursor. Use it as
    Django's: `with prepared.cursor(connection) as cursor: cursor.execute(sql, params)`. The statement's
    parameters are bound on the server: each must have a type PostgreSQL can infer where it stands."""
    if connection.vendor != "postgresql" or not getattr(settings, "PREPARED_STATEMENTS", True):
        return connection.cursor()
    connection.close_if_health_check_failed()  # as Django's `cursor()`: a dead connection is replaced first
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.connection.prepare_threshold is None:
            # Django turns psycopg's preparing off (None: not even on request). Its own cursors never prepare
            # (client-side binding); with a threshold no count reaches, only this module's statements are prepared.
            connection.connection.prepare_threshold = _ONLY_ON_REQUEST
        raw = _PreparingCursor(connection.connection)
        tzloader = raw.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != tzloader.timezone:  # as Django's `create_cursor`
            register_tzloader(connection.timezone, raw)
    return connection._prepare_cursor(raw)
