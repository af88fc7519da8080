"""API test helpers: URLs by route name, a transition call, FAQ guidance linked to every rule code."""
from typing import Any

import pytest
from django.urls import reverse

from dossiers import rules
from faqref.models import Entry, RuleLink


def url(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args)


def post_transition(api, dossier, name: str, payload: Any, **headers: str):
    return api.post(url("dossier-transition", dossier.pk, name), payload, format="json", headers=headers)


@pytest.fixture
def guidance(db) -> Entry:
    """One FAQ entry pinned to every rule code (the state refusal included), so each item carries a link."""
    entry = Entry.objects.create(slug="guide-du-programme", derived_title="Guide du programme",
                                 text="Les règles du programme.", fingerprint="0" * 64)
    RuleLink.objects.bulk_create([RuleLink(rule=code, entry=entry, origin=RuleLink.Origin.PINNED)
                                  for code in [*rules.CATALOGUE, rules.STATE_RULE]])
    return entry


def faq_of(entry: Entry) -> list[dict[str, Any]]:
    return [{"id": entry.pk, "title": entry.title, "url": entry.get_absolute_url()}]

