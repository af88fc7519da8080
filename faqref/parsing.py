"""Pure parser for the French FAQ text exports (text in, answers out; standard library only)."""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

__all__ = [
    "FACET_KEYS",
    "REASON_BINARY",
    "REASON_EMPTY",
    "REASON_ENCODING",
    "REASON_NO_ANSWER",
    "REASON_UNTERMINATED",
    "REWORD_THRESHOLD",
    "SEPARATOR",
    "Block",
    "ExportError",
    "ParsedAnswer",
    "ParsedExport",
    "derive_title",
    "diff_words",
    "fingerprint",
    "parse_export",
    "similarity",
]

# The line that closes every answer in an export (the page's "was this useful?" widget).
SEPARATOR = "Cette réponse vous a-t-elle été utile ?"

FACET_KEYS = ("type_offre", "couloir", "dispositif", "produit", "thematique")

# similarity() at or above which two answers are taken as one answer reworded. On the seeds the
# rewordings score 0.60-0.96 and the closest unrelated pair 0.38 (two "see the slides below" answers
# written from one template); tests/faqref/test_parsing.py keeps both sides of the gap in check.
REWORD_THRESHOLD = 0.5

REASON_EMPTY = "fichier vide"
REASON_BINARY = "fichier binaire"
REASON_ENCODING = "encodage invalide (UTF-8 attendu)"
REASON_UNTERMINATED = f"réponse sans séparateur « {SEPARATOR} »"
REASON_NO_ANSWER = "aucune réponse trouvée"

_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Above this share of control bytes (other than tab, newlines, form feed) the file is not text.
_CONTROL_RATIO = 0.05
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")

_NEWLINE = re.compile(r"\r\n|\r|\n")
_SEPARATOR_LINE = re.compile(r"\s*cette réponse vous a-t-elle été utile\s*\?\s*", re.IGNORECASE)
_PROMPT = re.compile(r"\s*votre question concerne\b", re.IGNORECASE)
_FACET_REMOVE = re.compile(r"\s*-\s*\(-\)\s*(?P<value>\S.*?)\s*")
_FACET_SELECTED = re.compile(r"\s*-\s*(?P<label>[^:]{1,40}?)\s*:\s*(?P<value>\S.*?)\s*")
# Facet labels as the export may write them, without accents, casefolded.
_FACET_LABELS = {
    "type d'offre": "type_offre", "type offre": "type_offre", "offre": "type_offre",
    "couloir": "couloir", "couloir segur": "couloir",
    "dispositif": "dispositif", "dispositif segur": "dispositif",
    "produit": "produit", "service": "produit", "produit ou service": "produit",
    "produit ou service produit": "produit",
    "thematique": "thematique", "theme": "thematique",
} | {key: key for key in FACET_KEYS}

# List markers: "- item", "-item" (sic, in the seeds), "• item", "* item", "I. item", "1. item", "1) item".
_LIST_ITEM = re.compile(r"(?:-(?![-\d])|[–•*](?=\s)|(?:[IVX]+|\d{1,2})[.)](?=\s))\s*(?P<item>\S.*)")
_QUOTE_LINE = re.compile(r">\s?(?P<item>.*)")
_TABLE_DELIMITER = re.compile(r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?")
_URL = re.compile(r"(https?://[^\s<>«»\"]+)", re.IGNORECASE)
_QUOTE_MARKS = re.compile(r"(?m)^[ \t]*>+")
_MIN_SHARED_RUN = 3
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[^\sa-zà-ÿ])")


@dataclass(frozen=True)
class Block:
    """A display block of an answer.

    `lines`: a paragraph's lines; a list's items (marker stripped); a quote's lines (">" stripped);
    a table's raw lines. `rows`, tables only: the cells of each row, header row first, the "---|---"
    line left out; a cell spanning several lines of the export keeps them joined by "\n".
    """

    kind: str  # "paragraph" | "list" | "quote" | "table"
    lines: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class ParsedAnswer:
    """One answer of an export, with where it was found."""

    text: str
    blocks: tuple[Block, ...]
    facets: dict[str, tuple[str, ...]] = field(hash=False)  # a copy per answer; left out of hash()
    line: int  # 1-based line of the answer's first non-blank line
    position: int  # 0-based index among the file's answers


