"""FAQ search: French inflections and accents, ranking, facet filters, safe highlighted excerpts, one query.

On PostgreSQL the search is full text (french_unaccent); elsewhere a fallback folds accents and cuts French
suffixes. The same expectations hold for both; where only PostgreSQL can do something, the assertion says so.
"""
import pytest
from django.db import connection

from faqref.models import Entry, Facet
from faqref.search import excerpt, search, stem

from .conftest import MS2

pytestmark = pytest.mark.django_db


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def entry(text: str, question: str = "", **facets: list[str]) -> Entry:
    created = Entry(slug=f"e-{Entry.objects.count()}", derived_title=text.split(".")[0][:120], question=question,
                    text=text, fingerprint="0" * 64, facets=facets)
    created.save()
    for key, values in facets.items():
        Facet.objects.bulk_create([Facet(entry=created, key=key, value=value) for value in values])
    return created


def openings(results, length: int = 30) -> list[str]:
    return [e.text[:length] for e in results]


def test_an_accented_word_finds_the_answers_written_without_the_accent(seeded):
    found = list(search("soldé"))

    assert found
    assert all("solde" in e.text.lower() or "soldé" in e.text.lower() for e in found)
    assert any(e.text.startswith("Une demande de solde comprend") for e in found)


def test_a_word_finds_its_inflections(seeded):
    found = openings(search("facturation"), 60)

    assert any(text.startswith("Le montant de la facture transmise") for text in found)
    assert any(text.startswith("Une seule facture globale") for text in found)


def test_case_and_accents_in_the_query_do_not_matter(seeded):
    assert openings(search("ETABLISSEMENT SIRET")) == openings(search("établissement siret"))


def test_results_are_ranked_most_relevant_first():
    passing = entry("Une note générale. Elle parle du programme, des délais, de la maintenance et de la facture.")
    central = entry("La facture du solde reprend la facture de l'avance.", question="Que doit porter la facture ?")
    entry("Les cartes CPE se commandent auprès de l'ANS.")

    assert list(search("facture")) == [central, passing]
    assert list(search("facture"))[0].rank > list(search("facture"))[1].rank


def test_answers_sharing_more_of_the_query_words_rank_higher():
    one = entry("Le bon de commande est signé par le client.")
    both = entry("Le bon de commande signé est joint à la demande d'avance.")

    assert list(search("commande avance")) == [both, one]


def test_french_stemming_is_done_by_postgresql_and_imitated_by_the_fallback():
    financed = entry("Ce programme finance la mise à jour des logiciels référencés.")

    assert list(search("financements")) == [financed]
    assert list(search("financé")) == [financed]
    if on_postgresql():
        # The French Snowball stemmer, not a prefix match: "logiciel" and "logicielles" share a stem.
        assert list(search("logicielles")) == [financed]
    else:
        assert stem("logicielles") == "logiciell" and list(search("logicielles")) == []


def test_a_query_of_stop_words_finds_nothing_and_no_query_lists_every_entry():
    first = entry("Le solde est versé après la VA.")
    second = entry("Les cartes CPE se commandent auprès de l'ANS.")

    assert list(search("le la de")) == []
    assert list(search("")) == [first, second]
    assert list(search("  ,;  ")) == [first, second]


def test_the_facet_filters_keep_the_entries_seen_under_those_values():
    couloir = entry("Le solde du couloir médico-social.", couloir=["Médico-social"], dispositif=[MS2])
    themed = entry("Le solde et sa facture.", thematique=["Facturation"])
    entry("Le solde sans facette.")

    assert list(search("solde", dispositif=MS2)) == [couloir]
    assert list(search("solde", couloir="Médico-social", dispositif=MS2)) == [couloir]
    assert list(search("", theme="Facturation")) == [themed]
    assert list(search("solde", couloir="Hôpital")) == []


def test_the_dispositif_filter_finds_the_answers_of_the_filtered_export(corpus_imported):
    filtered = search(dispositif=MS2)

    # The first export was made under the MS2 dispositif filter: its answers carry it, the second's others not.
    assert filtered.count() == corpus_imported.answers[0]


def test_the_search_is_one_query_whatever_the_filters_and_the_number_of_results(
        seeded, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        found = list(search("solde facture VA signée client", couloir="", dispositif=MS2, theme=""))
        excerpts = [excerpt(e, "solde facture VA signée client") for e in found]

    assert len(found) > 5
    assert all(excerpts)


def test_the_excerpt_marks_the_matches_and_escapes_the_text():
    entry("La <b>facture</b> & le <script>alert('x')</script> solde : montant < plafond, voir la facture.")
    found = search("factures")[0]

    html = excerpt(found, "factures")

    assert "<mark>facture</mark>" in html
    assert "&amp; le" in html and "montant &lt; plafond" in html
    assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    if on_postgresql():
        # ts_headline leaves out what its parser reads as HTML tags; the words between them stay.
        assert "&lt;script&gt;" not in html and "alert" in html
    else:
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_the_excerpt_is_a_window_around_the_first_match():
    text = " ".join(f"mot{i}" for i in range(100)) + " la facture " + " ".join(f"fin{i}" for i in range(100))
    entry(text)

    html = excerpt(search("facture")[0], "facture")

    assert "<mark>facture</mark>" in html
    assert "mot0 " not in html and html.endswith("…")
    assert len(html.split()) < 50


def test_the_excerpt_without_a_query_is_the_start_of_the_text():
    entry("Première phrase. " + "suite " * 100)

    html = excerpt(search("")[0])

    assert html.startswith("Première phrase. suite") and "<mark>" not in html


def test_editing_the_question_or_the_text_keeps_the_search_up_to_date():
    edited = entry("Le solde est versé après la VA.")
    assert list(search("portabilité")) == []

    edited.question = "Quand la portabilité est-elle due ?"
    edited.save()

    assert list(search("portabilite")) == [edited]
    if on_postgresql():
        edited.refresh_from_db()
        assert "portabil" in str(edited.search_vector)
    edited.text = "Les données sont rendues sous quinze jours."
    edited.save(update_fields=["text"])
    assert list(search("données")) == [edited]


def test_the_search_index_exists_on_postgresql_only():
    with connection.cursor() as cursor:
        if on_postgresql():
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'faq_entry_search_gin'")
            assert "USING gin (search_vector)" in cursor.fetchone()[0]
            # Accents are folded before the French stemmer runs: "Soldé" and "solde" meet.
            cursor.execute("SELECT to_tsvector('french_unaccent', 'Soldé solde')::text")
            assert cursor.fetchone()[0] == "'sold':1,2"
        else:
            tables = connection.introspection.table_names(cursor)
            assert "faqref_entry" in tables
            assert "faq_entry_search_gin" not in connection.introspection.get_constraints(cursor, "faqref_entry")


def test_the_answer_about_a_topic_comes_first(seeded):
    assert search("portabilité données")[0].text.startswith("Un principe de l'appel à financement")


def test_a_long_query_is_cut_to_its_first_words_and_or_is_not_an_operator():
    found = entry("Le solde est versé après la VA.")

    assert list(search("or " + "solde " * 100)) == [found]
