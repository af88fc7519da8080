"""Import of FAQ exports: one entry per answer across exports, a new revision when an answer was reworded.

An answer whose words equal any revision of an entry is that entry, unchanged. Otherwise it is a new
revision of the entry whose latest revision it resembles most, at or above REWORD_THRESHOLD, else a new
entry. An entry matched by one answer of a file is not matched by a second, different answer of the same
file: one export lists distinct answers. Similarity is symmetric, so the order of the imports changes which
text is revision 1, not which answers make one entry (short of a chain A ≈ B ≈ C where A and C differ too
much, which the seeds do not hold: tests/faqref/test_importing.py checks both orders).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from django.db import transaction

from .links import refresh_links
from .models import Entry, Facet, Revision, Source, make_slug
from .parsing import (
    REWORD_THRESHOLD,
    Block,
    ExportError,
    ParsedAnswer,
    ParsedExport,
    _words,  # the words fingerprint() and similarity() compare; used here only to skip hopeless pairs fast
    derive_title,
    fingerprint,
    parse_export,
    similarity,
)


class Outcome(str, Enum):
    CREATED = "created"
    REVISED = "revised"
    UNCHANGED = "unchanged"


@dataclass
class FileReport:
    """What importing one export did, answer by answer."""

    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return self.outcomes.count(outcome)

    @property
    def created(self) -> int:
        return self.count(Outcome.CREATED)

    @property
    def revised(self) -> int:
        return self.count(Outcome.REVISED)

    @property
    def unchanged(self) -> int:
        return self.count(Outcome.UNCHANGED)


def read_export(path: Path) -> ParsedExport:
    """Parse the file at `path`; any problem, reading included, is an ExportError naming it."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ExportError(str(path), 1, f"lecture impossible ({error.strerror or error})") from None
    return parse_export(data, str(path))


def export_files(path: Path) -> list[Path]:
    """The export files a path names: itself, or the .txt files of a directory in name order."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() == ".txt" and p.is_file())
    return [path]


def blocks_json(blocks: Iterable[Block]) -> list[dict]:
    return [{"kind": b.kind, "lines": list(b.lines), **({"rows": [list(r) for r in b.rows]} if b.rows else {})}
            for b in blocks]


def facets_json(facets: dict[str, Iterable[str]]) -> dict[str, list[str]]:
    return {key: list(values) for key, values in facets.items() if values}


class _Known:
    """The entries as they stand during one file's import: every revision's fingerprint, latest texts."""

    def __init__(self) -> None:
        self.by_fingerprint: dict[str, tuple[int, int]] = {}  # fingerprint -> (entry id, revision id)
        for entry_id, revision_id, print_ in Revision.objects.order_by("entry_id", "number").values_list(
                "entry_id", "id", "fingerprint"):
            self.by_fingerprint.setdefault(print_, (entry_id, revision_id))
        self.latest: dict[int, tuple[str, Counter]] = {}
        for entry_id, text in Entry.objects.order_by("id").values_list("id", "text"):
            self.latest[entry_id] = (text, Counter(_words(text)))

    def closest(self, text: str, exclude: set[int]) -> int | None:
        """The entry whose latest text `text` rewords (highest similarity, lowest id on a tie), if any."""
        words = Counter(_words(text))
        size = sum(words.values())
        best: tuple[float, int] | None = None
        for entry_id, (other, other_words) in self.latest.items():
            if entry_id in exclude:
                continue
            # similarity() counts shared words, at most the multiset intersection: skip pairs that cannot reach.
            total = size + sum(other_words.values())
            if not total or 2 * sum((words & other_words).values()) / total < REWORD_THRESHOLD:
                continue
            score = similarity(text, other)
            if score >= REWORD_THRESHOLD and (best is None or score > best[0]):
                best = (score, entry_id)
        return best[1] if best else None

    def remember(self, entry_id: int, revision_id: int, text: str, print_: str) -> None:
        self.by_fingerprint.setdefault(print_, (entry_id, revision_id))
        self.latest[entry_id] = (text, Counter(_words(text)))


def import_export(parsed: ParsedExport, *, file_name: str | None = None,
                  on_answer: Callable[[Outcome], None] | None = None) -> FileReport:
    """Import one parsed export in one transaction; its sources replace those of a previous import of a
    file of the same name. Returns the outcome of each answer."""
    file_name = file_name or Path(parsed.source).name
    report = FileReport(name=file_name)
    with transaction.atomic():
        known = _Known()
        claimed: set[int] = set()
        placed: dict[int, tuple[int, int, int, dict]] = {}  # position -> entry, revision, line, facets
        for answer in parsed.answers:
            outcome, entry_id, revision_id = _place(answer, known, claimed)
            claimed.add(entry_id)
            placed[answer.position] = (entry_id, revision_id, answer.line, facets_json(answer.facets))
            report.outcomes.append(outcome)
            if on_answer is not None:
                on_answer(outcome)
        touched = _replace_sources(file_name, placed)
        _refresh_facets(touched)
    return report


def _place(answer: ParsedAnswer, known: _Known, claimed: set[int]) -> tuple[Outcome, int, int]:
    print_ = fingerprint(answer.text)
    if print_ in known.by_fingerprint:
        return Outcome.UNCHANGED, *known.by_fingerprint[print_]
    title = derive_title(answer.text)
    entry_id = known.closest(answer.text, exclude=claimed)
    if entry_id is None:
        entry = Entry(slug=make_slug(title, print_), derived_title=title, text=answer.text,
                      blocks=blocks_json(answer.blocks), fingerprint=print_)
        entry.save()
        revision = Revision.objects.create(entry=entry, number=1, text=answer.text, fingerprint=print_)
        outcome = Outcome.CREATED
    else:
        entry = Entry.objects.get(pk=entry_id)
        number = entry.revisions.order_by("-number").values_list("number", flat=True)[0] + 1
        revision = Revision.objects.create(entry=entry, number=number, text=answer.text, fingerprint=print_)
        entry.derived_title, entry.text, entry.fingerprint = title, answer.text, print_
        entry.blocks = blocks_json(answer.blocks)
        entry.save(update_fields=["derived_title", "text", "fingerprint", "blocks", "updated_at"])
        outcome = Outcome.REVISED
    known.remember(entry.pk, revision.pk, answer.text, print_)
    return outcome, entry.pk, revision.pk


def _replace_sources(file_name: str, placed: dict[int, tuple[int, int, int, dict]]) -> set[int]:
    """Make the file's Source rows match `placed`, writing only differences; return the entries concerned."""
    existing = {s.position: s for s in Source.objects.select_for_update().filter(file=file_name)}
    touched: set[int] = set()
    gone = [s for position, s in existing.items() if position not in placed]
    touched.update(s.entry_id for s in gone)
    if gone:
        Source.objects.filter(pk__in=[s.pk for s in gone]).delete()
    changed, created = [], []
    for position, (entry_id, revision_id, line, facets) in placed.items():
        source = existing.get(position)
        if source is None:
            created.append(Source(file=file_name, position=position, entry_id=entry_id, revision_id=revision_id,
                                  line=line, facets=facets))
            touched.add(entry_id)
        elif (source.entry_id, source.revision_id, source.line, source.facets) != (entry_id, revision_id, line,
                                                                                      facets):
            touched.update((source.entry_id, entry_id))
            source.entry_id, source.revision_id, source.line, source.facets = entry_id, revision_id, line, facets
            changed.append(source)
    if changed:
        Source.objects.bulk_update(changed, ["entry", "revision", "line", "facets"])
    Source.objects.bulk_create(created)
    return touched


