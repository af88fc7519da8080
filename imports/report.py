"""The error report: the uploaded spreadsheet again, each row with a « problème » column saying what is wrong."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from typing import IO

from django.utils.translation import gettext as _

from . import columns as c
from .models import ImportJob
from .reading import FileError, read_table

PROBLEM = "problème"


def problems_by_row(job: ImportJob) -> dict[int, str]:
    grouped: dict[int, list[str]] = defaultdict(list)
    for error in job.errors or []:
        column = error.get("column") or ""
        where = c.BY_NAME[column].header if column in c.BY_NAME else column
        grouped[error.get("row", 0)].append(f"{where} : {error['message']}" if where else error["message"])
    return {row: " ; ".join(messages) for row, messages in grouped.items()}


def _header(header: list, problems: dict[int, str]) -> list:
    general = " ; ".join(m for row, m in problems.items() if row <= 1)
    return [*header, f"{PROBLEM} : {general}" if general else PROBLEM]


def csv_lines(job: ImportJob) -> Iterator[str]:
    """The report as CSV text, streamed (same separator as the upload, a BOM for Excel).

    Raises FileError on the first line when the file has no header; an unreadable line later ends the report.
    """
    problems = problems_by_row(job)
    with job.file.open("rb") as handle:
        table = read_table(handle, "csv", errors="replace")
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=table.delimiter, lineterminator="\r\n")

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        width = len(table.header)
        writer.writerow(_header(table.header, problems))
        yield "\ufeff" + flush()
        try:
            for number, cells in table.rows:
                writer.writerow([*cells[:width], *[""] * (width - len(cells)), problems.get(number, "")])
                yield flush()
        except FileError:
            return


def write_xlsx(job: ImportJob, handle: IO[bytes]) -> None:
    from openpyxl import Workbook

    problems = problems_by_row(job)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Rapport d'import")[:31])
    with job.file.open("rb") as source:
        table = read_table(source, "xlsx")
        width = len(table.header)
        sheet.append(_header(table.header, problems))
        for number, cells in table.rows:
            cells = cells[:width] + [None] * (width - len(cells))
            sheet.append([*cells, problems.get(number, "")])
    workbook.save(handle)


def report_filename(job: ImportJob) -> str:
    stem = job.filename.rsplit(".", 1)[0] if "." in job.filename else job.filename
    return f"{stem}-rapport.{job.format}"
