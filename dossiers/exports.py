"""CSV and XLSX exports of the pending-VA report and of the dossier list: data only, never a formula.

CSV: UTF-8 with a BOM and `;` separators (what a French spreadsheet opens without a wizard), dates ISO 8601,
money with the French decimal comma ("1234,50") so French Excel and LibreOffice read it as a number. A text cell
that a spreadsheet would evaluate (it starts with =, +, -, @, tab or CR) is prefixed with an apostrophe (OWASP
"CSV injection"). XLSX: real dates (DD/MM/YYYY), numbers with two decimals, and every text as a string cell
(openpyxl would store a string starting with "=" as a formula). Identifiers are text: leading zeros stay.
Rows are read in chunks.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organisations.models import Organisation

from . import queries
from .models import Dossier, ExportJob, State

CHUNK_SIZE = 500
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "DD/MM/YYYY"


@dataclass(frozen=True)
class Column:
    header: Any          # lazy French header
    get: Callable[[Any], Any]
    kind: str = "text"   # text, int, money, date, bool


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


def pipeline_rows(scope: Organisation | int | None, **filters: Any) -> list[dict[str, Any]]:
    """The pipeline report's rows (every state, zeros included) and a last "Total" row (one query)."""
    states = queries.pipeline(scope, **filters)
    total = {"label": str(_("Total")), "count": sum(row["count"] for row in states),
             **{key: sum((row[key] for row in states), start=queries.ZERO)
                for key in ("declared_amount", "avance_paid", "solde_paid")}}
    return [*states, total]


@dataclass
class Source:
    """What an export writes: its columns, how many rows, and the rows (read in chunks)."""

    columns: list[Column]
    queryset: QuerySet
    wrap: Callable[[Any], Any] = lambda row: row

    def count(self) -> int:
        return self.queryset.count()

    def rows(self) -> Iterator[Any]:
        for row in self.queryset.iterator(chunk_size=CHUNK_SIZE):
            yield self.wrap(row)


def pending_va_source(scope: Organisation | int | None, *, today: date | None = None, **filters: Any) -> Source:
    today = today or timezone.localdate()
    queryset = queries.pending_va_rows(queries.pending_va_queryset(scope, **filters))
    return Source(PENDING_VA_COLUMNS, queryset, lambda row: queries.PendingVa(row, today))


def dossiers_source(organisation: Organisation | int, params: dict[str, Any]) -> Source:
    from .api.filters import DossierFilter  # the list's own filter semantics (state, dispositif, couloir, q…)

    queryset = Dossier.objects.filter(organisation=organisation)
    queryset = DossierFilter(data=params, queryset=queryset).qs.order_by("id").values(*DOSSIER_FIELDS)
    return Source(DOSSIER_COLUMNS, queryset)


def source_for(job: ExportJob) -> Source:
    params = {k: v for k, v in (job.params or {}).items() if v not in (None, "")}
    if job.kind == ExportJob.Kind.PENDING_VA:
        return pending_va_source(job.organisation_id, **{k: params.get(k) for k in ("dispositif", "couloir", "solution")})
    return dossiers_source(job.organisation_id, params)


# --- writers -----------------------------------------------------------------------------------------------------------

# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection"), tab and CR included.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def inert_text(value: str) -> str:
    """The text as a spreadsheet shows it without evaluating it: a leading apostrophe when it could be a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(value):.2f}".replace(".", ",")
    if kind == "int":
        return str(int(value))
    if kind == "bool":
        return str(_("oui") if value else _("non"))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return inert_text(str(value))


def xlsx_value(value: Any, kind: str) -> Any:
    """The cell value and its openpyxl data type: numbers and dates typed, everything else a string cell."""
    if value is None:
        return None, None
    if kind == "money":
        return Decimal(value), "n"
    if kind == "int":
        return int(value), "n"
    if kind == "date":
        return value, "d"
    if kind == "bool":
        return str(_("oui") if value else _("non")), "s"
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # Control characters are not allowed in an XLSX file (openpyxl refuses them): they are dropped.
    return ILLEGAL_CHARACTERS_RE.sub("", str(value)), "s"


def csv_lines(columns: list[Column], rows: Iterable[Any]) -> Iterator[str]:
    """The CSV text line by line (a BOM first), for streaming or for a file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([str(c.header) for c in columns])
    yield "\ufeff" + flush()
    for row in rows:
        writer.writerow([csv_cell(c.get(row), c.kind) for c in columns])
        yield flush()


def write_csv(columns: list[Column], rows: Iterable[Any], handle: IO[str]) -> None:
    for line in csv_lines(columns, rows):
        handle.write(line)


def write_xlsx(columns: list[Column], rows: Iterable[Any], handle: IO[bytes], *, title: str = "Export") -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=str(column.header))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for column in columns:
            value, data_type = xlsx_value(column.get(row), column.kind)
            cell = WriteOnlyCell(sheet, value=value)
            if data_type == "s":
                # Set after the value: openpyxl guesses "f" (formula) for any string starting with "=".
                cell.data_type = "s"
            elif column.kind == "money" and value is not None:
                cell.number_format = MONEY_FORMAT
            elif column.kind == "date" and value is not None:
                cell.number_format = DATE_FORMAT
            cells.append(cell)
        sheet.append(cells)
    workbook.save(handle)


def counting(rows: Iterable[Any], total: int, on_progress: Callable[[int, int], None],
             every: int | None = None) -> Iterator[Any]:
    """Yield the rows, calling `on_progress(done, total)` after each chunk."""
    every = every or CHUNK_SIZE
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % every == 0:
            on_progress(done, total)
    on_progress(done, total)
