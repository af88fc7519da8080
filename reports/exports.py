"""The CSV and XLSX formatters of the reports (`generators`): data only, never a formula, streamed.

CSV: UTF-8 with a BOM and `;` separators (what a French spreadsheet opens without a wizard), dates ISO 8601,
money with the French decimal comma ("1234,50") so French Excel and LibreOffice read it as a number. A text cell
that a spreadsheet would evaluate (it starts with =, +, -, @, tab or CR) is prefixed with an apostrophe (OWASP
"CSV injection"). A CSV is data for machines: no totals row. XLSX (`reports.xlsx`): real dates (DD/MM/YYYY),
numbers with two decimals, every text an inline string cell (never a formula), a bold frozen header with an
autofilter, column widths, and a "Total" row of the money columns (`Column.total`). Identifiers are text: leading
zeros stay. Rows are read in chunks and both files leave as they are written.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.http import HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext, gettext_lazy as _

from . import xlsx

CHUNK_SIZE = 500
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "DD/MM/YYYY"


@dataclass(frozen=True)
class Column:
    header: Any          # lazy French header
    get: Callable[[Any], Any]
    kind: str = "text"   # text, int, money, date, bool
    # Summed in the XLSX's "Total" row: money columns unless told otherwise (an age or a count of days is not).
    total: bool | None = field(default=None)
    # Where the database reads it (a field path or an expression), for a report read by SQL (`SqlReport`).
    source: Any = None
    width: int | None = None   # the XLSX column's width in characters, when known (else from the first rows)

    @property
    def summed(self) -> bool:
        return self.kind == "money" if self.total is None else self.total


# --- writers -----------------------------------------------------------------------------------------------------------

# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection"), tab and CR included.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def inert_text(value: str) -> str:
    """The text as a spreadsheet shows it without evaluating it: a leading apostrophe when it could be a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def csv_cell(value: Any, kind: str) -> str:
    return csv_writer(kind)(value)


def xlsx_value(value: Any, kind: str) -> Any:
    """The value an XLSX cell holds and its type ("n" number, "d" date, "s" string): what `reports.xlsx` writes."""
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
    return str(value).translate(xlsx.CONTROL_CHARACTERS), "s"


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _csv_money(value: Any) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def _csv_int(value: Any) -> str:
    return "" if value is None else str(int(value))


def _csv_date(value: Any) -> str:
    return "" if value is None else value.isoformat()


def csv_writer(kind: str) -> Callable[[Any], str]:
    """`csv_cell` for one kind, chosen once per column rather than tested per cell."""
    if kind == "bool":
        yes, no = gettext("oui"), gettext("non")
        return lambda value: "" if value is None else (yes if value else no)
    return {"money": _csv_money, "int": _csv_int, "date": _csv_date}.get(kind, _csv_text)


CSV_BATCH = 256  # rows per piece of a streamed CSV


def csv_lines(columns: list[Column], rows: Iterable[Any]) -> Iterator[str]:
    """The CSV text in pieces (a BOM first), for streaming or for a file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([str(c.header) for c in columns])
    yield "\ufeff" + flush()
    cells = [(c.get, csv_writer(c.kind)) for c in columns]
    writerow = writer.writerow
    pending = 0
    for row in rows:
        writerow([write(get(row)) for get, write in cells])
        pending += 1
        if pending == CSV_BATCH:
            yield flush()
            pending = 0
    if pending:
        yield flush()


def write_csv(columns: list[Column], rows: Iterable[Any], handle: IO[str]) -> None:
    for line in csv_lines(columns, rows):
        handle.write(line)


def xlsx_chunks(columns: list[Column], rows: Iterable[Any], *, title: str = "Export",
                rendered: bool = False) -> Iterator[bytes]:
    """The XLSX file of a report's columns and rows, in pieces as it is written (`reports.xlsx.stream`); `rendered`:
    the rows are already SpreadsheetML cells (`SqlReport.xlsx_rows`)."""
    if not rendered:
        getters = [c.get for c in columns]
        rows = ([get(row) for get in getters] for row in rows)
    return xlsx.stream([str(c.header) for c in columns], [c.kind for c in columns], [c.summed for c in columns],
                       rows, title=title, fixed_widths=[c.width for c in columns], rendered=rendered,
                       yes=gettext("oui"), no=gettext("non"), total_label=gettext("Total"))


def write_xlsx(columns: list[Column], rows: Iterable[Any], handle: IO[bytes], *, title: str = "Export") -> None:
    for chunk in xlsx_chunks(columns, rows, title=title):
        handle.write(chunk)


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


# --- formatters: a report's columns and rows as a file, or as a download ---------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CsvFormatter:
    content_type = "text/csv; charset=utf-8"

    def write(self, columns: list[Column], rows: Iterable[Any], handle: IO[bytes], *, title: str = "") -> None:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        write_csv(columns, rows, text)
        text.flush()
        text.detach()

    def response(self, columns: list[Column], rows: Iterable[Any], *, filename: str,
                 title: str = "") -> HttpResponseBase:
        """Streamed line by line: a large report never sits in memory."""
        response = StreamingHttpResponse(csv_lines(columns, rows), content_type=self.content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class XlsxFormatter:
    content_type = XLSX

    def write(self, columns: list[Column], rows: Iterable[Any], handle: IO[bytes], *, title: str = "Export") -> None:
        write_xlsx(columns, rows, handle, title=title)

    def response(self, columns: list[Column], rows: Iterable[Any], *, filename: str,
                 title: str = "Export") -> HttpResponseBase:
        """Streamed as it is zipped: the first bytes leave before the rows are read."""
        response = StreamingHttpResponse(xlsx_chunks(columns, rows, title=title), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


FORMATTERS: dict[str, CsvFormatter | XlsxFormatter] = {"csv": CsvFormatter(), "xlsx": XlsxFormatter()}


def download(report: Any, fmt: str, *, filename: str) -> HttpResponseBase:
    """A report (`generators.Report`) as a streamed download; an XLSX of a report read by SQL has its cells written
    by the database (`SqlReport.xlsx_rows`), which keeps a large list within a few times a COPY of its rows."""
    title = str(report.title)
    if fmt == "xlsx" and getattr(report, "renders_cells", False):
        response = StreamingHttpResponse(xlsx_chunks(report.columns, report.xlsx_rows(), title=title, rendered=True),
                                         content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response = FORMATTERS[fmt].response(report.columns, report.rows(), filename=filename, title=title)
    response["X-Content-Type-Options"] = "nosniff"
    return response
