"""Bulk loading for generated data: ids reserved up front, rows streamed by PostgreSQL COPY (INSERTs elsewhere).

Used by `generate_dossiers` (and the import benchmark's floor). Rows are plain tuples in the order of a `Table`'s columns; nothing here builds
model instances, so memory stays proportional to one batch whatever the total.
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.utils import timezone

from dossiers.models import HistoryEntry
from dossiers.models.records import canonical_json
from segurtrack.bulk_ids import CountedIds, SequenceIds

# The canonical form of HistoryEntry.compute_hash (records.canonical_json) for values that are already JSON:
# sorted keys, no spaces, UTF-8 kept. One encoder, built once, because it runs millions of times.
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
# Actions, states and usernames repeat endlessly: encode each once.
_string = functools.lru_cache(maxsize=4096)(_encode)


def data_json(data: dict[str, Any]) -> str:
    """The canonical JSON of a history row's `data`, whose values must already be JSON (str, int, bool, None)."""
    return _encode(data)


def chain_hash(*, dossier_id: int, seq: int, at: datetime, username: str, action: str, from_state: str,
               to_state: str, data: str, prev_hash: str) -> str:
    """HistoryEntry.compute_hash() without a model instance; `data` is the row's canonical JSON (`data_json`).

    The content is assembled in the sorted key order canonical_json produces; `check_chain_hash` proves the
    two agree before any row is written, so a change to compute_hash stops the load instead of corrupting it.
    """
    content = (f'{{"action":{_string(action)},"at":"{at.isoformat()}","data":{data},"dossier":{dossier_id},'
               f'"from":{_string(from_state)},"prev":"{prev_hash}","seq":{seq},"to":{_string(to_state)},'
               f'"user":{_string(username)}}}')
    return hashlib.sha256(content.encode()).hexdigest()


def check_chain_hash(samples: Iterable[dict[str, Any]]) -> None:
    """Raise ImproperlyConfigured unless chain_hash matches HistoryEntry.compute_hash() on every sample row.

    Each sample holds the keyword arguments of chain_hash, with `data` as a dict.
    """
    for sample in samples:
        entry = HistoryEntry(dossier_id=sample["dossier_id"], seq=sample["seq"], at=sample["at"],
                             username=sample["username"], action=sample["action"], from_state=sample["from_state"],
                             to_state=sample["to_state"], data=sample["data"], prev_hash=sample["prev_hash"])
        ours = chain_hash(**{**sample, "data": data_json(sample["data"])})
        if data_json(sample["data"]) != canonical_json(sample["data"]) or ours != entry.compute_hash():
            raise ImproperlyConfigured(
                "demo.bulk.chain_hash no longer matches HistoryEntry.compute_hash(); update it before loading.")


def _default(field: models.Field, now: datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default() or field.empty_strings_allowed and not field.null:
        value = field.get_default()
    elif field.null:
        return None
    else:
        raise ImproperlyConfigured(f"{field.model.__name__}.{field.name} has no default: the generator must set it.")
    return _encode(value) if isinstance(field, models.JSONField) else value


class Table:
    """A model's table as the generator writes it: the columns it sets, in row order, then every other column.

    A field added to the model later gets its Python default in every row, so COPY keeps working (COPY itself
    only knows database defaults). JSON columns take JSON text.
    """

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        self.model = model
        self.name = model._meta.db_table
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in by_attname]
        if unknown:
            raise ImproperlyConfigured(f"{model.__name__} has no column {unknown}.")
        rest = [f for f in model._meta.concrete_fields if f.attname not in columns and not f.primary_key]
        now = timezone.now()
        self.fields = [by_attname[c] for c in columns] + rest
        self.width = len(columns)
        self.extra = tuple(_default(f, now) for f in rest)

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]

    def full(self, row: tuple) -> tuple:
        return row + self.extra if self.extra else row


class Sink:
    """Where generated rows go: `reserve_ids` hands out primary keys, `write` stores the rows of one table."""

    def begin_batch(self) -> None:
        """Called at the start of each batch's transaction."""

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        raise NotImplementedError   # SequenceIds or CountedIds (segurtrack.bulk_ids)

    def write(self, table: Table, rows: Iterable[tuple]) -> int:
        raise NotImplementedError

    def end_batch(self, models_: Sequence[type[models.Model]]) -> None:
        """Called at the end of each batch's transaction: check the deferred foreign keys now.

        Django declares foreign keys DEFERRABLE INITIALLY DEFERRED, so rows may be written child first; checking
        here makes a bad row fail its own batch, and inside a test's never-committed transaction too.
        """

    def finish(self, models_: Sequence[type[models.Model]]) -> None:
        """Called once after the last batch."""


class CopySink(SequenceIds, Sink):
    """PostgreSQL: ids from the tables' own sequences, rows through COPY FROM STDIN (psycopg 3, text format)."""

    def begin_batch(self) -> None:
        with connection.cursor() as cursor:
            # Only this transaction's commit stops waiting for the WAL flush; a crash loses the batch, never
            # corrupts: the data is generated, so a lost batch is simply generated again.
            cursor.execute("SET LOCAL synchronous_commit = off")

    def end_batch(self, models_: Sequence[type[models.Model]]) -> None:
        with connection.cursor() as cursor:
            # IMMEDIATE runs the checks pending so far; DEFERRED then restores Django's default for the rest of
            # the transaction (the next batch, in a caller's transaction, writes children first again).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def write(self, table: Table, rows: Iterable[tuple]) -> int:
        quote = connection.ops.quote_name
        statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in table.columns)}) FROM STDIN"
        count = 0
        extra = table.extra
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row + extra if extra else row)
                count += 1
        return count

    def finish(self, models_: Sequence[type[models.Model]]) -> None:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(quote(m._meta.db_table) for m in models_)}")


class InsertSink(CountedIds, Sink):
    """Any other database (SQLite): ids counted up from the table's largest, rows by executemany in chunks."""

    CHUNK = 2000

    def end_batch(self, models_: Sequence[type[models.Model]]) -> None:
        connection.check_constraints(table_names=[m._meta.db_table for m in models_])

    def write(self, table: Table, rows: Iterable[tuple]) -> int:
        quote = connection.ops.quote_name
        statement = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in table.columns)}) "
                     f"VALUES ({', '.join(['%s'] * len(table.fields))})")
        # JSON columns already hold JSON text; every other value goes through its field's own conversion.
        preps = [None if isinstance(f, models.JSONField) else f.get_db_prep_save for f in table.fields]
        count = 0
        chunk: list[tuple] = []
        with connection.cursor() as cursor:
            for row in rows:
                chunk.append(tuple(v if prep is None else prep(v, connection)
                                   for prep, v in zip(preps, table.full(row))))
                if len(chunk) >= self.CHUNK:
                    cursor.executemany(statement, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                cursor.executemany(statement, chunk)
                count += len(chunk)
        return count


def sink_for_connection() -> Sink:
    return CopySink() if connection.vendor == "postgresql" else InsertSink()
