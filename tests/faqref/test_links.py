"""Rule → FAQ links: each rule's cited answer comes first (our exports, and the official ones in CI), curated
links survive re-imports."""
from io import StringIO

import pytest
from django.core.management import call_command

from dossiers.rules import CATALOGUE
from faqref.links import MAX_LINKS_PER_RULE, MIN_COVERAGE, TOPICS, guidance_for, refresh_links
from faqref.models import Entry, RuleLink
from faqref.parsing import fingerprint, parse_export
from faqref.search import fallback_stems, word_coverage

from .conftest import DEMO, OURS, run_import

pytestmark = pytest.mark.django_db

def cited_fingerprints(corpus, opening: str) -> set[str]:
    """The fingerprints of the corpus's answers (one per export holding it) that start with `opening`."""
    answers = [a for path in corpus.paths for a in parse_export(path.read_bytes(), path.name).answers
               if a.text.startswith(opening)]
    assert answers, f"no {corpus.name} answer starts with {opening!r}"
    assert len({a.text[:80] for a in answers}) == 1, f"{opening!r} names several answers"
    return {fingerprint(a.text) for a in answers}


def test_every_cited_rule_is_in_the_catalogue_with_faq_terms(corpus):
    assert set(corpus.cited) <= set(CATALOGUE)
    assert all(TOPICS[code] == CATALOGUE[code].faq_query for code in corpus.cited)


def test_our_exports_cite_an_answer_for_every_rule():
    assert set(OURS.cited) == set(CATALOGUE) and not OURS.unlinked


def test_every_rule_finds_guidance_and_the_first_link_is_the_answer_it_cites(corpus_imported):
    corpus = corpus_imported
    guidance = guidance_for(CATALOGUE)

    assert {code for code, refs in guidance.items() if not refs} == corpus.unlinked
    wrong = {}
    for code, opening in corpus.cited.items():
        first = Entry.objects.get(pk=guidance[code][0]["id"])
        if not set(first.revisions.values_list("fingerprint", flat=True)) & cited_fingerprints(corpus, opening):
            wrong[code] = first.text[:80]
    assert wrong == {}, f"rules whose first link is not the answer they cite: {wrong}"


def test_each_rule_gets_at_most_three_automatic_links_holding_half_its_words_or_more(corpus_imported):
    links = RuleLink.objects.filter(origin=RuleLink.Origin.AUTO).select_related("entry")

    per_rule: dict[str, int] = {}
    for link in links:
        per_rule[link.rule] = per_rule.get(link.rule, 0) + 1
        assert word_coverage(fallback_stems(TOPICS[link.rule]), link.entry.search_text) >= MIN_COVERAGE
    assert set(per_rule) <= set(CATALOGUE)
    assert set(corpus_imported.cited) <= set(per_rule)
    assert max(per_rule.values()) <= MAX_LINKS_PER_RULE


def test_a_topic_many_answers_cover_is_capped_at_three_links(seeded, monkeypatch):

    monkeypatch.setitem(TOPICS, "test.broad", "solde")
    refresh_links()
    broad = RuleLink.objects.filter(rule="test.broad", origin=RuleLink.Origin.AUTO)
    assert broad.count() == MAX_LINKS_PER_RULE


def test_a_topic_no_answer_covers_gets_no_automatic_link_rather_than_the_least_bad_one(seeded, monkeypatch):
    # "solde" alone is in many answers, but a quarter of the words is no guidance.
    monkeypatch.setitem(TOPICS, "test.uncovered", "hébergement certifié HDS solde")
    monkeypatch.setitem(TOPICS, "test.empty", "  ")

    linked = refresh_links()

    assert linked["test.uncovered"] == linked["test.empty"] == []
    assert not RuleLink.objects.filter(rule__startswith="test.").exists()


def test_pinned_and_removed_links_survive_a_reimport_and_a_removed_entry_is_not_linked_again(seeded):
    code = "va.document"
    cited = guidance_for([code])[code][0]["id"]
    pinned_entry = Entry.objects.get(text__startswith="Pièces à conserver")
    RuleLink.objects.filter(rule=code, entry_id=cited).update(origin=RuleLink.Origin.REMOVED)
    pinned = RuleLink.objects.update_or_create(rule=code, entry=pinned_entry,
                                               defaults={"origin": RuleLink.Origin.PINNED, "rank": 0})[0]

    run_import(DEMO)

    assert RuleLink.objects.get(rule=code, entry_id=cited).origin == RuleLink.Origin.REMOVED
    assert RuleLink.objects.get(pk=pinned.pk).origin == RuleLink.Origin.PINNED
    ids = [ref["id"] for ref in guidance_for([code])[code]]
    assert ids[0] == pinned_entry.pk
    assert cited not in ids
    assert RuleLink.objects.filter(rule=code, origin=RuleLink.Origin.AUTO).exclude(entry=pinned_entry).exists()


def test_refreshing_the_links_twice_writes_nothing_the_second_time(seeded):
    before = list(RuleLink.objects.order_by("id").values_list("id", "rule", "entry_id", "origin", "rank"))

    linked = refresh_links()

    assert list(RuleLink.objects.order_by("id").values_list("id", "rule", "entry_id", "origin", "rank")) == before
    assert linked["solde.two_invoices"][0] == guidance_for(["solde.two_invoices"])["solde.two_invoices"][0]["id"]


def test_automatic_links_follow_the_entries_when_the_faq_changes(seeded):
    code = "client.identified"
    Entry.objects.filter(text__startswith="Chaque site géographique").delete()
    new = Entry(slug="site", derived_title="Site géographique", text="Un site géographique identifié par son "
                "numéro FINESS géographique ou son SIRET.", fingerprint="1" * 64)
    new.save()

    refresh_links()

    assert guidance_for([code])[code][0]["id"] == new.pk


def test_the_link_rules_command_prints_each_rules_links(seeded):
    out = StringIO()

    call_command("link_rules", stdout=out)

    first = guidance_for(["va.document"])["va.document"][0]["id"]
    assert f"va.document : #{first}" in out.getvalue()
    linked = sum(1 for code in CATALOGUE if guidance_for([code])[code])
    assert f"{linked} règle(s) sur {len(CATALOGUE)} reliée(s) à la FAQ." in out.getvalue()


def test_guidance_for_many_codes_is_one_query(seeded, django_assert_num_queries):
    with django_assert_num_queries(1):
        guidance = guidance_for(list(CATALOGUE) + ["unknown.rule"])

    assert guidance["unknown.rule"] == []
    assert guidance["va.document"][0] == {"id": guidance["va.document"][0]["id"],
                                          "title": Entry.objects.get(pk=guidance["va.document"][0]["id"]).title,
                                          "url": f"/faq/{guidance['va.document'][0]['id']}/"}


def test_guidance_with_entry_fields_reads_them_in_the_same_query(seeded, django_assert_num_queries):
    """A page showing an excerpt reads each entry's text with its links: still one query."""
    with django_assert_num_queries(1):
        guidance = guidance_for(["va.document"], entry_fields=("text", "is_demo"))
    [first, *_] = guidance["va.document"]
    entry = Entry.objects.get(pk=first["id"])
    assert first == {"id": entry.pk, "title": entry.title, "url": f"/faq/{entry.pk}/", "text": entry.text,
                     "is_demo": entry.is_demo}
    # Without them, the shape the API answers stays as it was.
    assert set(guidance_for(["va.document"])["va.document"][0]) == {"id", "title", "url"}
