"""Date arithmetic in SQL (PostgreSQL and SQLite, the two databases the project runs on): the deadlines' due dates
(dossiers.deadlines) and the reports' ages (reports.queries)."""
from __future__ import annotations

from typing import Any

from django.db import NotSupportedError
from django.db.models import DateField, Func


class AddDays(Func):
    """`date + n days` as a date; `n` is an int or an integer expression (a column of another table)."""

    arity = 2
    output_field = DateField()

    def as_sql(self, compiler, connection, **extra_context):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        days_sql, days_params = compiler.compile(self.source_expressions[1])
        params = (*date_params, *days_params)
        if connection.vendor == "postgresql":
            return f"CAST(({date_sql} + ({days_sql}) * INTERVAL '1 day') AS date)", params
        if connection.vendor == "sqlite":
            return f"date({date_sql}, '+' || ({days_sql}) || ' days')", params
        raise NotSupportedError(f"AddDays is not implemented for {connection.vendor}.")


class AddMonths(Func):
    """`date + n months` as a date, clamped to the month's last day (31 January + 1 month = 28 or 29 February)."""

    arity = 1
    output_field = DateField()

    def __init__(self, expression: Any, months: int, **extra: Any):
        super().__init__(expression, **extra)
        self.months = int(months)

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        n = self.months
        if connection.vendor == "postgresql":
            return f"CAST(({sql} + INTERVAL '{n} months') AS date)", tuple(params)
        if connection.vendor == "sqlite":
            # SQLite overflows into the next month (31/01 + 1 month = 02/03 or 03/03): clamp to the month's end.
            return (f"min(date({sql}, '+{n} months'), date({sql}, 'start of month', '+{n + 1} months', '-1 day'))",
                    (*params, *params))
        raise NotSupportedError(f"AddMonths is not implemented for {connection.vendor}.")
