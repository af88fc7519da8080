"""The dossier list page at any size: the count stops at a cap ("plus de 10 000 dossiers"), the links past the first
pages carry the last row's key, a key the page did not write is a 400 in French, the queries do not grow with the
dossiers, and the search ignores accents on the dossier and the client lists."""
import re
from datetime import datetime
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dossiers.models import Dossier
from dossiers.views import dossier_pages, list_paging
from dossiers.views.list_paging import encode_cursor

from ..factories import ClientFactory, SolutionFactory

pytestmark = pytest.mark.django_db
URL = reverse("dossier-list")
NEXT = re.compile(r'<a rel="next" href="\?([^"]+)"')
PREVIOUS = re.compile(r'<a rel="prev" href="\?([^"]+)"')


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


def references(response) -> list[str]:
    return [d.reference for d in response.context["page"].object_list]


def make(organisation, count: int, *, name: str = "Centre", start: int = 0) -> list[Dossier]:
    solution = SolutionFactory(organisation=organisation)
    return [Dossier.objects.create(organisation=organisation, solution=solution, dispositif_id=solution.dispositif_id,
                                   client=ClientFactory(organisation=organisation, name=f"{name} {n:03d}"),
                                   reference=f"L-{n:03d}") for n in range(start, start + count)]


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(dossier_pages, "PAGE_SIZE", 3)
    monkeypatch.setattr(list_paging, "KEYSET_AFTER_PAGE", 2)


def follow(browser, params: dict) -> list[tuple[int, list[str], str]]:
    """Every page from the first by its "Suivante" link: (status, references, the link followed to get there)."""
    pages, query = [], None
    while True:
        response = browser.get(f"{URL}?{query}") if query else browser.get(URL, params)
        pages.append((response.status_code, references(response), query or ""))
        found = NEXT.search(response.content.decode())
        if not found:
            return pages
        query = unescape(found.group(1))


@pytest.mark.parametrize("count", [3, 4])
def test_the_count_is_exact_up_to_the_cap_then_says_more(organisation, as_manager, settings, count, small_pages):
    settings.DOSSIER_LIST_COUNT_CAP = 3
    make(organisation, count)
    page = text(as_manager.get(URL, {"owner": "all"}))
    if count == 3:
        assert "3 dossiers" in page and "plus de" not in page and "Page 1 sur 1" not in page
    else:
        assert "plus de 3 dossiers" in page and "4 dossiers" not in page
        assert "Tous les dossiers filtrés (plus de 3 dossiers)" in page
        assert "Page 1" in page and "Page 1 sur" not in page        # the number of pages is not known past the cap
        assert NEXT.search(as_manager.get(URL, {"owner": "all"}).content.decode())


def test_the_cap_is_ten_thousand_by_default_and_the_count_one_query(organisation, as_manager):
    make(organisation, 2)
    with CaptureQueriesContext(connection) as captured:
        page = as_manager.get(URL, {"owner": "all"})
    assert "2 dossiers" in text(page) and list_paging.count_cap() == 10_000
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 10001" in counts[0]


@pytest.mark.parametrize("sort", ["reference", "-updated", "client", "-state"])
def test_following_the_links_lists_every_dossier_once_in_order(organisation, as_manager, small_pages, sort):
    dossiers = make(organisation, 14)
    pages = follow(as_manager, {"owner": "all", "sort": sort})
    assert [status for status, _rows, _link in pages] == [200] * 5
    listed = [reference for _status, rows, _link in pages for reference in rows]
    expected = [d.reference for d in Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).order_by(
        *dossier_pages.queries.sort_fields(sort))]
    assert listed == expected
    links = [link for _status, _rows, link in pages]
    assert "apres=" not in links[1] and all("apres=" in link and f"sort={sort}" in link for link in links[2:])
    last = as_manager.get(f"{URL}?{links[-1]}")
    assert "Page 5 sur 5" in text(last)
    first = re.search(r'<a href="\?([^"]+)">Première</a>', last.content.decode())
    assert references(as_manager.get(f"{URL}?{unescape(first.group(1))}")) == expected[:3]
    assert "Première" not in text(as_manager.get(f"{URL}?{links[1]}"))      # page 2: its previous link is the first


