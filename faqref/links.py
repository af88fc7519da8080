"""Guidance for rule codes: the stored links, read in one query, in the shape the API and pages show; and
their automatic refresh from each rule's search terms."""
from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import TypedDict

from django.db import transaction
from django.urls import reverse

from .models import RuleLink
from .search import fallback_stems, search, word_coverage

# Rule code -> search terms, registered by the apps that own rules (faqref never imports them).
TOPICS: dict[str, str] = {}
MAX_LINKS_PER_RULE = 3
# An automatic link needs the entry to hold at least this share of the topic's words: below it, the best
# match is only the least bad one (a rule no FAQ answer covers would get unrelated guidance).
MIN_COVERAGE = 0.5


class FaqRef(TypedDict):
    id: int
    title: str
    url: str


def register_topics(topics: dict[str, str]) -> None:
    TOPICS.update(topics)


def guidance_for(codes: Iterable[str], *, entry_fields: tuple[str, ...] = ()) -> dict[str, list[FaqRef]]:
    """Each code's linked entries, pinned first then by rank; one query whatever the number of codes.
    `entry_fields`: more of each entry's fields, read in the same query and added to each ref under their names
    (a page showing an excerpt reads the text with the links instead of in a second query)."""
    codes = list(dict.fromkeys(codes))
    result: dict[str, list[FaqRef]] = {code: [] for code in codes}
    if not codes:
        return result
    links = (
        RuleLink.objects.filter(rule__in=codes)
        .exclude(origin=RuleLink.Origin.REMOVED)
        .select_related("entry")
        .only("rule", "origin", "rank", "entry__id", "entry__question", "entry__derived_title",
              *(f"entry__{name}" for name in entry_fields))
    )
    # Equal ranks keep the search's own order (entry id), whatever order the links were stored in.
    ordered = sorted(links, key=lambda link: (link.origin != RuleLink.Origin.PINNED, -link.rank, link.entry_id))
    for link in ordered:
        refs = result[link.rule]
        if len(refs) < MAX_LINKS_PER_RULE:
            refs.append({"id": link.entry_id, "title": link.entry.title,
                         "url": reverse("faqref:entry", args=[link.entry_id]),
                         **{name: getattr(link.entry, name) for name in entry_fields}})
    return result


def refresh_links() -> dict[str, list[int]]:
    """Store each registered topic's best entries as AUTO links (with the search rank), in place of the
    previous AUTO links; PINNED and REMOVED rows are never touched, and their entries are not linked
    again automatically for that rule. An entry holding less than MIN_COVERAGE of the topic's words is not
    linked. Returns each code's auto-linked entry ids, best first.

    Idempotent: when nothing changed, nothing is written. One search per topic, plus four queries.
    """
    with transaction.atomic():
        curated: dict[str, set[int]] = {}
        for rule, entry_id in RuleLink.objects.exclude(origin=RuleLink.Origin.AUTO).values_list("rule", "entry_id"):
            curated.setdefault(rule, set()).add(entry_id)
        wanted: dict[tuple[str, int], float] = {}
        linked: dict[str, list[int]] = {}
        for code, terms in sorted(TOPICS.items()):
            stems = fallback_stems(terms)
            candidates = (search(terms).exclude(pk__in=curated.get(code, ()))
                          .values_list("id", "rank", "search_text")[:MAX_LINKS_PER_RULE * 4]) if stems else []
            best = list(islice(((entry_id, rank) for entry_id, rank, folded in candidates
                                if word_coverage(stems, folded) >= MIN_COVERAGE), MAX_LINKS_PER_RULE))
            linked[code] = [entry_id for entry_id, _ in best]
            wanted.update({(code, entry_id): float(rank) for entry_id, rank in best})
        existing = {(link.rule, link.entry_id): link
                    for link in RuleLink.objects.select_for_update().filter(origin=RuleLink.Origin.AUTO)}
        stale = [link.pk for key, link in existing.items() if key not in wanted]
        if stale:
            RuleLink.objects.filter(pk__in=stale).delete()
        changed = []
        for key, rank in wanted.items():
            link = existing.get(key)
            if link is not None and link.rank != rank:
                link.rank = rank
                changed.append(link)
        if changed:
            RuleLink.objects.bulk_update(changed, ["rank"])
        RuleLink.objects.bulk_create([
            RuleLink(rule=rule, entry_id=entry_id, origin=RuleLink.Origin.AUTO, rank=rank)
            for (rule, entry_id), rank in wanted.items() if (rule, entry_id) not in existing
        ])
    return linked
