"""A streamed XLSX writer: the workbook's bytes as they are made, the rows read once, nothing held in memory.

openpyxl's write-only mode builds a cell object per value and zips only when saved: 97 s and a first byte at the
very end for 131,660 rows. Here each row is one string of SpreadsheetML (inline strings, numbers, date serials),
deflated into a ZIP entry written to a pipe the response reads from (`zipfile` on an unseekable stream writes data
descriptors), so the first bytes leave before the first row is read. What the file holds: a bold header row,
frozen (`pane` state="frozen"), column widths, an autofilter over the data rows, then a bold "Total" row of the
columns whose sums are meant (`Column.total`) computed while streaming: values, never formulas.
"""
from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from typing import Any
from xml.sax.saxutils import quoteattr

FLUSH_AT = 1 << 16          # characters of sheet XML buffered before they are deflated
SAMPLE_ROWS = 200           # rows read before the header to size the text columns
MAX_WIDTH, MIN_WIDTH = 60, 6
DATE_ORIGIN = date(1899, 12, 30).toordinal()   # Excel's day 0 (its 1900 leap-year bug included)

# Styles (cellXfs): 0 default, 1 bold, 2 money, 3 date, 4 bold money, 5 bold number.
BOLD, MONEY, DATE, BOLD_MONEY, BOLD_NUMBER = 1, 2, 3, 4, 5
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<numFmts count="1"><numFmt numFmtId="164" formatCode="DD/MM/YYYY"/></numFmts>\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="4" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""

ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""

WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" \
Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" \
Target="styles.xml"/></Relationships>"""

WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<sheets><sheet name={name} sheetId="1" r:id="rId1"/></sheets>{defined}</workbook>"""

SHEET_START = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<sheetViews><sheetView tabSelected="1" workbookViewId="0">\
<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>\
<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>\
<sheetFormatPr defaultRowHeight="15"/>"""

# XML's three special characters escaped, and the control characters XML 1.0 forbids dropped (one translate).
CONTROL_CHARACTERS = {code: None for code in range(32) if code not in (9, 10, 13)}
_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", **CONTROL_CHARACTERS}
_SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})

KIND_WIDTHS = {"date": 12, "money": 16, "int": 10, "bool": 9}


def escape(text: str) -> str:
    return text.translate(_ESCAPES)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text_cell(value: Any, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c{s} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def _text(value: Any) -> str:
    if value is None:
        return "<c/>"
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _money(value: Any) -> str:
    return "<c/>" if value is None else f'<c s="2"><v>{value}</v></c>'


def _int(value: Any) -> str:
    return "<c/>" if value is None else f"<c><v>{int(value)}</v></c>"


def _date(value: Any) -> str:
    if value is None:
        return "<c/>"
    if isinstance(value, datetime):
        value = value.date()
    return f'<c s="3"><v>{value.toordinal() - DATE_ORIGIN}</v></c>'


def cell_writer(kind: str, yes: str, no: str) -> Callable[[Any], str]:
    """The function that writes one value of a column of this kind as a `<c>` element."""
    if kind == "money":
        return _money
    if kind == "int":
        return _int
    if kind == "date":
        return _date
    if kind == "bool":
        yes_cell, no_cell = _text(yes), _text(no)
        return lambda value: "<c/>" if value is None else (yes_cell if value else no_cell)
    return _text


def widths(headers: Sequence[str], kinds: Sequence[str], sample: Sequence[Sequence[Any]]) -> list[int]:
    """Characters per column: the header's or the kind's width, for text the longest sampled value; bounded."""
    result = []
    for index, (header, kind) in enumerate(zip(headers, kinds)):
        width = max(len(header) + 2, KIND_WIDTHS.get(kind, 0))
        if kind not in KIND_WIDTHS:
            width = max([width] + [len(str(values[index])) + 2 for values in sample if values[index] is not None])
        result.append(min(MAX_WIDTH, max(MIN_WIDTH, width)))
    return result


class Pipe:
    """A write-only file for ZipFile: the bytes written since the last `take()`."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data

    def tell(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return False


def stream(headers: Sequence[str], kinds: Sequence[str], totals: Sequence[bool], rows: Iterable[Sequence[Any]], *,
           title: str, fixed_widths: Sequence[int | None] = (), rendered: bool = False, yes: str = "oui",
           no: str = "non", total_label: str = "Total") -> Iterator[bytes]:
    """The XLSX file of these rows, in pieces as it is written.

    Each row is a sequence of values, one per header (`kinds`: text, int, money as Decimal, date, bool), or with
    `rendered` the row's cells already written as SpreadsheetML (`sql_cells`) followed by the values of the summed
    columns. `totals`: the columns summed in the last row (none: no totals row); `fixed_widths`: a column's width
    when known beforehand (else from its header, its kind and the first rows)."""
    pipe = Pipe()
    archive = zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    for name, body in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                       ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS), ("xl/styles.xml", STYLES)):
        archive.writestr(name, body)
    yield pipe.take()  # the first bytes leave before the query runs

    rows = iter(rows)
    sample = [] if rendered else list(islice(rows, SAMPLE_ROWS))
    writers = [cell_writer(kind, yes, no) for kind in kinds]
    summed = [index for index, total in enumerate(totals) if total]
    sums: list[Any] = [0] * len(headers)
    last = len(headers) - 1
    sized = widths(headers, kinds, sample)
    sized = [fixed or width for fixed, width in zip(list(fixed_widths) + [None] * len(sized), sized)]
    with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
        cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>' for i, w in enumerate(sized))
        header = "".join(text_cell(h, BOLD) for h in headers)
        buffer = [f'{SHEET_START}<cols>{cols}</cols><sheetData><row r="1">{header}</row>'.encode()]
        size, number = 0, 1
        lines = (_rendered_lines(rows, summed, sums) if rendered
                 else _value_lines(chain(sample, rows), writers, summed, sums))
        for number, line in enumerate(lines, start=2):
            buffer.append(line)
            size += len(line)
            if size > FLUSH_AT:
                sheet.write(_inert(b"".join(buffer)))
                buffer.clear()
                size = 0
                chunk = pipe.take()
                if chunk:
                    yield chunk
        buffer = [_inert(b"".join(buffer))]
        last_data = number
        if summed:
            number += 1
            cells = [text_cell(total_label, BOLD)]
            for index in range(1, len(headers)):
                if index not in summed:
                    cells.append("<c/>")
                elif kinds[index] == "money":
                    cells.append(f'<c s="{BOLD_MONEY}"><v>{Decimal(sums[index])}</v></c>')
                else:
                    cells.append(f'<c s="{BOLD_NUMBER}"><v>{sums[index]}</v></c>')
            buffer.append(f'<row r="{number}">{"".join(cells)}</row>'.encode())
        filter_range = f"$A$1:${column_letter(last)}${last_data}"
        buffer.append(f'</sheetData><autoFilter ref="{filter_range.replace("$", "")}"/></worksheet>'.encode())
        sheet.write(b"".join(buffer))
    sheet_name = (title or "Export").translate(_SHEET_NAME_FORBIDDEN)[:31]
    defined = (f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
               f"{escape(quote_sheet(sheet_name))}!{filter_range}</definedName></definedNames>")
    archive.writestr("xl/workbook.xml", WORKBOOK.format(name=quoteattr(sheet_name), defined=defined))
    archive.close()
    yield pipe.take()


