"""FAQ API: /api/v1/faq/ search with filters, an entry's detail, votes; members only."""
import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from faqref.links import guidance_for
from faqref.models import Entry, Vote

from .conftest import MS2, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded_api(seeded, api):
    return api


def test_an_anonymous_request_gets_401_on_every_faq_endpoint(seeded):
    entry = Entry.objects.first()
    client = APIClient()

    assert client.get("/api/v1/faq/").status_code == 401
    assert client.get(f"/api/v1/faq/{entry.pk}/").status_code == 401
    assert client.post(f"/api/v1/faq/{entry.pk}/vote/", {"useful": True}, format="json").status_code == 401
    assert not Vote.objects.exists()


def test_the_list_is_paginated_with_id_title_excerpt_facets_and_url(seeded_api):
    response = seeded_api.get("/api/v1/faq/", {"page_size": 10})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 23 and len(body["results"]) == 10
    assert body["previous"] is None and "page=2" in body["next"]
    first = body["results"][0]
    assert set(first) == {"id", "title", "excerpt", "facets", "url"}
    entry = Entry.objects.get(pk=first["id"])
    assert first["title"] == entry.title
    assert first["url"] == f"/faq/{entry.pk}/"
    assert first["facets"] == {"dispositif": [MS2]}


def test_the_list_searches_best_match_first_with_highlighted_excerpts(seeded_api):
    response = seeded_api.get("/api/v1/faq/", {"q": "facturation"})

    results = response.json()["results"]
    assert results
    assert "facture" in results[0]["title"]
    assert "<mark>facture</mark>" in results[0]["excerpt"]
    assert all("<mark>" in result["excerpt"] for result in results)


def test_the_list_filters_on_couloir_dispositif_and_theme(seeded_api, write_export):
    run_import(write_export("hopital.txt", "Le solde d'un dossier hospitalier se dépose au guichet.",
                            facets={"Couloir": "Hôpital", "Thématique": "Solde"}))

    def ids(**params):
        return [r["id"] for r in seeded_api.get("/api/v1/faq/", params).json()["results"]]

    hospital = Entry.objects.get(text__startswith="Le solde d'un dossier hospitalier").pk
    assert ids(couloir="Hôpital") == [hospital]
    assert ids(q="solde", theme="Solde") == [hospital]
    assert ids(q="solde", couloir="Hôpital", dispositif=MS2) == []
    assert len(ids(dispositif=MS2)) == 12


def test_an_invalid_search_parameter_is_a_400_and_saves_nothing(seeded_api):
    response = seeded_api.get("/api/v1/faq/", {"q": "x" * 201})

    assert response.status_code == 400
    assert "q" in str(response.json())


def test_the_list_takes_a_fixed_number_of_queries(seeded_api, django_assert_max_num_queries):
    # Token and membership, then the count and the page of the search: no query per result.
    with django_assert_max_num_queries(5):
        response = seeded_api.get("/api/v1/faq/", {"q": "solde facture client", "page_size": 50})

    assert len(response.json()["results"]) > 10


def test_the_detail_has_the_text_revisions_with_their_diff_sources_rules_and_votes(seeded_api):
    entry = Entry.objects.get(text__startswith="Le client peut demander un autre scénario")

    response = seeded_api.get(f"/api/v1/faq/{entry.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == entry.pk and body["slug"] == entry.slug and body["title"] == entry.title
    assert body["text"] == entry.text
    assert [r["number"] for r in body["revisions"]] == [1, 2]
    assert body["revisions"][0]["changes"] == []
    changes = body["revisions"][1]["changes"]
    assert ["delete", "Oui, le "] in changes
    assert "".join(text for op, text in changes if op != "delete") == body["revisions"][1]["text"]
    assert [(s["file"], s["revision"]) for s in body["sources"]] == [
        ("000_demonstration_dui.txt", 1), ("001_demonstration.txt", 2)]
    assert body["votes"] == {"yes": 0, "no": 0, "mine": None}
    assert body["url"] == f"/faq/{entry.pk}/"


def test_the_detail_lists_the_rule_codes_linked_to_the_entry(seeded_api):
    entry_id = guidance_for(["solde.pv_pilote"])["solde.pv_pilote"][0]["id"]

    rules = seeded_api.get(f"/api/v1/faq/{entry_id}/").json()["rules"]

    assert {"solde.pv_pilote", "va.document"} <= set(rules)


def test_an_unknown_entry_is_a_404(seeded_api):
    assert seeded_api.get("/api/v1/faq/999999/").status_code == 404
    assert seeded_api.post("/api/v1/faq/999999/vote/", {"useful": True}, format="json").status_code == 404


def test_any_member_votes_once_per_entry_and_may_change_their_vote(seeded, viewer_api):
    entry = Entry.objects.first()
    url = f"/api/v1/faq/{entry.pk}/vote/"

    first = viewer_api.post(url, {"useful": True}, format="json")
    second = viewer_api.post(url, {"useful": False}, format="json")

    assert first.status_code == second.status_code == 200
    assert first.json() == {"yes": 1, "no": 0, "mine": True}
    assert second.json() == {"yes": 0, "no": 1, "mine": False}
    assert Vote.objects.get().useful is False
    assert viewer_api.get(f"/api/v1/faq/{entry.pk}/").json()["votes"] == {"yes": 0, "no": 1, "mine": False}


def test_a_vote_without_its_answer_is_a_400_and_saves_nothing(seeded_api):
    entry = Entry.objects.first()

    response = seeded_api.post(f"/api/v1/faq/{entry.pk}/vote/", {"useful": "peut-être"}, format="json")
    missing = seeded_api.post(f"/api/v1/faq/{entry.pk}/vote/", {}, format="json")

    assert response.status_code == missing.status_code == 400
    assert "useful" in str(response.json()) and "useful" in str(missing.json())
    assert not Vote.objects.exists()


def test_the_faq_endpoints_are_described_in_the_openapi_schema():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    assert {p["name"] for p in paths["/api/v1/faq/"]["get"]["parameters"]} >= {"q", "couloir", "dispositif", "theme"}
    assert "get" in paths["/api/v1/faq/{id}/"]
    assert "post" in paths["/api/v1/faq/{id}/vote/"]
