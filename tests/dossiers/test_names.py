"""Names as people write them (DOMAIN.md §8), as properties: any rewriting of a name matches it; other names don't."""
import unicodedata

import pytest
from hypothesis import assume, given, settings, strategies as st

from dossiers.names import TITLES, fold, name_parts, names_match

LETTERS = "abcdefghijklmnopqrstuvwxyzéèêëàâîïôöùûüçæœ"
JOINS = ["", "'", "’", "-", "‐", " ", "  "]
WRITTEN_TITLES = ["M.", "Mme", "Madame", "Dr", "Dr.", "Pr", "(Pr.)", "Monsieur", "Me"]

part = st.text(alphabet=LETTERS, min_size=2, max_size=8).filter(lambda p: fold(p) not in TITLES)
# A name: words, each word one or more parts joined by an apostrophe or a hyphen ("N'Diaye", "Lefèvre-Dupont").
name_words = st.lists(st.lists(part, min_size=1, max_size=3), min_size=1, max_size=3).filter(
    lambda words: sum(len(w) for w in words) <= 6)


def written(words: list[list[str]], joins: list[str]) -> str:
    return " ".join(joins[i % len(joins)].join(parts) for i, parts in enumerate(words))


def strip_accents(text: str) -> str:
    text = text.replace("æ", "ae").replace("Æ", "AE").replace("œ", "oe").replace("Œ", "OE")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@st.composite
def rewritten(draw, words: list[list[str]]) -> str:
    """The same name in any word order, any case, with or without accents and ligatures, parts joined or split
    any way, titles and commas around."""
    order = draw(st.permutations(range(len(words))))
    chunks = []
    for index in order:
        parts = words[index]
        joins = [draw(st.sampled_from(JOINS)) for _ in parts[1:]]
        text = parts[0] + "".join(j + p for j, p in zip(joins, parts[1:]))
        if draw(st.booleans()):
            text = strip_accents(text)
        text = draw(st.sampled_from([str.upper, str.lower, str.title, str.capitalize]))(text)
        chunks.append(text)
    titles = draw(st.lists(st.sampled_from(WRITTEN_TITLES), max_size=2))
    for title in titles:
        chunks.insert(draw(st.integers(0, len(chunks))), title)
    separator = draw(st.sampled_from([" ", ", ", "  "]))
    return separator.join(chunks)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.data(), name_words)
def test_a_name_matches_any_way_of_writing_it(data, words):
    original = written(words, ["-", "'"])
    variant = data.draw(rewritten(words))
    assert names_match(original, variant), (original, variant)
    assert names_match(variant, original), (variant, original)


def letters(name: str) -> list[str]:
    return sorted("".join(name_parts(name)))


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.data(), name_words, name_words)
def test_two_different_names_never_match_however_written(data, first, second):
    one, other = written(first, ["-"]), written(second, ["'"])
    assume(letters(one) != letters(other))
    assert not names_match(one, data.draw(rewritten(second)))
    assert not names_match(data.draw(rewritten(first)), other)


def test_apostrophes_and_hyphens_join_or_split_both_ways():
    for a, b in [("N'Diaye", "NDIAYE"), ("N'Diaye", "N Diaye"), ("NDIAYE", "N Diaye"),
                 ("Jean-Pierre Martin", "MARTIN Jeanpierre"), ("Lætitia Cœur", "Laetitia COEUR"),
                 ("Dr Jeanne Martin", "MARTIN, Jeanne (Pr.)"), ("M'Bappé Kylian", "Kylian MBAPPE")]:
        assert names_match(a, b) and names_match(b, a), (a, b)
    for a, b in [("Jeanne Martin", "Jeanne Martine"), ("Jeanne", "Jeanne Martin"), ("", ""), ("Dr", "Dr"),
                 ("N'Diaye", "Diaye")]:
        assert not names_match(a, b), (a, b)
