"""Rule → FAQ links: each rule's cited seed answer comes first, curated links survive re-imports."""
from io import StringIO

import pytest
from django.core.management import call_command

from dossiers.rules import CATALOGUE
from faqref.links import MAX_LINKS_PER_RULE, MIN_COVERAGE, TOPICS, guidance_for, refresh_links
from faqref.models import Entry, RuleLink
from faqref.parsing import fingerprint, parse_export
from faqref.search import fallback_stems, word_coverage

from .conftest import SEED_0, SEED_1, SEEDS, run_import

pytestmark = pytest.mark.django_db

# DOMAIN.md §5: the seed answer each rule cites in its "source" column, by its opening words ("same" rows
# repeat the row above). solde.two_invoices_marked is the warn half of solde.two_invoices, same answer.
CITED = {
    "client.identified": "Un site géographique",
    "bdc.document": "Oui, le bon de commande",
    "bdc.signature_type": "Oui, le bon de commande",
    "dispositif.single_active": "Pour rappel, l’établissement",
    "avance.solution_referenced": "Non, ce programme ne finance pas",
    "avance.deadline": "Pour rappel",
    "va.document": "Une demande de solde comprend",
    "va.esms_prerequisites": "En amont de la signature de la VA",
    "solde.pv_pilote": "Une demande de solde comprend",
    "solde.invoice_document": "Une demande de solde comprend",
    "solde.invoice_matches_va_signer": "Il n’est pas indispensable",
    "solde.amount_within_avance": "Le montant de la facture",
    "solde.invoice_full_amount": "Le montant de la facture",
    "solde.vat_exemption": "Sauf cas d'exonération",
    "solde.vat_rate": "Sauf cas d'exonération",
    "solde.two_invoices": "Il est demandé de présenter",
    "solde.two_invoices_marked": "Il est demandé de présenter",
    "solde.invoice_mentions": "La liste des éléments",
    "cancel.honour_statement": "Pour annuler votre demande",
    "cancel.client_renunciation": "Pour annuler votre demande",
    # DOMAIN.md §8
    "dates.chronology": "Pour rappel",
    "solde.declared_finess": "Lorsqu’une structure s’authentifie",
}


def cited_fingerprints(opening: str) -> set[str]:
    """The fingerprints of the seed answers (one per export holding it) that start with `opening`."""
    answers = [a for path in (SEED_0, SEED_1) for a in parse_export(path.read_bytes(), path.name).answers
               if a.text.startswith(opening)]
    assert answers, f"no seed answer starts with {opening!r}"
    assert len({a.text[:80] for a in answers}) == 1, f"{opening!r} names several answers"
    return {fingerprint(a.text) for a in answers}


def test_every_cited_rule_is_in_the_catalogue_with_faq_terms():
    assert set(CITED) <= set(CATALOGUE)
    assert all(TOPICS[code] == CATALOGUE[code].faq_query for code in CITED)


@pytest.mark.parametrize("code", sorted(CITED))
def test_the_first_link_of_each_rule_is_the_seed_answer_it_cites(code, seeded):
    guidance = guidance_for([code])[code]

    assert guidance, f"{code} has no FAQ link"
    first = Entry.objects.get(pk=guidance[0]["id"])
    texts = set(first.revisions.values_list("fingerprint", flat=True))
    assert texts & cited_fingerprints(CITED[code]), f"{code} links first to: {first.text[:80]!r}"


def test_each_rule_gets_at_most_three_automatic_links_holding_half_its_words_or_more(seeded):
    links = RuleLink.objects.filter(origin=RuleLink.Origin.AUTO).select_related("entry")

    per_rule: dict[str, int] = {}
    for link in links:
        per_rule[link.rule] = per_rule.get(link.rule, 0) + 1
        assert word_coverage(fallback_stems(TOPICS[link.rule]), link.entry.search_text) >= MIN_COVERAGE
    assert set(per_rule) <= set(CATALOGUE)
    assert set(CITED) <= set(per_rule)
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
    code = "solde.pv_pilote"
    cited = guidance_for([code])[code][0]["id"]
    pinned_entry = Entry.objects.get(text__startswith="Les dispositions de la maintenance")
    RuleLink.objects.filter(rule=code, entry_id=cited).update(origin=RuleLink.Origin.REMOVED)
    pinned = RuleLink.objects.update_or_create(rule=code, entry=pinned_entry,
                                               defaults={"origin": RuleLink.Origin.PINNED, "rank": 0})[0]

    run_import(SEEDS)

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
    Entry.objects.filter(text__startswith="Un site géographique").delete()
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
