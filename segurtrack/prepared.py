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
module turns it on for its own statements only. Behind such a pooler `PREPARED_STATEMENTS` is False (settings:
`DATABASE_DISABLE_SERVER_SIDE_CURSORS=1` turns it off, `DATABASE_PREPARED_STATEMENTS` overrides): Django's own cursor
is then used. Elsewhere than on PostgreSQL, Django's own cursor."""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import psycopg
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet
from django.db.models.query import get_related_populators
from psycopg._queries import PostgresQuery, _query2pg_nocache
from psycopg.postgres import types as _pg_types
from psycopg.pq import Format

TIMESTAMPTZ_OID = _pg_types["timestamptz"].oid
_ONLY_ON_REQUEST = sys.maxsize


# psycopg splits a statement at its placeholders on every execution, remembering the split only of statements
# shorter than 4,096 bytes with at most 50 parameters: the lock (8 kB) and the kept deadlines (15 kB, 77
# parameters) were split again each time, ~1 ms each. This module runs a handful of statements, each fixed text:
# their splits are remembered (the 64 last used), keyed by the whole text and the connection's encoding.
_split = lru_cache(maxsize=64)(_query2pg_nocache)


class _RememberedSplit(PostgresQuery):
    def convert(self, query: Any, vars: Any) -> None:
        if vars is None or not isinstance(query, (str, bytes)):
            super().convert(query, vars)
            return
        query = self._ensure_bytes(query)
        self.query, self._want_formats, self._order, self._parts = _split(query, self._tx.encoding)
        self.dump(vars)


class _PreparingCursor(psycopg.Cursor):
    """A server-binding cursor whose statements are prepared on their first execution."""

    _query_cls = _RememberedSplit

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


class CompiledRead:
    """A queryset read by one parameter (the `stand_in` its factory filters by), compiled by the ORM once per
    connection and run prepared: the ORM's compilation and the server's planning are both paid once, not on every
    call. `rows(connection, value)` returns the model instances as the ORM builds them (`ModelIterable`: the row's
    related instances from select_related, each value through its field's converters); nothing is remembered of
    the answer, so every call reads the table as it is now. Per thread, as Django's connections are."""

    def __init__(self, queryset: Callable[[Any], QuerySet], stand_in: Any):
        self.queryset, self.stand_in = queryset, stand_in
        self._local = threading.local()

    def _compiled(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        compiled = getattr(self._local, "compiled", None)
        if compiled is None or compiled["connection"] is not connection:
            compiler = self.queryset(self.stand_in).query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            assert sum(1 for p in params if p == self.stand_in) == 1, "the stand-in must be one parameter"
            select, klass_info = compiler.select, compiler.klass_info
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            compiled = self._local.compiled = {
                "connection": connection, "compiler": compiler, "sql": sql, "params": tuple(params),
                "model": klass_info["model"], "start": start, "end": end,
                "init_list": [f[0].target.attname for f in select[start:end]],
                "populators": get_related_populators(klass_info, select, connection.alias),
                "annotations": dict(compiler.annotation_col_map or {}),
                "converters": compiler.get_converters([s[0] for s in select[0:compiler.col_count]]),
            }
        return compiled

    def rows(self, connection: BaseDatabaseWrapper, value: Any) -> list[Any]:
        compiled = self._compiled(connection)
        params = [value if p == self.stand_in else p for p in compiled["params"]]
        with cursor(connection) as db_cursor:
            db_cursor.execute(compiled["sql"], params)
            rows = db_cursor.fetchall()
        if compiled["converters"]:
            rows = list(compiled["compiler"].apply_converters(rows, compiled["converters"]))
        instances = []
        start, end = compiled["start"], compiled["end"]
        for row in rows:
            instance = compiled["model"].from_db(connection.alias, compiled["init_list"], row[start:end])
            for populator in compiled["populators"]:
                populator.populate(row, instance)
            for name, position in compiled["annotations"].items():
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances
