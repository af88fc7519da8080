"""The dossier list's paging at any size (dossiers.views.list_paging): the keyset pages hold exactly the rows OFFSET
would, in every sort, forwards and backwards; a key this page did not write is refused; the count stops at its cap."""
from datetime import datetime, timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from dossiers import queries
from dossiers.models import Dossier, State
from dossiers.views import list_paging
from dossiers.views.list_paging import InvalidCursor, capped_count, decode_cursor, encode_cursor, list_page

from ..factories import ClientFactory, SolutionFactory

pytestmark = pytest.mark.django_db
SIZE = 7


@pytest.fixture
def sixty(organisation, outsider_membership):
    """60 dossiers whose sort columns tie (5 client names, 3 states, 4 modification times), and one of another
    organisation that sorts among them."""
    solution = SolutionFactory(organisation=organisation)
    names = ["Hôpital Nord", "Clinique Sud", "EHPAD Les Tilleuls", "Centre Bleu", "hôpital nord"]
    # One client per dossier (one active dossier per client and dispositif), their names repeating.
    clients = [ClientFactory(organisation=organisation, name=names[n % 5]) for n in range(60)]
    states = [State.DRAFT, State.BDC_SIGNED, State.DEPLOYED]
    dossiers = [Dossier.objects.create(organisation=organisation, client=clients[n], solution=solution,
                                       dispositif_id=solution.dispositif_id, state=states[n % 3],
                                       reference=f"K-{(n * 37) % 60:03d}") for n in range(60)]
    moments = [timezone.make_aware(datetime(2026, 3, day, 9)) for day in (1, 2, 3, 4)]
    for n, dossier in enumerate(dossiers):
        Dossier.objects.filter(pk=dossier.pk).update(updated_at=moments[n % 4])   # update(): auto_now untouched
    other = outsider_membership.organisation
    other_solution = SolutionFactory(organisation=other)
    Dossier.objects.create(organisation=other, client=ClientFactory(organisation=other, name="Clinique Sud"),
                           solution=other_solution, dispositif_id=other_solution.dispositif_id, reference="K-030x")
    return dossiers


def walk(queryset, sort, *, start: QueryDict | None = None) -> list[list[int]]:
    """Every page from the first, following each page's `next_query` as the page's link does."""
    pages, params = [], start or QueryDict()
    while True:
        page = list_page(queryset, params, sort=sort, size=SIZE)
        pages.append([d.pk for d in page])
        if not page.next_query:
            return pages
        params = QueryDict(page.next_query)


@pytest.mark.parametrize("sort", list(queries.SORTS))
def test_keyset_pages_hold_exactly_the_rows_offset_would_in_every_sort(sixty, organisation, sort, monkeypatch):
    monkeypatch.setattr(list_paging, "KEYSET_AFTER_PAGE", 2)
    queryset = queries.dossier_list(organisation.pk, sort=sort)
    by_offset = [d.pk for d in queryset]
    assert len(by_offset) == 60
    pages = walk(queryset, sort)
    assert [pk for page in pages for pk in page] == by_offset
    assert [len(page) for page in pages] == [7] * 8 + [4]
    assert pages == [by_offset[i:i + SIZE] for i in range(0, 60, SIZE)]


@pytest.mark.parametrize("sort", ["-updated", "client", "-state"])
def test_stepping_back_from_a_keyset_page_gives_the_page_before(sixty, organisation, sort, monkeypatch):
    monkeypatch.setattr(list_paging, "KEYSET_AFTER_PAGE", 2)
    queryset = queries.dossier_list(organisation.pk, sort=sort)
    by_offset = [d.pk for d in queryset]
    params, seen = QueryDict(), []
    while True:
        page = list_page(queryset, params, sort=sort, size=SIZE)
        seen.append((page.number, [d.pk for d in page], page.previous_query))
        if not page.next_query:
            break
        params = QueryDict(page.next_query)
    for number, rows, previous_query in reversed(seen[1:]):
        back = list_page(queryset, QueryDict(previous_query), sort=sort, size=SIZE)
        assert back.number == number - 1
        assert [d.pk for d in back] == by_offset[(number - 2) * SIZE:(number - 1) * SIZE]
        assert ("avant=" in previous_query) == (number - 1 > 2)


def test_the_keyset_links_start_after_the_numbered_pages(sixty, organisation, monkeypatch):
    monkeypatch.setattr(list_paging, "KEYSET_AFTER_PAGE", 2)
    queryset = queries.dossier_list(organisation.pk)
    first = list_page(queryset, QueryDict(), sort=None, size=SIZE)
    assert first.next_query == "page=2" and not first.has_previous
    second = list_page(queryset, QueryDict(first.next_query), sort=None, size=SIZE)
    assert second.next_query.startswith("page=3&apres=") and second.previous_query == "page=1"


def test_a_key_never_reaches_another_organisations_dossiers(sixty, organisation, outsider_membership):
    other = Dossier.objects.get(organisation=outsider_membership.organisation)
    cursor = encode_cursor("client", queries.sort_key(other, "client"))
    page = list_page(queries.dossier_list(organisation.pk, sort="client"), QueryDict(f"page=21&apres={cursor}"),
                     sort="client", size=60)
    assert page.object_list and all(d.organisation_id == organisation.pk for d in page)
    assert other.pk not in {d.pk for d in page}


def test_a_key_round_trips_each_kind_of_sort_value():
    moment = timezone.make_aware(datetime(2026, 3, 1, 9, 30, 15, 123456))
    assert decode_cursor(encode_cursor("-updated", (moment, 12)), "-updated") == (moment, 12)
    assert decode_cursor(encode_cursor("client", ("Hôpital d'Été", 3)), "client") == ("Hôpital d'Été", 3)


@pytest.mark.parametrize("cursor", [
    "n'importe quoi", "", "====", "e30",                                             # not base64 JSON of a key
    encode_cursor("client", ("Hôpital", 3)),                                       # another sort's key
    encode_cursor("-updated", ("pas une date", 3)),
    encode_cursor("-updated", ("2026-03-01T09:00:00", 3)),                          # a time without its zone
    encode_cursor("-updated", (timezone.now(), "3")),                              # an id that is not a number
])
def test_a_key_this_page_did_not_write_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, "-updated")


def test_the_count_is_exact_up_to_the_cap_then_says_more(sixty, organisation, django_assert_num_queries):
    queryset = queries.dossier_list(organisation.pk)
    with django_assert_num_queries(1) as captured:
        assert capped_count(queryset, 60) == 60
    assert "LIMIT 61" in captured.captured_queries[0]["sql"]
    assert capped_count(queryset, 59) == 60                     # 59 + 1: "more than 59"
    assert capped_count(queries.dossier_list(organisation.pk, state=State.DRAFT), 59) == 20


def test_a_page_past_the_end_is_the_first_page(sixty, organisation):
    page = list_page(queries.dossier_list(organisation.pk), QueryDict("page=99"), sort=None, size=SIZE)
    assert page.number == 1 and len(page) == SIZE


def test_equal_times_are_ordered_by_id_so_no_row_is_skipped_or_repeated(sixty, organisation, monkeypatch):
    monkeypatch.setattr(list_paging, "KEYSET_AFTER_PAGE", 1)
    Dossier.objects.filter(organisation=organisation).update(updated_at=timezone.now() - timedelta(days=1))
    queryset = queries.dossier_list(organisation.pk)
    pages = walk(queryset, "-updated")
    assert [pk for page in pages for pk in page] == sorted((d.pk for d in sixty), reverse=True)