@dataclass(frozen=True)
class ParsedExport:
    """A whole export: the facet prompts of its header and its answers in file order."""

    source: str
    facet_prompts: tuple[str, ...]
    answers: tuple[ParsedAnswer, ...]


class ExportError(ValueError):
    """An export that cannot be read; the message names the file and the line, in French."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        super().__init__(f"{source}, ligne {line} : {reason}")

    def __reduce__(self):  # pickling (e.g. a Celery result) must rebuild it from its three parts
        return type(self), (self.source, self.line, self.reason)


def parse_export(data: bytes, source: str) -> ParsedExport:
    """Parse the bytes of one export; raise ExportError naming `source` and a line when unreadable.

    Layout: a header of facet prompts ("Votre question concerne …") and of the facet values selected
    ("- Dispositif: X", followed by "- (-) X": the button that removes that filter, so the value stays
    selected), then answers each closed by the SEPARATOR line. Answers that hold nothing (the page's
    images and slides are not exported) are skipped. Refused: an empty or blank file, a binary one,
    one that is not UTF-8 (a BOM is fine; there is no guessing of another encoding), text after the
    last separator, and a file without any answer. File-wide problems are reported on line 1.
    """
    lines = _split_lines(_decode(data, source))
    prompts, facets, start = _read_header(lines)
    answers: list[ParsedAnswer] = []
    chunk: list[str] = []
    chunk_start = start
    for index in range(start, len(lines)):
        if not _SEPARATOR_LINE.fullmatch(lines[index]):
            chunk.append(lines[index])
            continue
        answer = _make_answer(chunk, chunk_start, facets, len(answers))
        if answer is not None:
            answers.append(answer)
        chunk, chunk_start = [], index + 1
    leftover = _trim_blank(chunk, chunk_start)
    if leftover is not None:
        raise ExportError(source, leftover[1] + 1, REASON_UNTERMINATED)
    if not answers:
        raise ExportError(source, 1, REASON_NO_ANSWER)
    return ParsedExport(source=source, facet_prompts=prompts, answers=tuple(answers))


def _decode(data: bytes, source: str) -> str:
    """Check the bytes are UTF-8 text and return them decoded (BOM dropped) and NFC-normalised."""
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if not data.strip():
        raise ExportError(source, 1, REASON_EMPTY)
    if data.startswith(_UTF16_BOMS):
        raise ExportError(source, 1, REASON_ENCODING)
    controls = len(_CONTROL_BYTES.findall(data))
    if b"\x00" in data or controls > _CONTROL_RATIO * len(data):
        first = data.find(b"\x00") if b"\x00" in data else _CONTROL_BYTES.search(data).start()
        raise ExportError(source, _line_at(data, first), REASON_BINARY)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ExportError(source, _line_at(data, error.start), REASON_ENCODING) from None
    if not text.strip():
        raise ExportError(source, 1, REASON_EMPTY)
    return unicodedata.normalize("NFC", text)


def _line_at(data: bytes, offset: int) -> int:
    """1-based line holding byte `offset`, counting CRLF, CR and LF as line ends."""
    return len(_NEWLINE.split(data[:offset].decode("utf-8", errors="replace")))


def _split_lines(text: str) -> list[str]:
    # Not str.splitlines(): it also breaks on \x0b, \x1c, U+2028…, which would shift line numbers.
    return [line.rstrip() for line in _NEWLINE.split(text)]


def _read_header(lines: list[str]) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]], int]:
    """Return the facet prompts, the selected facet values and the index of the first body line."""
    prompts: list[str] = []
    selected: dict[str, list[str]] = {}
    index = 0
    for index, line in enumerate(lines):
        if not line.strip() or _FACET_REMOVE.fullmatch(line):
            continue  # a "(-)" line is the remove button of a filter already listed
        if _PROMPT.match(line):
            prompts.append(" ".join(line.split()))
            continue
        chosen = _FACET_SELECTED.fullmatch(line)
        key = _facet_key(chosen["label"]) if chosen else None
        if key is None:
            break
        values = selected.setdefault(key, [])
        if chosen["value"] not in values:
            values.append(chosen["value"])
    else:
        index = len(lines)
    return tuple(prompts), {key: tuple(values) for key, values in selected.items()}, index


def _facet_key(label: str) -> str | None:
    """Map a facet label of the export ("Dispositif", "Thématique", …) to one of FACET_KEYS."""
    plain = "".join(c for c in unicodedata.normalize("NFD", label) if not unicodedata.combining(c))
    plain = " ".join(plain.replace("’", "'").casefold().split())
    return _FACET_LABELS.get(plain)


def _trim_blank(chunk: list[str], start: int) -> tuple[list[str], int] | None:
    """Drop the blank lines around a chunk; return it with its new start index, or None if blank."""
    filled = [i for i, line in enumerate(chunk) if line.strip()]
    if not filled:
        return None
    return chunk[filled[0]:filled[-1] + 1], start + filled[0]


def _make_answer(
    chunk: list[str], start: int, facets: dict[str, tuple[str, ...]], position: int
) -> ParsedAnswer | None:
    trimmed = _trim_blank(chunk, start)
    if trimmed is None:
        return None
    lines: list[str] = []
    for line in trimmed[0]:
        if line or lines[-1]:  # several blank lines in a row count as one
            lines.append(line)
    return ParsedAnswer(
        text="\n".join(lines),
        blocks=_blocks(lines),
        facets=dict(facets),
        line=trimmed[1] + 1,
        position=position,
    )


def _blocks(lines: list[str]) -> tuple[Block, ...]:
    """Cut an answer's lines into paragraphs, lists, quotes and tables."""
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        follower = lines[index + 1] if index + 1 < len(lines) else ""
        if not line.strip():
            index += 1
        elif "|" in line and _TABLE_DELIMITER.fullmatch(follower.strip()):
            index = _take_table(lines, index, blocks)
        elif line.lstrip().startswith(">"):
            # ">" is a bullet when a sentence ending in ":" announces the items, a quote otherwise.
            announced = bool(blocks) and lines[index - 1].strip() != "" and blocks[-1].lines[-1].endswith(":")
            index = _take_run(lines, index, _QUOTE_LINE, "list" if announced else "quote", blocks)
        elif _LIST_ITEM.fullmatch(line.strip()):
            index = _take_run(lines, index, _LIST_ITEM, "list", blocks)
        else:
            index = _take_paragraph(lines, index, blocks)
    return tuple(blocks)


