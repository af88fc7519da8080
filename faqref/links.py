"""Guidance for rule codes: the stored links, read in one query, in the shape the API and pages show."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from django.urls import reverse

from .models import RuleLink

# Rule code -> search terms, registered by the apps that own rules (faqref never imports them).
TOPICS: dict[str, str] = {}
MAX_LINKS_PER_RULE = 3


class FaqRef(TypedDict):
    id: int
    title: str
    url: str


def register_topics(topics: dict[str, str]) -> None:
    TOPICS.update(topics)


def guidance_for(codes: Iterable[str]) -> dict[str, list[FaqRef]]:
    """Each code's linked entries, pinned first then by rank; one query whatever the number of codes."""
    codes = list(dict.fromkeys(codes))
    result: dict[str, list[FaqRef]] = {code: [] for code in codes}
    if not codes:
        return result
    links = (
        RuleLink.objects.filter(rule__in=codes)
        .exclude(origin=RuleLink.Origin.REMOVED)
        .select_related("entry")
        .only("rule", "origin", "rank", "entry__id", "entry__question", "entry__derived_title")
    )
    ordered = sorted(links, key=lambda link: (link.origin != RuleLink.Origin.PINNED, -link.rank, link.id))
    for link in ordered:
        refs = result[link.rule]
        if len(refs) < MAX_LINKS_PER_RULE:
            refs.append({"id": link.entry_id, "title": link.entry.title,
                         "url": reverse("faqref:entry", args=[link.entry_id])})
    return result