def test_the_previous_link_of_a_keyset_page_steps_back(organisation, as_manager, small_pages):
    make(organisation, 14)
    pages = follow(as_manager, {"owner": "all", "sort": "reference"})
    last = as_manager.get(f"{URL}?{pages[-1][2]}")
    back = unescape(PREVIOUS.search(last.content.decode()).group(1))
    assert "avant=" in back
    assert references(as_manager.get(f"{URL}?{back}")) == pages[-2][1]


@pytest.mark.parametrize("cursor", [
    "n'importe quoi", "e30", encode_cursor("client", ("Centre", 1)),
    encode_cursor("-updated", ("2026-03-01T09:00:00", 1)), encode_cursor("-updated", ("hier", 1)),
])
@pytest.mark.parametrize("direction", ["apres", "avant"])
def test_a_key_the_page_did_not_write_is_a_400_in_french(organisation, as_manager, cursor, direction):
    make(organisation, 2)
    response = as_manager.get(URL, {"owner": "all", "page": 22, direction: cursor})
    assert response.status_code == 400
    assert "Ce lien de page n'est plus valide" in text(response)
    assert len(references(response)) == 2 and response.context["page"].number == 1    # the first page, nothing lost


def test_another_organisations_dossiers_are_never_listed_even_from_their_key(organisation, as_manager,
                                                                           outsider_membership, small_pages):
    make(organisation, 7)
    theirs = make(outsider_membership.organisation, 7, start=50)
    cursor = encode_cursor("reference", (theirs[0].reference, theirs[0].pk))
    for params in ({"owner": "all"}, {"owner": "all", "sort": "reference", "page": 4, "apres": cursor},
                   {"owner": "all", "sort": "reference", "page": 4, "avant": cursor}):
        listed = references(as_manager.get(URL, params))
        assert not [r for r in listed if r >= "L-050"], params
    everything = [r for _s, rows, _l in follow(as_manager, {"owner": "all", "sort": "reference"}) for r in rows]
    assert everything == [f"L-{n:03d}" for n in range(7)]


def count_queries(browser, query: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(f"{URL}?{query}")
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_list_queries_do_not_grow_with_the_dossiers(organisation, as_manager, small_pages):
    make(organisation, 12)
    searches = ("owner=all", "owner=all&q=centre&sort=client", "owner=all&q=0")
    small = [count_queries(as_manager, q) for q in searches]
    keyset_small = count_queries(as_manager, follow(as_manager, {"owner": "all"})[3][2])
    make(organisation, 40, start=12)
    large = [count_queries(as_manager, q) for q in searches]
    keyset_large = count_queries(as_manager, follow(as_manager, {"owner": "all"})[3][2])
    assert small == large and keyset_small == keyset_large
    assert keyset_large == large[0]          # a keyset page costs what the first page costs
    assert large[2] == large[0] + 1          # a number: its clients' ids, read once, however many match


def test_the_dossier_and_client_lists_find_accented_names_without_accents(organisation, as_manager):
    solution = SolutionFactory(organisation=organisation)
    for name in ("Hôpital Saint-Éloi", "HOPITAL DU LAC", "Clinique des Lilas"):
        Dossier.objects.create(organisation=organisation, solution=solution, dispositif_id=solution.dispositif_id,
                               client=ClientFactory(organisation=organisation, name=name), reference=name[:8])
    for q in ("hopital", "HÔPITAL"):
        page = as_manager.get(URL, {"owner": "all", "q": q})
        assert sorted(d.client_name for d in page.context["page"]) == ["HOPITAL DU LAC", "Hôpital Saint-Éloi"]
        clients = text(as_manager.get(reverse("client-list"), {"q": q}))
        assert "Hôpital Saint-Éloi" in clients and "HOPITAL DU LAC" in clients and "Lilas" not in clients


def test_the_modified_column_keeps_its_keys_in_paris_time(organisation, as_manager, small_pages):
    dossiers = make(organisation, 9)
    moment = timezone.make_aware(datetime(2026, 3, 29, 1, 59, 59, 999999))   # the night the clocks change
    Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).update(updated_at=moment)
    listed = [r for _s, rows, _l in follow(as_manager, {"owner": "all"}) for r in rows]
    assert listed == [f"L-{n:03d}" for n in range(8, -1, -1)]