# --- the cells written by PostgreSQL --------------------------------------------------------------------------------
# For a large list, the per-cell work (escaping, date serials, number text) is what costs in Python: the database does
# it in the same statement that reads the rows, as it does for a COPY, and Python only frames and deflates the rows.

def sql_cell(column: str, kind: str, *, yes: str = "oui", no: str = "non") -> tuple[str, list[Any]]:
    """SQL (and its parameters) writing the `<c>` element of one value of `column`, as `cell_writer` would."""
    if kind == "money":
        return f"""COALESCE('<c s="{MONEY}"><v>' || {column}::text || '</v></c>', '<c/>')""", []
    if kind == "int":
        return f"COALESCE('<c><v>' || {column}::text || '</v></c>', '<c/>')", []
    if kind == "date":
        return (f"""COALESCE('<c s="{DATE}"><v>' || ({column}::date - DATE '1899-12-30')::text || '</v></c>', """
                "'<c/>')"), []
    if kind == "bool":
        return f"CASE WHEN {column} IS NULL THEN '<c/>' WHEN {column} THEN %s ELSE %s END", [_text(yes), _text(no)]
    # Control characters are dropped from the whole XML in Python (`_inert`): cheaper there than per cell here.
    return (f"""COALESCE('<c t="inlineStr"><is><t>' || replace(replace(replace({column}::text, '&', '&amp;'), """
            f"""'<', '&lt;'), '>', '&gt;') || '</t></is></c>', '<c/>')"""), []


def sql_cells(sql: str, params: Sequence[Any], names: Sequence[str], kinds: Sequence[str],
              totals: Sequence[bool], *, yes: str = "oui", no: str = "non") -> tuple[str, list[Any]]:
    """A statement over a query (`sql`, selecting `names`) answering, in its order, one row per row: its cells as
    SpreadsheetML, then the values of the summed columns (the `rendered` rows of `stream`)."""
    parts, cell_params = [], []
    for name, kind in zip(names, kinds):
        part, extra = sql_cell(f'e."{name}"', kind, yes=yes, no=no)
        parts.append(part)
        cell_params += extra
    summed = [f'e."{name}"' for name, total in zip(names, totals) if total]
    select = ", ".join([" || ".join(parts), *summed])
    # A plain projection of a subquery keeps the subquery's order (no join, sort or aggregate above it).
    return f"SELECT {select} FROM ({sql}) AS e", [*cell_params, *params]


def _value_lines(rows: Iterable[Sequence[Any]], writers: list[Callable[[Any], str]], summed: list[int],
                 sums: list[Any]) -> Iterator[bytes]:
    """Rows of values as `<row>` elements (numbered from 2), their summed columns added to `sums`."""
    for number, row in enumerate(rows, start=2):
        for index in summed:
            if row[index] is not None:
                sums[index] += row[index]
        yield f'<row r="{number}">{"".join([w(v) for w, v in zip(writers, row)])}</row>'.encode()


def _rendered_lines(rows: Iterable[Sequence[Any]], summed: list[int], sums: list[Any]) -> Iterator[bytes]:
    """Rows whose cells the database wrote (bytes), then their summed values, as `<row>` elements."""
    positions = list(enumerate(summed, start=1))
    for number, row in enumerate(rows, start=2):
        for position, index in positions:
            if row[position] is not None:
                sums[index] += row[position]
        yield b'<row r="%d">%s</row>' % (number, row[0])


_CONTROL_BYTES = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _inert(xml: bytes) -> bytes:
    """XML without the control characters XML 1.0 forbids (none in the markup: only text can carry them)."""
    return _CONTROL_BYTES.sub(b"", xml) if _CONTROL_BYTES.search(xml) else xml


def quote_sheet(name: str) -> str:
    """A sheet's name as a formula reference writes it: quoted, its quotes doubled."""
    return "'" + name.replace("'", "''") + "'"
