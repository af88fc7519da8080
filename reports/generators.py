"""One object per report, as django-oscar's dashboard reports: its columns, its rows, and what its page shows.

The pages, the API and the export jobs ask a report for its rows and hand them to a formatter (CSV and XLSX in
`exports.FORMATTERS`; HTML is the page's template), instead of each building the same rows its own way. A report
reads in a fixed number of queries; the rows of a file are read in chunks.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.extensions import pending_va_figures
from dossiers.models import State
from dossiers.queries import dossiers_of, filter_dossiers
from organisations.models import Organisation

from . import deadlines as dl, exports, queries
from .exports import Column
from .models import ExportJob

Scope = Organisation | int | None    # one organisation, or every organisation (platform staff: None)
MONEY_KEYS = ("declared_amount", "avance_paid", "solde_paid")


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


PENDING_VA_COLUMNS = [
    Column(_("Référence"), lambda r: r.row["reference"]),
    Column(_("Client"), lambda r: r.row["client__name"]),
    Column(_("FINESS géographique"), lambda r: r.row["client__finess_geo"]),
    Column(_("SIRET"), lambda r: r.row["client__siret"]),
    Column(_("Solution"), lambda r: r.row["solution__name"]),
    Column(_("Version"), lambda r: r.row["solution__version"]),
    Column(_("Dispositif"), lambda r: r.row["dispositif__code"]),
    Column(_("Couloir"), lambda r: r.row["dispositif__couloir_id"]),
    Column(_("Déployé le"), lambda r: r.row["deployed_on"], "date"),
    Column(_("Âge (jours)"), lambda r: r.age_days, "int"),
    Column(_("En retard"), lambda r: r.overdue, "bool"),
    Column(_("Montant déclaré (€)"), lambda r: _money(r.row["declared_amount"]), "money"),
    Column(_("Avance payée (€)"), lambda r: _money(r.row["avance_paid_total"]), "money"),
    Column(_("Montant en jeu (€)"), lambda r: r.amount_at_stake, "money"),
]

DOSSIER_FIELDS = (
    "id", "reference", "state", "client__name", "client__finess_geo", "client__siret", "solution__name",
    "solution__version", "dispositif__code", "dispositif__couloir_id", "scenario", "bdc_signed_on", "avance_filed_on",
    "declared_amount", "avance_paid_total", "deployed_on", "va_signed_on", "solde_filed_on", "solde_amount",
    "solde_paid_on", "solde_paid_amount",
)
DOSSIER_COLUMNS = [
    Column(_("Référence"), lambda r: r["reference"]),
    Column(_("État"), lambda r: str(State(r["state"]).label)),
    Column(_("Client"), lambda r: r["client__name"]),
    Column(_("FINESS géographique"), lambda r: r["client__finess_geo"]),
    Column(_("SIRET"), lambda r: r["client__siret"]),
    Column(_("Solution"), lambda r: r["solution__name"]),
    Column(_("Version"), lambda r: r["solution__version"]),
    Column(_("Dispositif"), lambda r: r["dispositif__code"]),
    Column(_("Couloir"), lambda r: r["dispositif__couloir_id"]),
    Column(_("Scénario"), lambda r: r["scenario"]),
    Column(_("BDC signé le"), lambda r: r["bdc_signed_on"], "date"),
    Column(_("Avance déposée le"), lambda r: r["avance_filed_on"], "date"),
    Column(_("Montant déclaré (€)"), lambda r: _money(r["declared_amount"]), "money"),
    Column(_("Avance payée (€)"), lambda r: _money(r["avance_paid_total"]), "money"),
    Column(_("Déployé le"), lambda r: r["deployed_on"], "date"),
    Column(_("VA signée le"), lambda r: r["va_signed_on"], "date"),
    Column(_("Solde déposé le"), lambda r: r["solde_filed_on"], "date"),
    Column(_("Montant du solde (€)"), lambda r: _money(r["solde_amount"]), "money"),
    Column(_("Solde payé le"), lambda r: r["solde_paid_on"], "date"),
    Column(_("Solde payé (€)"), lambda r: _money(r["solde_paid_amount"]), "money"),
]


PIPELINE_COLUMNS = [
    Column(_("État"), lambda r: r["label"]),
    Column(_("Dossiers"), lambda r: r["count"], "int"),
    Column(_("Montant déclaré (€)"), lambda r: _money(r["declared_amount"]), "money"),
    Column(_("Avance payée (€)"), lambda r: _money(r["avance_paid"]), "money"),
    Column(_("Solde payé (€)"), lambda r: _money(r["solde_paid"]), "money"),
]


DEADLINE_COLUMNS = [
    Column(_("Échéance"), lambda d: d["label"]),
    Column(_("Date"), dl.due_date, "date"),
    Column(_("En retard"), lambda d: d["overdue"], "bool"),
    Column(_("Jours restants"), lambda d: d["days_left"], "int"),
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


class PendingVaReport(Report):
    """Deployed dossiers whose VA is awaited: summary (totals, age buckets, per dispositif) and rows."""

    title = _("VA en attente")
    stem = "va-en-attente"
    columns = PENDING_VA_COLUMNS

    def __init__(self, scope: Scope, filters: Mapping[str, Any], *, today: date | None = None):
        self.scope, self.filters = scope, dict(filters)
        self.today = today or timezone.localdate()
        self.queryset = queries.pending_va_queryset(scope, **self.filters)

    @cached_property
    def summary(self) -> dict[str, Any]:
        return queries.pending_va_summary(self.queryset, self.today)

    def figures(self) -> dict[str, Any]:
        """Figures other apps registered (dossiers.extensions), as top-level fields beside the summary."""
        return pending_va_figures(self.scope, self.filters, self.queryset)

    def paginated(self) -> queries.KnownCount:
        """The rows for a paginator, counted by the summary (no second COUNT)."""
        return queries.KnownCount(queries.pending_va_rows(self.queryset), self.summary["total"])

    def item(self, row: dict[str, Any]) -> queries.PendingVa:
        return queries.PendingVa(row, self.today)

    def count(self) -> int:
        return self.queryset.count()

    def rows(self) -> Iterator[queries.PendingVa]:
        return (self.item(row) for row in _chunked(queries.pending_va_rows(self.queryset)))


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
                 kinds: Iterable[str] | None = None):
        self.today, self.now = timezone.localdate(), timezone.now()
        self.queryset = dl.deadline_queryset(organisation, due_before=due_before, today=self.today, kinds=kinds)

    def item(self, row: dict[str, Any]) -> dict[str, Any]:
        return dl.as_deadline(row, today=self.today, now=self.now)

    def count(self) -> int:
        return self.queryset.count()

    def rows(self) -> Iterator[dict[str, Any]]:
        return (self.item(row) for row in self.queryset)


class DossierListReport(Report):
    """The dossier list, filtered as the list page and the API filter it (`dossiers.queries.filter_dossiers`)."""

    title = _("Dossiers")
    stem = "dossiers"
    columns = DOSSIER_COLUMNS

    def __init__(self, organisation: Organisation | int, params: Mapping[str, Any]):
        self.queryset = filter_dossiers(dossiers_of(organisation), params).order_by("id").values(*DOSSIER_FIELDS)

    def count(self) -> int:
        return self.queryset.count()

    def rows(self) -> Iterator[dict[str, Any]]:
        return _chunked(self.queryset)


def for_job(job: ExportJob) -> Report:
    """The report an export job writes, with the filters it was asked with."""
    params = {k: v for k, v in (job.params or {}).items() if v not in (None, "")}
    if job.kind == ExportJob.Kind.PENDING_VA:
        return PendingVaReport(job.organisation_id, {k: params.get(k) for k in ("dispositif", "couloir", "solution")})
    return DossierListReport(job.organisation_id, params)
