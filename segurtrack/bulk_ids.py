"""Primary keys reserved before a bulk write, so rows that refer to each other (a dossier and its history) can be
built before any is inserted. Used by the importer and by the demo's loaders.
"""
from __future__ import annotations

from django.db import connection, models


class SequenceIds:
    """PostgreSQL: ids drawn from the table's own sequence, outside any transaction, so they stay ours even when
    another writer inserts meanwhile."""

    def __init__(self):
        self._sequences: dict[str, str] = {}

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        if count == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if table not in self._sequences:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column])
                self._sequences[table] = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self._sequences[table], count])
            return [row[0] for row in cursor.fetchall()]


class CountedIds:
    """Any other database (SQLite): ids counted up from the table's largest.

    Counting from the largest assumes no other writer during the load, which holds for the embedded database;
    a concurrent insert would make the write fail on its primary key, never mix rows.
    """

    def __init__(self):
        self._next: dict[type[models.Model], int] = {}

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        if model not in self._next:
            largest = model._default_manager.aggregate(largest=models.Max("pk"))["largest"] or 0
            self._next[model] = largest + 1
        first = self._next[model]
        self._next[model] = first + count
        return list(range(first, first + count))


def ids_for_connection() -> SequenceIds | CountedIds:
    return SequenceIds() if connection.vendor == "postgresql" else CountedIds()
