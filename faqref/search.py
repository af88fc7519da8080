"""FAQ search: PostgreSQL full text (French stems, accents folded) ranked best first, a cruder fallback elsewhere.

Both read the words of the query as alternatives (any word matches, more matched words rank higher), so a
question typed in plain French, or a rule's list of terms, still finds the answer that shares most of it.
Either way `search()` is one query, whatever the number of results.
"""
from __future__ import annotations

import re

from django.db import connection
from django.db.models import BooleanField, Case, Exists, FloatField, OuterRef, QuerySet, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import SEARCH_CONFIG, Entry, Facet, fold
MAX_QUERY_WORDS = 32
EXCERPT_WORDS = 35
# ts_headline marks matches with characters no answer contains; the excerpt escapes the text and only then
# turns them into <mark> tags, so the database never writes HTML into a page.
_MARK_START, _MARK_STOP = "\ue000", "\ue001"
_MARKED = re.compile(f"{_MARK_START}(.*?){_MARK_STOP}", re.DOTALL)
_WORD = re.compile(r"\w+")

# The facet filters of the API and the pages, by parameter name.
FILTERS = {"couloir": Facet.Key.COULOIR, "dispositif": Facet.Key.DISPOSITIF, "theme": Facet.Key.THEMATIQUE}

# The fallback's French stop words (PostgreSQL has its own list) and suffixes: crude, but "facturation"
# meets "facture" and "soldé" meets "solde".
_STOP_WORDS = frozenset("""
    a au aux avec ce ces cet cette d dans de des du elle elles en est et etre il ils je l la le les leur leurs
    lui m ma mais me mes moi mon n ne nos notre nous on ou par pas pour qu que qui s sa se ses son sont sur t
    ta te tes toi ton tu un une vos votre vous y
""".split())
_SUFFIXES = ("ations", "ation", "itions", "ition", "ements", "ement", "ments", "ment", "euses", "euse", "eurs",
             "eur", "iques", "ique", "ives", "ive", "ifs", "if", "ees", "ee", "es", "er", "ez", "e", "s", "x")
_MIN_STEM = 4


def query_words(q: str) -> list[str]:
    """The words of a query, in order, once each ("or", an operator to PostgreSQL, is left out)."""
    words = [w for w in _WORD.findall(q or "") if w.casefold() != "or"]
    return list(dict.fromkeys(words))[:MAX_QUERY_WORDS]


def stem(word: str) -> str:
    """The fallback's stem: the folded word less one French suffix, when at least four letters remain."""
    word = fold(word).strip()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def fallback_stems(q: str) -> list[str]:
    stems = (stem(w) for w in query_words(q) if fold(w).strip() not in _STOP_WORDS)
    return list(dict.fromkeys(s for s in stems if s))


def search(q: str = "", *, couloir: str | None = None, dispositif: str | None = None,
           theme: str | None = None) -> QuerySet[Entry]:
    """Entries matching any word of `q` and every facet given, best first, each with a `rank`.

    On PostgreSQL each also has a `headline` for `excerpt()`. Without words, every entry (of the facets)
    in the order they were added. Facet values are compared exactly, as the exports write them.
    """
    # What the pages, the API and the links read of a result (its URL and title, excerpt, facets, demo badge).
    entries = Entry.objects.only("id", "question", "derived_title", "text", "facets", "is_demo")
    for param, value in (("couloir", couloir), ("dispositif", dispositif), ("theme", theme)):
        if value:
            entries = entries.filter(Exists(Facet.objects.filter(entry=OuterRef("pk"), key=FILTERS[param],
                                                                 value=value)))
    words = query_words(q)
    if not words:
        return entries.annotate(rank=Value(0.0, output_field=FloatField())).order_by("id")
    if connection.vendor == "postgresql":
        return _full_text(entries, " or ".join(words))
    stems = fallback_stems(q)
    if not stems:
        return entries.none().annotate(rank=Value(0.0, output_field=FloatField()))
    # One point per word found in the text, half a point more when the title has it too (PostgreSQL weighs
    # titles higher as well).
    rank = sum(
        (Case(When(**{f"{field}__contains": pattern}, then=Value(weight)), default=Value(0.0),
              output_field=FloatField())
         for pattern in _patterns(stems) for field, weight in (("search_text", 1.0), ("search_title", 0.5))),
        Value(0.0, output_field=FloatField()),
    )
    return entries.annotate(rank=rank).filter(rank__gt=0).order_by("-rank", "id")


