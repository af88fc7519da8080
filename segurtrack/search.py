"""Searches that ignore accents and case: "hopital" finds "Hôpital", "HÔPITAL" and "hopital".

`folded_contains("client_name", q)` builds the filter `segurtrack_fold(client_name) LIKE '%<q folded>%'`: the term is
folded here, in Python, and the column by the SQL function `segurtrack_fold`, which is exactly the expression the
trigram indexes hold, so PostgreSQL answers from them instead of reading every row. On PostgreSQL the function is
`lower(public.unaccent('public.unaccent', $1))` declared IMMUTABLE (unaccent itself is only STABLE, which an index
refuses), created by the migration dossiers 0015 over the `unaccent` extension of 0011; on SQLite (the embedded
default) a Python function of the same name, registered on each connection here, with `UNACCENT` beside it.
"""
from __future__ import annotations

import unicodedata

from django.db import connection
from django.db.backends.signals import connection_created
from django.db.models import CharField, F, Func, Q
from django.db.models.lookups import Contains

SQLITE_FUNCTION = "UNACCENT"
FOLD_FUNCTION = "segurtrack_fold"


def fold(text: str | None) -> str | None:
    """Text without its accents (NFKD, combining marks dropped), lower-cased; None stays None (SQL NULL)."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def _register_sqlite_function(sender=None, connection=None, **kwargs) -> None:
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 1, fold, deterministic=True)
        connection.connection.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)


connection_created.connect(_register_sqlite_function, dispatch_uid="segurtrack.search.unaccent")


class Fold(Func):
    """`segurtrack_fold(expression)`: the text folded as `fold` does, the expression the trigram indexes hold."""
    function = FOLD_FUNCTION
    output_field = CharField()


def folded_contains(field: str, term: str) -> Q:
    """`field` contains `term`, ignoring accents and case, on PostgreSQL and SQLite."""
    if connection.vendor == "sqlite" and connection.connection is not None:
        # A connection opened before this module was imported missed the signal.
        _register_sqlite_function(connection=connection)
    return Q(Contains(Fold(F(field)), fold(term)))