def _take_run(lines: list[str], index: int, pattern: re.Pattern[str], kind: str, blocks: list[Block]) -> int:
    items: list[str] = []
    while index < len(lines) and (match := pattern.fullmatch(lines[index].strip())):
        items.append(match["item"].strip())
        index += 1
    blocks.append(Block(kind=kind, lines=tuple(items)))
    return index


def _take_paragraph(lines: list[str], index: int, blocks: list[Block]) -> int:
    taken: list[str] = []
    while index < len(lines):
        line = lines[index].strip()
        follower = lines[index + 1] if index + 1 < len(lines) else ""
        starts_other = line.startswith(">") or _LIST_ITEM.fullmatch(line) or (
            "|" in line and _TABLE_DELIMITER.fullmatch(follower.strip())
        )
        if not line or (taken and starts_other):
            break
        taken.append(line)
        index += 1
    blocks.append(Block(kind="paragraph", lines=tuple(taken)))
    return index


def _take_table(lines: list[str], index: int, blocks: list[Block]) -> int:
    """Read a "a | b |" table. When the header row ends with "|", so does every row and a row may
    span several lines (multi-line cells, as in the exports); otherwise each line is a row."""
    header = lines[index].strip()
    multiline_rows = header.endswith("|")
    raw = [header, lines[index + 1].strip()]
    rows = [_cells(header)]
    pending: list[str] = []
    index += 2
    while index < len(lines):
        line = lines[index].strip()
        if not line or (not pending and "|" not in line):
            break
        raw.append(line)
        pending.append(line)
        if not multiline_rows or line.endswith("|"):
            rows.append(_cells("\n".join(pending)))
            pending = []
        index += 1
    if pending:
        rows.append(_cells("\n".join(pending)))
    blocks.append(Block(kind="table", lines=tuple(raw), rows=tuple(row for row in rows if row)))
    return index


