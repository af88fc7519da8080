"""One object per report, as django-oscar's dashboard reports: its columns, its rows, and what its page shows.

The pages, the API and the export jobs ask a report for its rows and hand them to a formatter (CSV and XLSX in
`exports.FORMATTERS`; HTML is the page's template), instead of each building the same rows its own way. A report
reads in a fixed number of queries; the rows of a file are read in chunks.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from typing import Any

from django.db import connection
from psycopg.adapt import Loader
from django.db.models import (
    Case, CharField, DecimalField, ExpressionWrapper, F, Func, IntegerField, QuerySet, Value, When,
)
from django.db.models.lookups import GreaterThan
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from dossiers.extensions import pending_va_figures
from dossiers.models import Client, State
from dossiers.queries import dossiers_of, filter_dossiers
from organisations.models import Organisation

from . import deadlines as dl, exports, queries, xlsx
from .exports import Column
from .models import ExportJob

Scope = Organisation | int | None    # one organisation, or every organisation (platform staff: None)
MONEY_KEYS = ("declared_amount", "avance_paid", "solde_paid")
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
XLSX_FETCH = 2000  # rows of rendered cells per fetch (about 1 kB each)


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def _labelled(field: str, choices: Iterable[tuple[str, Any]]) -> Case:
    """A code read as its French label by the database (the code itself if unknown)."""
    return Case(*[When(**{field: code}, then=Value(str(label))) for code, label in choices], default=F(field),
                output_field=CharField())


def _owner_name() -> Coalesce:
    """The owner as the list page names them: full name, else user name; NULL when nobody."""
    full = Trim(Concat(F("owner__user__first_name"), Value(" "), F("owner__user__last_name"),
                       output_field=CharField()))
    return Coalesce(NullIf(full, Value("")), F("owner__user__username"), output_field=CharField())


class DaysBetween(Func):
    """`later - earlier` in days, on the two databases the project runs on (as `queries.AddDays`)."""

    arity = 2
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        later_sql, later_params = compiler.compile(self.source_expressions[0])
        earlier_sql, earlier_params = compiler.compile(self.source_expressions[1])
        params = (*later_params, *earlier_params)
        if connection.vendor == "sqlite":
            return f"CAST(julianday({later_sql}) - julianday({earlier_sql}) AS integer)", params
        return f"(CAST({later_sql} AS date) - {earlier_sql})", params


def pending_va_columns(today: date) -> list[Column]:
    """The pending-VA rows' columns, read by the database: age and lateness on `today` as `queries.PendingVa` derives
    them, the dispositif and couloir by their labels."""
    age = DaysBetween(Value(today), F("deployed_on"))
    stake = ExpressionWrapper(Coalesce(F("declared_amount"), Value(queries.ZERO))
                              - Coalesce(F("avance_paid_total"), Value(queries.ZERO)), output_field=MONEY_FIELD)
    return [
        Column(_("Référence"), None, source="reference", width=18),
        Column(_("Client"), None, source="client__name", width=40),
        Column(_("FINESS géographique"), None, source="client__finess_geo", width=21),
        Column(_("SIRET"), None, source="client__siret", width=16),
        Column(_("Solution"), None, source="solution__name", width=28),
        Column(_("Version"), None, source="solution__version", width=10),
        Column(_("Dispositif"), None, source="dispositif__label", width=45),
        Column(_("Code dispositif"), None, source="dispositif__code", width=18),
        Column(_("Couloir"), None, source="dispositif__couloir__label", width=30),
        Column(_("Déployé le"), None, "date", source="deployed_on"),
        Column(_("Âge (jours)"), None, "int", total=False, source=age),
        Column(_("En retard"), None, "bool", source=GreaterThan(age, F("organisation__pending_va_days"))),
        Column(_("Montant déclaré (€)"), None, "money", source="declared_amount"),
        Column(_("Avance payée (€)"), None, "money", source="avance_paid_total"),
        Column(_("Montant en jeu (€)"), None, "money", source=stake),
    ]


def dossier_columns() -> list[Column]:
    """The dossier list's columns, each read by the database (`source`): states and client kinds by their French
    labels, the dispositif and couloir by theirs, the owner by name."""
    return [
        Column(_("Référence"), None, source="reference", width=18),
        Column(_("État"), None, source=_labelled("state", State.choices), width=30),
        Column(_("Client"), None, source="client__name", width=40),
        Column(_("Type de client"), None, source=_labelled("client__kind", Client.Kind.choices), width=28),
        Column(_("FINESS géographique"), None, source="client__finess_geo", width=21),
        Column(_("SIRET"), None, source="client__siret", width=16),
        Column(_("Solution"), None, source="solution__name", width=28),
        Column(_("Version"), None, source="solution__version", width=10),
        Column(_("Dispositif"), None, source="dispositif__label", width=45),
        Column(_("Code dispositif"), None, source="dispositif__code", width=18),
        Column(_("Couloir"), None, source="dispositif__couloir__label", width=30),
        Column(_("Scénario"), None, source="scenario", width=20),
        Column(_("Responsable"), None, source=_owner_name(), width=24),
        Column(_("BDC signé le"), None, "date", source="bdc_signed_on"),
        Column(_("Avance déposée le"), None, "date", source="avance_filed_on"),
        # Amounts come from numeric(12, 2) columns: already Decimals with two places.
        Column(_("Montant déclaré (€)"), None, "money", source="declared_amount"),
        Column(_("Avance payée (€)"), None, "money", source="avance_paid_total"),
        Column(_("Déployé le"), None, "date", source="deployed_on"),
        Column(_("VA signée le"), None, "date", source="va_signed_on"),
        Column(_("Solde déposé le"), None, "date", source="solde_filed_on"),
        Column(_("Montant du solde (€)"), None, "money", source="solde_amount"),
        Column(_("Solde payé le"), None, "date", source="solde_paid_on"),
        Column(_("Solde payé (€)"), None, "money", source="solde_paid_amount"),
    ]


# Its rows end with their own "Total" row: no column is summed again.
PIPELINE_COLUMNS = [
    Column(_("État"), lambda r: r["label"]),
    Column(_("Dossiers"), lambda r: r["count"], "int", total=False),
    Column(_("Montant déclaré (€)"), lambda r: _money(r["declared_amount"]), "money", total=False),
    Column(_("Avance payée (€)"), lambda r: _money(r["avance_paid"]), "money", total=False),
    Column(_("Solde payé (€)"), lambda r: _money(r["solde_paid"]), "money", total=False),
]


DEADLINE_COLUMNS = [
    Column(_("Échéance"), lambda d: d["label"]),
    Column(_("Date"), dl.due_date, "date"),
    Column(_("En retard"), lambda d: d["overdue"], "bool"),
    Column(_("Jours restants"), lambda d: d["days_left"], "int", total=False),
    Column(_("Référence"), lambda d: d["reference"]),
    Column(_("Client"), lambda d: d["client"]),
    Column(_("Solution"), lambda d: d["solution"]),
    Column(_("Reste dû (€)"), lambda d: None if d["amount"] is None else Decimal(d["amount"]), "money"),
]


def _chunked(queryset: QuerySet) -> Iterator[Any]:
    return queryset.iterator(chunk_size=exports.CHUNK_SIZE)


class Report:
    """A report: its title (a sheet's name), the stem of its file names, its columns and its rows."""

    title: Any = ""
    stem = "rapport"
    columns: list[Column] = []

    def rows(self) -> Iterable[Any]:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError


class RawText(Loader):
    def load(self, data: Any) -> bytes:
        return bytes(data)


class SqlReport(Report):
    """A report whose columns the database reads (`Column.source`), each under an alias `c0`…`cN`: the CSV's rows
    are those values, the XLSX's cells are written by the same statement (`xlsx_rows`)."""

    queryset: QuerySet

    def source_columns(self) -> list[Column]:
        raise NotImplementedError

    @cached_property
    def columns(self) -> list[Column]:  # type: ignore[override]
        return [replace(column, get=itemgetter(f"c{i}")) for i, column in enumerate(self.source_columns())]

    def values(self) -> QuerySet:
        return self.queryset.values("id", **{f"c{i}": F(c.source) if isinstance(c.source, str) else c.source
                                             for i, c in enumerate(self.source_columns())})

    def count(self) -> int:
        return self.queryset.count()

    def rows(self) -> Iterator[dict[str, Any]]:
        return _chunked(self.values())

    @property
    def renders_cells(self) -> bool:
        """Whether `xlsx_rows` can write the cells (its SQL is PostgreSQL's; on SQLite the cells are written in
        Python from `rows`)."""
        return connection.vendor == "postgresql"

    def xlsx_rows(self) -> Iterator[tuple[Any, ...]]:
        """Each row's cells as SpreadsheetML, then its summed values: one statement, read in chunks."""
        columns = self.columns
        sql, params = self.values().query.sql_with_params()
        statement, params = xlsx.sql_cells(sql, params, [f"c{i}" for i in range(len(columns))],
                                           [c.kind for c in columns], [c.summed for c in columns],
                                           yes=gettext("oui"), no=gettext("non"))
        with connection.chunked_cursor() as cursor:
            # The cells arrive as bytes: nothing decodes them only for the archive to encode them again.
            cursor.cursor.adapters.register_loader("text", RawText)
            cursor.execute(statement, params)
            while chunk := cursor.fetchmany(XLSX_FETCH):
                yield from chunk


class PendingVaReport(SqlReport):
    """Deployed dossiers whose VA is awaited: summary (totals, age buckets, per dispositif) and rows."""

    title = _("VA en attente")
    stem = "va-en-attente"

    def __init__(self, scope: Scope, filters: Mapping[str, Any], *, today: date | None = None):
        self.scope, self.filters = scope, dict(filters)
        self.today = today or timezone.localdate()
        self.queryset = queries.pending_va_queryset(scope, **self.filters)

    @cached_property
    def summary(self) -> dict[str, Any]:
        return queries.pending_va_summary_of(self.scope, self.filters, self.queryset, self.today)

    def figures(self) -> dict[str, Any]:
        """Figures other apps registered (dossiers.extensions), as top-level fields beside the summary."""
        return pending_va_figures(self.scope, self.filters, self.queryset, total=self.summary["total"])

    def paginated(self) -> queries.KnownCount:
        """The rows for a paginator, counted by the summary (no second COUNT)."""
        return queries.KnownCount(queries.pending_va_rows(self.queryset), self.summary["total"])

    def item(self, row: dict[str, Any]) -> queries.PendingVa:
        return queries.PendingVa(row, self.today)

    def source_columns(self) -> list[Column]:
        return pending_va_columns(self.today)

    def values(self) -> QuerySet:
        # A file's rows: oldest deployment first, as the page's (`queries.pending_va_rows`).
        return super().values().order_by("deployed_on", "id")


class PipelineReport(Report):
    """Count and amounts per state, every state listed, then a total."""

    title = _("Pipeline")
    stem = "pipeline"
    columns = PIPELINE_COLUMNS

    def __init__(self, scope: Scope, filters: Mapping[str, Any]):
        self.states = queries.pipeline(scope, **filters)

    @cached_property
    def totals(self) -> dict[str, Any]:
        return {"count": sum(row["count"] for row in self.states),
                **{key: sum((row[key] for row in self.states), start=queries.ZERO) for key in MONEY_KEYS}}

    def count(self) -> int:
        return len(self.states) + 1

    def rows(self) -> list[dict[str, Any]]:
        """Every state, then a last "Total" row."""
        return [*self.states, {"label": str(_("Total")), **self.totals}]


class DeadlinesReport(Report):
    """The organisation's deadlines, upcoming and overdue, soonest first (`dl.deadline_queryset`)."""

    title = _("Échéances")
    stem = "echeances"
    columns = DEADLINE_COLUMNS

    def __init__(self, organisation: Organisation, *, due_before: date | None = None,
                 kinds: Iterable[str] | None = None, with_url: bool = True):
        """`with_url=False`: the deadlines without their API address (a page that does not show it)."""
        self.today, self.now = timezone.localdate(), timezone.now()
        self.organisation, self.due_before, self.kinds = organisation, due_before, kinds
        self.shape = dl.Shaper(today=self.today, now=self.now, with_url=with_url)

    @cached_property
    def queryset(self) -> QuerySet:
        # Built when read (the pages, the exports): the API's pages read `paginated()` alone.
        return dl.deadline_queryset(self.organisation, due_before=self.due_before, today=self.today,
                                    kinds=self.kinds)

    def item(self, row: dict[str, Any]) -> dict[str, Any]:
        return self.shape(tuple(row[name] for name in dl.COLUMNS))

    def paginated(self) -> dl.ShapedRows:
        """The deadlines for a paginator: each page read in one query and shaped at once."""
        return dl.ShapedRows(dl.kept_read(self.organisation, today=self.today, due_before=self.due_before,
                                          kinds=self.kinds), self.shape)

    def count(self) -> int:
        return self.queryset.count()

    def rows(self) -> Iterator[dict[str, Any]]:
        return (self.item(row) for row in self.queryset)


class DossierListReport(SqlReport):
    """The dossier list, filtered as the list page and the API filter it (`dossiers.queries.filter_dossiers`)."""

    title = _("Dossiers")
    stem = "dossiers"

    def __init__(self, organisation: Organisation | int, params: Mapping[str, Any], *,
                 queryset: QuerySet | None = None):
        """The organisation's dossiers filtered by `params`, by id; or `queryset`, the list page's own (its owner
        filter and sort), already scoped to the organisation."""
        if queryset is None:
            queryset = filter_dossiers(dossiers_of(organisation), params).order_by("id")
        self.queryset = queryset

    def source_columns(self) -> list[Column]:
        return dossier_columns()


def for_job(job: ExportJob) -> Report:
    """The report an export job writes, with the filters it was asked with."""
    params = {k: v for k, v in (job.params or {}).items() if v not in (None, "")}
    if job.kind == ExportJob.Kind.PENDING_VA:
        return PendingVaReport(job.organisation_id, {k: params.get(k) for k in ("dispositif", "couloir", "solution")})
    return DossierListReport(job.organisation_id, params)
