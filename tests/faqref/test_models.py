"""The entry model's derived values: slug, folded search columns, title."""
import pytest

from faqref.models import Entry, Facet, fold, make_slug
from faqref.parsing import FACET_KEYS

pytestmark = pytest.mark.django_db


def test_a_slug_is_the_titles_words_cut_at_a_word_then_the_fingerprints_head():
    title = "Pour rappel, l’établissement ou professionnel de santé ne peut bénéficier que d'une seule prestation"

    slug = make_slug(title, "abcdef0123456789" * 4)

    assert slug == "pour-rappel-letablissement-ou-professionnel-de-sante-ne-peut-abcdef01"
    assert len(slug) <= 80
    assert make_slug("…", "0" * 64) == "reponse-00000000"


def test_fold_drops_accents_case_and_punctuation_and_pads_with_spaces():
    assert fold("L’Établissement, SOLDÉ ; « Prestation Ségur » 100%") == " l etablissement solde prestation segur 100 "


def test_the_facet_keys_are_the_parsers():
    assert tuple(Facet.Key.values) == FACET_KEYS


def test_saving_an_entry_fills_its_folded_search_columns_and_its_url():
    entry = Entry(slug="x", derived_title="Réponse Élémentaire", text="Réponse Élémentaire. Détails.",
                  fingerprint="0" * 64)
    entry.save()

    entry.refresh_from_db()
    assert entry.search_title == " reponse elementaire "
    assert entry.search_text == " reponse elementaire details "
    assert entry.get_absolute_url() == f"/faq/{entry.pk}/"
