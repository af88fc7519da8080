"""The pages a project manager waits for, through the whole stack (middleware, session, templates), each against the
floor: the best plain SQL for the same answer, with the right index, including the session and membership reads
every page needs. Each case runs for the largest and the mid-size organisation (conftest `sized`)."""
from __future__ import annotations

from django.utils import timezone

from .conftest import compare, count_queries, fetch, get_ok, member
from .floors import (
    auth_floor, checklist_floor, deadlines_floor, dossier_page_floor, home_floor, list_floor,
    pending_va_floor, pipeline_floor,
)

N_PAGE = 20


def _auth(raw, sized):
    user = member(sized[1])
    return lambda: auth_floor(raw, user.pk, sized[1].pk)


def _case(name, sized, member_client, raw, url, floor, *, target=2.0, n=N_PAGE, notes="", answer_grows=False):
    auth = _auth(raw, sized)
    ours = get_ok(member_client, url)

    def floor_side():
        auth()
        return floor()

    result = compare(name, sized, ours, floor_side, n=n, target=target, queries=count_queries(ours),
                     notes=notes or url, answer_grows=answer_grows)
    return result


def test_home_page(member_client, raw, sized):
    org = sized[1]
    _case("home page", sized, member_client, raw, "/", lambda: home_floor(raw, org))


def test_deadlines_page(member_client, raw, sized):
    org = sized[1]
    # The page counts every open deadline of the organisation (its pages and total): the answer grows with it.
    _case("deadlines page (all, page 1)", sized, member_client, raw, "/echeances/",
          lambda: deadlines_floor(raw, org, limit=50), answer_grows=True)


def test_dossier_list_default(member_client, raw, sized):
    org = sized[1]
    _case("dossier list, no filter, page 1", sized, member_client, raw, "/dossiers/?owner=all",
          lambda: list_floor(raw, org, order="d.updated_at DESC, d.id DESC"))


def test_dossier_list_filtered(member_client, raw, sized):
    org = sized[1]
    url = "/dossiers/?owner=all&state=va_signed&page=2"
    _case("dossier list, state filter, page 2", sized, member_client, raw, url,
          lambda: list_floor(raw, org, where="AND d.state = 'va_signed'", order="d.updated_at DESC, d.id DESC",
                             offset=25))


def test_dossier_list_search(member_client, raw, sized):
    """A search a user types: part of a client's name, without its accents or capitals. The same word in every
    organisation and data set (a surname of the generator's vocabulary, "Lefèvre" typed without its accent), so the
    organisations and the databases compare answers of the same kind."""
    org = sized[1]
    word = "lefevre"
    # The page counts the matches up to 10,000: a larger organisation has more of them.
    _case("dossier list, search q", sized, member_client, raw, f"/dossiers/?owner=all&q={word}",
          lambda: list_floor(raw, org, search=word, order="d.updated_at DESC, d.id DESC"), answer_grows=True)


def test_dossier_list_search_short_number(member_client, raw, sized):
    """Two digits typed in the search (the start of a department's FINESS, "75"): they match thousands of clients'
    identifiers, and hold no trigram for the name and reference indexes."""
    org = sized[1]
    _case("dossier list, search short number (q=75)", sized, member_client, raw, "/dossiers/?owner=all&q=75",
          lambda: list_floor(raw, org, search="75", order="d.updated_at DESC, d.id DESC"), answer_grows=True)


def test_dossier_list_sorted_by_client(member_client, raw, sized):
    org = sized[1]
    _case("dossier list, sorted by client", sized, member_client, raw, "/dossiers/?owner=all&sort=client",
          lambda: list_floor(raw, org, order="client_sort, d.id"))


def test_dossier_list_deep_page(member_client, raw, sized):
    """A page deep in the list: offset 50,000 in the largest organisation, the same depth (by share) in the mid one."""
    org, size = sized[1], sized[2]
    offset = min(50_000, int(size * 0.38)) // 25 * 25
    _case("dossier list, deep page (offset ≤ 50,000)", sized, member_client, raw,
          f"/dossiers/?owner=all&page={offset // 25 + 1}",
          lambda: list_floor(raw, org, order="d.updated_at DESC, d.id DESC", offset=offset))


def test_pending_va_page(member_client, raw, sized):
    org = sized[1]
    _case("pending-VA report page", sized, member_client, raw, "/rapports/va-en-attente/",
          lambda: pending_va_floor(raw, org, timezone.localdate()))


def test_pipeline_page(member_client, raw, sized):
    org = sized[1]
    _case("pipeline report page", sized, member_client, raw, "/rapports/pipeline/", lambda: pipeline_floor(raw, org))


def _dossier(raw, org, state: str) -> int:
    """A dossier of the state with the longest history (the page shows all of it)."""
    return fetch(raw, "SELECT id FROM dossiers_dossier WHERE organisation_id = %s AND state = %s "
                      "ORDER BY history_seq DESC, id LIMIT 1", [org.pk, state])[0][0]


def test_dossier_page(member_client, raw, sized):
    org = sized[1]
    pk = _dossier(raw, org, "solde_paid")
    _case("dossier page (solde paid, longest history)", sized, member_client, raw, f"/dossiers/{pk}/",
          lambda: dossier_page_floor(raw, org, pk), target=3)


def test_pre_solde_checklist_page(member_client, raw, sized):
    org = sized[1]
    pk = _dossier(raw, org, "va_signed")
    _case("pre-solde checklist page (VA signed)", sized, member_client, raw, f"/dossiers/{pk}/solde/",
          lambda: checklist_floor(raw, org, pk), target=3)

