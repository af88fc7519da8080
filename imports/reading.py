"""Streaming readers of the uploaded spreadsheet: CSV (`;` or `,`, UTF-8 with or without BOM) and XLSX.

Rows come one at a time with their spreadsheet number (the header is row 1), so memory does not grow with
the file; XLSX is read with openpyxl's read-only mode.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from django.utils.translation import gettext as _

XLSX_MAGIC = b"PK\x03\x04"


class FileError(Exception):
    """The file cannot be read at all (not CSV/XLSX, not UTF-8, no header)."""


def detect_format(name: str, head: bytes) -> str:
    if head.startswith(XLSX_MAGIC) or name.lower().endswith(".xlsx"):
        return "xlsx"
    return "csv"


class Table:
    """The header and an iterator of (row number, cells) of the first sheet; `total` counts data rows if known."""

    def __init__(self, header: list[Any], rows: Iterator[tuple[int, list[Any]]], total: int | None,
                 delimiter: str = ";"):
        self.header, self.rows, self.total, self.delimiter = header, rows, total, delimiter


def read_csv(handle: IO[bytes], *, errors: str = "strict") -> Table:
    """`errors="replace"` reads an undecodable file anyway (the error report gives such a file back)."""
    # utf-8-sig drops the BOM French Excel writes; strict errors name an encoding problem instead of garbling.
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors=errors, newline="")
    try:
        first = text.readline()
    except UnicodeDecodeError:
        raise FileError(_("Le fichier n'est pas en UTF-8 : enregistrez-le au format « CSV UTF-8 »."))
    if not first.strip():
        raise FileError(_("Le fichier est vide : la première ligne doit porter les noms des colonnes."))
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    header = next(csv.reader([first], delimiter=delimiter))

    def rows() -> Iterator[tuple[int, list[Any]]]:
        reader = csv.reader(text, delimiter=delimiter)
        number = 1
        try:
            for cells in reader:
                number += 1
                yield number, cells
        except UnicodeDecodeError:
            raise FileError(_("Le fichier n'est pas en UTF-8 (après la ligne %(n)d) : enregistrez-le au format "
                              "« CSV UTF-8 ».") % {"n": number})
        except csv.Error as error:
            raise FileError(_("CSV illisible à la ligne %(n)d : %(e)s") % {"n": number + 1, "e": error})

    return Table(header, rows(), None, delimiter)


def count_csv_rows(handle: IO[bytes]) -> int:
    """Data rows of a CSV, counted in one streamed pass (the progress bar's denominator)."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
    try:
        return max(0, sum(1 for _row in csv.reader(text)) - 1)
    except csv.Error:
        return 0
    finally:
        text.detach()


def read_xlsx(handle: IO[bytes]) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise FileError(_("Classeur XLSX illisible."))
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    header = list(next(iterator, None) or [])
    while header and header[-1] in (None, ""):
        header.pop()
    if not header:
        workbook.close()
        raise FileError(_("Le fichier est vide : la première ligne doit porter les noms des colonnes."))
    total = (sheet.max_row - 1) if sheet.max_row else None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(iterator, start=2):
                yield number, list(cells)
        finally:
            workbook.close()

    return Table(header, rows(), total)


def read_table(handle: IO[bytes], fmt: str, *, errors: str = "strict") -> Table:
    return read_xlsx(handle) if fmt == "xlsx" else read_csv(handle, errors=errors)
