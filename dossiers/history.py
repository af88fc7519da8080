"""Verification of the dossiers' hash-chained history and its anchors: one streamed pass over the rows, constant memory.

The hashes show a row edited alone; the anchor (an HMAC of the head with HISTORY_ANCHOR_KEY, see dossiers.anchors and
docs/history.md) shows a history rewritten with every hash recomputed by someone who does not hold the key.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .anchors import anchor_holds
from .models import Dossier, HistoryEntry

# Columns read per row: the dossier's head (repeated on each of its rows by the join) and the row's content.
_COLUMNS = (
    "pk", "reference", "history_seq", "history_hash", "history_anchor",
    "history__seq", "history__at", "history__username", "history__action", "history__from_state",
    "history__to_state", "history__data", "history__prev_hash", "history__hash",
)


class Row(NamedTuple):
    """One history row as read for verification: the attributes `HistoryEntry.compute_hash` reads.

    `compute_hash` is called on it directly, so the verification hashes exactly as the writer did, without
    building a model instance per row (a million rows are read in one pass).
    """

    dossier_id: int
    seq: int
    at: datetime
    username: str
    action: str
    from_state: str
    to_state: str
    data: Any
    prev_hash: str
    hash: str

    def compute_hash(self) -> str:
        return HistoryEntry.compute_hash(self)


@dataclass
class ChainReport:
    """The verdict on one dossier's chain: `problems` is empty when the chain is sound."""

    dossier_id: int
    reference: str
    problems: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems


class _Chain:
    """Checks one dossier's rows as they arrive in seq order, keeping only the previous row's hash."""

    def __init__(self, dossier_id: int, reference: str, head_seq: int, head_hash: str, head_anchor: str):
        self.report = ChainReport(dossier_id, reference)
        self.head_seq, self.head_hash, self.head_anchor = head_seq, head_hash, head_anchor
        self.expected_seq = 1
        self.previous_hash = ""
        self.rows = 0

    def feed(self, entry: Row) -> None:
        problems = self.report.problems
        if entry.seq != self.expected_seq:
            if entry.seq > self.expected_seq:
                problems.append(_("Rupture de séquence : ligne(s) %(first)d à %(last)d manquante(s).") % {
                    "first": self.expected_seq, "last": entry.seq - 1})
            else:
                problems.append(_("Séquence incohérente : ligne %(seq)d après la ligne %(prev)d.") % {
                    "seq": entry.seq, "prev": self.expected_seq - 1})
        if entry.prev_hash != self.previous_hash:
            problems.append(_("Ligne %(seq)d (%(action)s) : son empreinte précédente ne correspond pas à "
                              "l'empreinte de la ligne qui la précède.") % {"seq": entry.seq, "action": entry.action})
        if entry.compute_hash() != entry.hash:
            problems.append(_("Ligne %(seq)d (%(action)s) : contenu modifié, l'empreinte enregistrée ne "
                              "correspond plus au contenu.") % {"seq": entry.seq, "action": entry.action})
        self.expected_seq = entry.seq + 1
        self.previous_hash = entry.hash
        self.rows += 1

    def finish(self) -> ChainReport:
        problems = self.report.problems
        if self.rows == 0:
            # Every dossier gets a "create" row; an empty history means rows were removed.
            problems.append(_("Historique vide : la ligne de création est absente."))
            if self.head_seq or self.head_hash:
                problems.append(_("La tête de chaîne du dossier (ligne %(seq)d) ne correspond à aucune ligne.") % {
                    "seq": self.head_seq})
        elif self.head_seq != self.expected_seq - 1 or self.head_hash != self.previous_hash:
            problems.append(_("La tête de chaîne du dossier (ligne %(head)d) ne correspond pas à la dernière ligne "
                              "de l'historique (ligne %(last)d).") % {"head": self.head_seq,
                                                                       "last": self.expected_seq - 1})
        if not anchor_holds(self.report.dossier_id, self.head_seq, self.head_hash, self.head_anchor):
            problems.append(_("L'ancre de la tête de chaîne (ligne %(seq)d) ne correspond pas : l'historique a été "
                              "réécrit sans la clé d'ancrage, ou la clé HISTORY_ANCHOR_KEY a changé.") % {
                                  "seq": self.head_seq})
        return self.report


def chain_reports(queryset: QuerySet[Dossier] | None = None, chunk: int = 2000) -> Iterator[ChainReport]:
    """One report per dossier of `queryset` (all dossiers by default), sound ones included.

    One query: the dossiers LEFT JOIN their history, ordered by (dossier, seq) and read with a server-side
    cursor where the database has one, so memory stays constant whatever the number of rows. The join
    also yields dossiers whose history was emptied.
    """
    queryset = Dossier.objects.all() if queryset is None else queryset
    rows = queryset.order_by("pk", "history__seq").values_list(*_COLUMNS).iterator(chunk_size=chunk)
    chain: _Chain | None = None
    for (dossier_id, reference, head_seq, head_hash, head_anchor, seq, at, username, action, from_state, to_state, data,
         prev_hash, stored_hash) in rows:
        if chain is None or chain.report.dossier_id != dossier_id:
            if chain is not None:
                yield chain.finish()
            chain = _Chain(dossier_id, reference, head_seq, head_hash, head_anchor)
        if seq is None:
            continue   # no history row at all (LEFT JOIN)
        chain.feed(Row(dossier_id, seq, at, username, action, from_state, to_state, data, prev_hash, stored_hash))
    if chain is not None:
        yield chain.finish()


def broken_dossiers(queryset: QuerySet[Dossier] | None = None, chunk: int = 2000) -> Iterator[tuple[int, list[str]]]:
    """(dossier id, problems) for each dossier of `queryset` whose history chain does not verify."""
    for report in chain_reports(queryset, chunk=chunk):
        if report.problems:
            yield report.dossier_id, report.problems


def verify_chain(dossier_id: int) -> list[str]:
    """The problems of one dossier's history chain; empty when sound. Raises Dossier.DoesNotExist."""
    for report in chain_reports(Dossier.objects.filter(pk=dossier_id)):
        return report.problems
    raise Dossier.DoesNotExist(f"Dossier {dossier_id} does not exist.")