def _refresh_facets(entry_ids: set[int]) -> None:
    """Set each entry's facets to the union of its sources' (in file and position order) and its Facet rows."""
    if not entry_ids:
        return
    union: dict[int, dict[str, list[str]]] = {entry_id: {} for entry_id in entry_ids}
    for entry_id, facets in Source.objects.filter(entry_id__in=entry_ids).order_by("file", "position").values_list(
            "entry_id", "facets"):
        for key, values in facets.items():
            kept = union[entry_id].setdefault(key, [])
            kept.extend(v for v in values if v not in kept)
    current = dict(Entry.objects.filter(pk__in=entry_ids).values_list("id", "facets"))
    changed = {entry_id: facets for entry_id, facets in union.items() if current.get(entry_id) != facets}
    if not changed:
        return
    Entry.objects.bulk_update([Entry(pk=entry_id, facets=facets) for entry_id, facets in changed.items()], ["facets"])
    Facet.objects.filter(entry_id__in=changed).delete()
    Facet.objects.bulk_create([Facet(entry_id=entry_id, key=key, value=value)
                               for entry_id, facets in changed.items()
                               for key, values in facets.items() for value in values])


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)
    errors: list[ExportError] = field(default_factory=list)
    links: dict[str, list[int]] = field(default_factory=dict)

    def total(self, outcome: Outcome) -> int:
        return sum(f.count(outcome) for f in self.files)


def import_files(files: Iterable[Path], *, on_start: Callable[[int], None] | None = None,
                 on_answer: Callable[[Outcome], None] | None = None) -> ImportReport:
    """Import each export file on its own (an unreadable one is reported and imports nothing), then refresh
    the rules' automatic links. `on_start` receives the number of answers to import, `on_answer` each
    outcome (a progress bar)."""
    report = ImportReport()
    parsed: list[ParsedExport] = []
    for file in files:
        try:
            parsed.append(read_export(file))
        except ExportError as error:
            report.errors.append(error)
    if on_start is not None:
        on_start(sum(len(export.answers) for export in parsed))
    for export in parsed:
        report.files.append(import_export(export, on_answer=on_answer))
    report.links = refresh_links()
    return report
