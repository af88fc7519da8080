"""Person names compared as people write them (DOMAIN.md §8): case, accents, ligatures, titles, order, joins.

A name is cut into words at spaces and punctuation; a word that is a title (M., Mme, Dr, Pr…) is dropped; each
remaining word is cut again at its apostrophes and hyphens. Two names match when some grouping of adjacent
parts of each (in the order written) gives the same multiset of words: "N'Diaye" = "NDIAYE" = "N Diaye",
"Jean-Pierre" = "Jeanpierre" = "Jean Pierre", in any word order. Grouping never adds or removes a letter, so two
names whose letters differ never match.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import product

TITLES = frozenset({"m", "mr", "monsieur", "mme", "madame", "mlle", "mademoiselle", "dr", "docteur", "pr",
                    "professeur", "me"})
# Letters NFKD leaves whole: ligatures and the like, folded as French writes them without them.
LIGATURES = str.maketrans({"æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ø": "o", "Ø": "O",
                           "\u00ad": ""})
# Apostrophes and hyphens join the parts of one name ("N'Diaye", "Lefèvre-Dupont"), in every typographic form.
JOINERS = "'\u2019\u2018\u02bc\u00b4`\u2032-\u2010\u2011\u2012\u2013\u2014\u2212"
_WORD_SEPARATORS = re.compile(rf"[^a-z0-9{re.escape(JOINERS)}]+")
_JOINERS = re.compile(rf"[{re.escape(JOINERS)}]+")
# Beyond this many parts, only the parts as written and the fully joined name are compared (2^n groupings).
MAX_GROUPED_PARTS = 10


def fold(text: str) -> str:
    """Lower case, no accents, no ligatures."""
    text = unicodedata.normalize("NFKD", (text or "").translate(LIGATURES))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().translate(LIGATURES)


def name_parts(name: str) -> tuple[str, ...]:
    """The parts of a name in the order written, titles dropped: "Dr Jean-Pierre N'Diaye" → jean, pierre, n, diaye."""
    parts: list[str] = []
    for word in _WORD_SEPARATORS.split(fold(name)):
        # A title is a word of its own: the "M" of "M'Bappé" is part of the name.
        if not word or word.strip(JOINERS) in TITLES:
            continue
        parts.extend(p for p in _JOINERS.split(word) if p)
    return tuple(parts)


@lru_cache(maxsize=4096)
def _groupings(parts: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """Every multiset (a sorted tuple) of words obtained by joining runs of adjacent parts."""
    if not parts:
        return frozenset()
    if len(parts) > MAX_GROUPED_PARTS:
        return frozenset({tuple(sorted(parts)), ("".join(parts),)})
    result = set()
    for cuts in product((False, True), repeat=len(parts) - 1):
        words, current = [], parts[0]
        for part, cut in zip(parts[1:], cuts):
            if cut:
                words.append(current)
                current = part
            else:
                current += part
        words.append(current)
        result.add(tuple(sorted(words)))
    return frozenset(result)


def names_match(first: str, second: str) -> bool:
    """Whether two written names name the same person (see the module docstring); an empty name matches nothing."""
    return bool(_groupings(name_parts(first)) & _groupings(name_parts(second)))