# The SQL of Django's SearchQuery, SearchRank and SearchHeadline (websearch_to_tsquery, ts_rank, ts_headline with
# these options), written out: the ORM takes longer to compile those three expressions than PostgreSQL to answer a
# search of the FAQ.
_TSQUERY = "websearch_to_tsquery(%s::regconfig, %s)"
_HEADLINE_OPTIONS = (f"StartSel={_MARK_START}, StopSel={_MARK_STOP}, MaxWords={EXCERPT_WORDS}, MinWords=20, "
                     f"ShortWord=2, MaxFragments=1")


def _full_text(entries: QuerySet[Entry], words: str) -> QuerySet[Entry]:
    """The entries whose search vector matches any of `words` (joined by " or "), with their rank and headline."""
    quote = connection.ops.quote_name
    table = quote(Entry._meta.db_table)
    vector, text = f"{table}.{quote('search_vector')}", f"{table}.{quote('text')}"
    query = (SEARCH_CONFIG, words)
    return (
        entries.filter(RawSQL(f"{vector} @@ {_TSQUERY}", query, output_field=BooleanField()))
        .annotate(
            rank=RawSQL(f"ts_rank({vector}, {_TSQUERY})", query, output_field=FloatField()),
            headline=RawSQL(f"ts_headline(%s::regconfig, {text}, {_TSQUERY}, %s)",
                            (SEARCH_CONFIG, *query, _HEADLINE_OPTIONS), output_field=TextField()),
        )
        .order_by("-rank", "id")
    )


def excerpt(entry: Entry, q: str = "") -> SafeString:
    """A short extract of the entry's text around the query's words, as HTML: the text escaped, matches
    in <mark>. Uses the database's headline when `search()` computed one."""
    headline = getattr(entry, "headline", None)
    if headline is not None:
        html = _MARKED.sub(lambda m: f"<mark>{m[1]}</mark>", escape(headline))
        html = " ".join(html.replace(_MARK_START, "").replace(_MARK_STOP, "").split())
        # ts_headline cuts without saying so: show where the text goes on.
        shown = _WORD.findall(headline)
        if shown and _first_word(entry.text) not in (None, shown[0]):
            html = f"… {html}"
        if shown and _last_word(entry.text) not in (None, shown[-1]):
            html = f"{html} …"
        return mark_safe(html)
    return _fallback_excerpt(entry.text, fallback_stems(q))


def _first_word(text: str) -> str | None:
    found = _WORD.search(text)
    return found[0] if found else None


_TAIL = 200


def _last_word(text: str) -> str | None:
    """The last word of `text`, read from its end (an answer runs to thousands of words)."""
    tail = text[-_TAIL:]
    words = _WORD.findall(tail)
    if len(tail) == len(text) or (words and len(words) > 1):
        return words[-1] if words else None
    # One word or none in the tail: it may have started before it.
    words = _WORD.findall(text)
    return words[-1] if words else None


def _fallback_excerpt(text: str, stems: list[str]) -> SafeString:
    tokens = list(_WORD.finditer(text))
    hits = [i for i, token in enumerate(tokens) if _matches(fold(token[0]).strip(), stems)]
    first = max(0, hits[0] - EXCERPT_WORDS // 3) if hits else 0
    window = tokens[first: first + EXCERPT_WORDS]
    if not window:
        return mark_safe(escape(" ".join(text.split())))
    hit_set = set(hits)
    start = window[0].start()
    parts = ["… " if first else ""]
    cursor = start
    for offset, token in enumerate(window, start=first):
        parts.append(escape(text[cursor:token.start()]))
        word = escape(token[0])
        parts.append(f"<mark>{word}</mark>" if offset in hit_set else word)
        cursor = token.end()
    end = window[-1].end()
    tail = text[end:]
    if first + EXCERPT_WORDS < len(tokens):
        parts.append(escape(tail[: len(tail) - len(tail.lstrip(".,;:!?…)»\"'"))]) + " …")
    else:
        parts.append(escape(tail))
    return mark_safe(" ".join("".join(parts).split()))


def word_coverage(stems: list[str], folded: str) -> float:
    """Share of the stems that some word of `folded` (an Entry.search_text) matches, from 0 to 1."""
    if not stems:
        return 0.0
    return sum(1 for pattern in _patterns(stems) if pattern in folded) / len(stems)


def _patterns(stems: list[str]) -> list[str]:
    """What the fallback looks for in the folded columns: short stems ("va", "ans") as whole words,
    longer ones at the start of a word."""
    return [f" {s} " if len(s) < _MIN_STEM else f" {s}" for s in stems]


def _matches(word: str, stems: list[str]) -> bool:
    return any(word == s if len(s) < _MIN_STEM else word.startswith(s) for s in stems)
