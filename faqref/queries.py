"""Reads for the FAQ pages and API: an entry with everything its page shows, and the facet filter choices."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from .models import Entry, Facet, Revision, RuleLink, Source
from .parsing import diff_words


def entries_for_detail() -> QuerySet[Entry]:
    """Entries with their revisions, sources and rule links prefetched (four queries for one entry)."""
    return Entry.objects.defer("search_title", "search_text", "search_vector").prefetch_related(
        Prefetch("revisions", queryset=Revision.objects.order_by("number")),
        Prefetch("sources", queryset=Source.objects.order_by("file", "position")),
        Prefetch("rule_links", queryset=RuleLink.objects.exclude(origin=RuleLink.Origin.REMOVED)),
    )


def revisions_with_changes(entry: Entry) -> list[dict]:
    """Each revision, oldest first, with its word diff against the one before (none for the first)."""
    result: list[dict] = []
    previous = None
    for revision in entry.revisions.all():
        changes = diff_words(previous.text, revision.text) if previous is not None else []
        result.append({"number": revision.number, "text": revision.text, "created_at": revision.created_at,
                       "changes": [list(change) for change in changes]})
        previous = revision
    return result


def linked_rules(entry: Entry) -> list[str]:
    """The codes of the rules whose guidance this entry is (pinned first, then by rank); removed ones left out."""
    links = sorted(entry.rule_links.all(), key=lambda link: (link.origin != RuleLink.Origin.PINNED, link.rule))
    return list(dict.fromkeys(link.rule for link in links if link.origin != RuleLink.Origin.REMOVED))


def sources_of(entry: Entry) -> list[dict]:
    numbers = {revision.pk: revision.number for revision in entry.revisions.all()}
    return [{"file": s.file, "position": s.position, "line": s.line, "revision": numbers.get(s.revision_id)}
            for s in entry.sources.all()]


def facet_choices() -> dict[str, list[str]]:
    """The values each facet filter can take (those the entries carry), in one query."""
    choices: dict[str, list[str]] = {key: [] for key in Facet.Key.values}
    for key, value in Facet.objects.values_list("key", "value").distinct().order_by("key", "value"):
        choices[key].append(value)
    return choices
