"""The CSV and XLSX formatters of the reports (`generators`): data only, never a formula.

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
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _

CHUNK_SIZE = 500
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "DD/MM/YYYY"


@dataclass(frozen=True)
class Column:
    header: Any          # lazy French header
    get: Callable[[Any], Any]
    kind: str = "text"   # text, int, money, date, bool


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
        handle = tempfile.TemporaryFile()
        write_xlsx(columns, rows, handle, title=title)
        handle.seek(0)
        return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX)


FORMATTERS: dict[str, CsvFormatter | XlsxFormatter] = {"csv": CsvFormatter(), "xlsx": XlsxFormatter()}
