"""Searches that ignore accents and case: "hopital" finds "Hôpital", "HÔPITAL" and "hopital".

`folded_contains("client__name", q)` builds the filter. It uses the `unaccent` lookup django.contrib.postgres
registers: on PostgreSQL the `unaccent` extension (created by the migration dossiers 0011_unaccent_extension); on
SQLite (the embedded default) a Python function of the same name, registered on each connection here. Both sides of
the comparison are unaccented (the lookup is bilateral) and compared case-insensitively.
"""
from __future__ import annotations

import unicodedata

from django.db import connection
from django.db.backends.signals import connection_created
from django.db.models import Q

SQLITE_FUNCTION = "UNACCENT"


def fold(text: str | None) -> str | None:
    """Text without its accents (NFKD, combining marks dropped), lower-cased; None stays None (SQL NULL)."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def _register_sqlite_function(sender=None, connection=None, **kwargs) -> None:
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 1, fold, deterministic=True)


connection_created.connect(_register_sqlite_function, dispatch_uid="segurtrack.search.unaccent")


def folded_contains(field: str, term: str) -> Q:
    """`field` contains `term`, ignoring accents and case, on PostgreSQL and SQLite."""
    if connection.vendor == "sqlite" and connection.connection is not None:
        # A connection opened before this module was imported missed the signal.
        _register_sqlite_function(connection=connection)
    return Q(**{f"{field}__unaccent__icontains": term})