def _cells(row: str) -> tuple[str, ...]:
    cells = [cell.strip() for cell in row.strip().split("|")]
    if cells and not cells[0] and row.strip().startswith("|"):
        cells = cells[1:]
    if cells and not cells[-1] and row.strip().endswith("|"):
        cells = cells[:-1]
    return tuple("\n".join(part.strip() for part in cell.split("\n") if part.strip()) for cell in cells)


def derive_title(text: str, max_length: int = 120) -> str:
    """First sentence of an answer, cut at a word boundary and ended with "…" when too long.

    A first sentence of one or two words ("Oui.") takes the next one along, so the title says something.
    """
    if max_length < 1:
        raise ValueError("max_length must be positive")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    marker = _LIST_ITEM.fullmatch(first) or _QUOTE_LINE.fullmatch(first)
    first = " ".join((marker["item"] if marker else first).split())
    sentences = _SENTENCE_END.split(first)
    title = sentences[0]
    for sentence in sentences[1:]:
        if len(title.split()) > 2:
            break
        title = f"{title} {sentence}"
    title = title.rstrip(" :;,")
    if len(title) <= max_length:
        return title
    cut = title[: max_length - 1]
    if " " in cut and not title[max_length - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" :;,.-–") + "…"


def _words(text: str) -> list[str]:
    """Casefolded words, accents kept; punctuation, list/quote markers and table pipes ignored.

    A URL stays one word, so adding or changing a link weighs as one word, not a dozen.
    """
    text = _QUOTE_MARKS.sub(" ", unicodedata.normalize("NFC", text).casefold())
    words: list[str] = []
    for index, part in enumerate(_URL.split(text)):
        if index % 2:
            words.append(part.rstrip(".,;:!?)]"))
            continue
        words.extend("".join(" " if _ignored(c) else c for c in part).split())
    return words


def _ignored(char: str) -> bool:
    # "%" is punctuation to Unicode but changes what a number means; "|" only draws tables.
    return char == "|" or (unicodedata.category(char).startswith("P") and char != "%")


def fingerprint(text: str) -> str:
    """SHA-256 (hex) of the answer's words: equal across case, spacing, punctuation and markup changes."""
    return hashlib.sha256(" ".join(_words(text)).encode("utf-8")).hexdigest()


def similarity(a: str, b: str) -> float:
    """Word-level similarity from 0 to 1: difflib's ratio over the words fingerprint() keeps, counting
    only runs of at least three shared words.

    Two unrelated answers share short runs by chance ("de la", "il est"), and answers written from one
    template share a few medium ones; a rewording keeps whole phrases. Dropping the short runs widens
    the gap between the two (on the seeds: rewordings 0.60-0.96, unrelated pairs at most 0.38).
    """
    words_a, words_b = _words(a), _words(b)
    if not words_a or not words_b:
        return 1.0 if words_a == words_b else 0.0
    min_run = min(_MIN_SHARED_RUN, len(words_a), len(words_b))
    matcher = difflib.SequenceMatcher(None, words_a, words_b, autojunk=False)
    shared = sum(block.size for block in matcher.get_matching_blocks() if block.size >= min_run)
    return 2 * shared / (len(words_a) + len(words_b))


_DIFF_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])\s*|\s+")  # the last branch: whitespace-only text


def diff_words(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level diff of two revisions: [("equal" | "insert" | "delete", text), …].

    Words and punctuation marks are compared exactly (case matters); whitespace is carried along and
    does not count. Joining the "equal" and "insert" texts gives `new` exactly; joining "equal" and
    "delete" gives `old` once whitespace is ignored (equal runs carry `new`'s spacing).
    """
    old_tokens, new_tokens = _DIFF_TOKEN.findall(old), _DIFF_TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(
        None, [t.strip() for t in old_tokens], [t.strip() for t in new_tokens], autojunk=False
    )
    result: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _append(result, "equal", "".join(new_tokens[j1:j2]))
            continue
        _append(result, "delete", "".join(old_tokens[i1:i2]))
        _append(result, "insert", "".join(new_tokens[j1:j2]))
    return result


def _append(result: list[tuple[str, str]], op: str, text: str) -> None:
    if not text:
        return
    if result and result[-1][0] == op:
        result[-1] = (op, result[-1][1] + text)
    else:
        result.append((op, text))
