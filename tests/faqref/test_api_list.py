"""The FAQ search API writes what its serializer wrote, and counts the matches without a COUNT query when its
first page holds them all (the usual search); any other page, or a full first page, is counted as before."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import set_script_prefix

from faqref.api import EntryListSerializer
from faqref.models import Entry
from faqref.search import _last_word, excerpt, search

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded_api(seeded, api):
    return api


def get(api, **params):
    """The body, and the statements of the search itself (the token's, and SAVEPOINTs, left out)."""
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/v1/faq/", params)
    assert response.status_code == 200, response.content
    return response.json(), [q["sql"] for q in captured.captured_queries if "faqref_entry" in q["sql"]]


@pytest.mark.parametrize("q", ["", "facturation du solde", "PV pilote validé", "aucun mot trouvable zzz"])
def test_the_list_writes_what_the_serializer_wrote(seeded_api, q):
    body, _ = get(seeded_api, q=q, page_size=500)
    entries = list(search(q))
    assert body["results"] == EntryListSerializer(entries, many=True, context={"q": q}).data
    assert body["count"] == len(entries)


def test_a_first_page_holding_every_match_is_not_counted(seeded_api):
    body, statements = get(seeded_api, q="facturation du solde")
    assert 0 < body["count"] < 50 and len(body["results"]) == body["count"]
    assert len(statements) == 1 and "COUNT(" not in statements[0].upper()
    body, statements = get(seeded_api, page_size=100)  # no words: every entry, fewer than a page
    assert body["count"] == Entry.objects.count() == len(body["results"]) and len(statements) == 1


def test_a_full_first_page_and_the_other_pages_are_counted(seeded_api):
    total = Entry.objects.count()
    body, statements = get(seeded_api, page_size=10)
    assert (body["count"], len(body["results"])) == (total, 10) and "page=2" in body["next"]
    assert len(statements) == 2 and any("COUNT(" in sql.upper() for sql in statements)
    whole, _ = get(seeded_api, page_size=500)
    exactly, _ = get(seeded_api, page_size=total)  # a first page exactly full: counted, nothing after it
    assert exactly["count"] == total and exactly["next"] is None
    second, statements = get(seeded_api, page_size=10, page=2)
    assert second["count"] == total and second["results"] == whole["results"][10:20]
    assert len(statements) == 2
    last, _ = get(seeded_api, page_size=10, page="last")
    assert last["results"] == whole["results"][20:]


@pytest.mark.parametrize("params", [{"page": "0"}, {"page": "x"}, {"page_size": "0"}, {"page_size": "-3"},
                                    {"page": "1", "page_size": "abc"}])
def test_a_malformed_page_is_still_a_400(seeded_api, params):
    assert seeded_api.get("/api/v1/faq/", params).status_code == 400


def test_a_page_past_the_last_is_still_a_404(seeded_api):
    assert seeded_api.get("/api/v1/faq/", {"page": "99"}).status_code == 404


def test_urls_follow_the_script_prefix(seeded_api):
    set_script_prefix("/segur/")
    try:
        from faqref.api import list_item
        from segurtrack.reversing import url_maker

        entry = Entry.objects.order_by("id").first()
        assert list_item(entry, "", url_maker("faqref:entry"))["url"] == f"/segur/faq/{entry.pk}/"
    finally:
        set_script_prefix("/")


def test_the_last_word_is_read_from_the_end_whatever_the_length():
    assert _last_word("") is None and _last_word(" … ") is None
    assert _last_word("Une phrase courte.") == "courte"
    long_text = "mot " * 500 + "dernier."
    assert _last_word(long_text) == "dernier"
    # A last word longer than the tail read first: found whole, not cut.
    assert _last_word("début " + "x" * 300 + "!") == "x" * 300
    assert _last_word("début " + "y" * 300) == "y" * 300


def make_entry(text: str) -> Entry:
    created = Entry(slug=f"e-{Entry.objects.count()}", derived_title=text[:40], text=text, fingerprint="0" * 64)
    created.save()
    return created


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database's headline: PostgreSQL only")
def test_the_excerpt_marks_a_cut_at_each_end_and_only_there():
    make_entry("La facture du solde est jointe.")
    make_entry(" ".join(f"mot{i}" for i in range(100)) + " la facture " + " ".join(f"fin{i}" for i in range(100))
               + " " + "z" * 250)
    short, long = sorted(search("facture"), key=lambda e: len(e.text))
    # The headline ends where the short text ends (no "…" after it); it left out its first word ("La").
    assert str(excerpt(short, "facture")) == "… <mark>facture</mark> du solde est jointe"
    cut = str(excerpt(long, "facture"))
    assert cut.startswith("… mot") and cut.endswith(" …") and "<mark>facture</mark>" in cut
