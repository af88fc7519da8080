"""FAQ pages: /faq/ (search, facet filters, pagination) and /faq/{id}/ (blocks, revisions, rules, vote form)."""
import pytest
from django.shortcuts import resolve_url
from django.test import Client

from faqref.links import guidance_for
from faqref.models import Entry, Vote

from ..factories import OrganisationFactory
from .conftest import MS2, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client, manager):
    client.force_login(manager)
    return client


def test_an_anonymous_visitor_is_sent_to_the_login_page(seeded, settings):
    entry = Entry.objects.first()
    login = resolve_url(settings.LOGIN_URL)

    for url in ("/faq/", f"/faq/{entry.pk}/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{login}?next={url}"
    assert Client().post(f"/faq/{entry.pk}/", {"useful": "yes"}).status_code == 302
    assert not Vote.objects.exists()


def test_the_faq_page_lists_every_entry_with_the_facet_selects(seeded, member):
    response = member.get("/faq/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "23 réponses" in html
    assert '<select name="dispositif"' in html and f'<option value="{MS2}">' in html
    assert '<select name="couloir"' in html and '<select name="theme"' in html
    assert 'name="q"' in html


def test_the_faq_page_searches_with_highlighted_excerpts(seeded, member):
    response = member.get("/faq/", {"q": "soldé"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>solde</mark>" in html
    first = response.context["results"][0]["entry"]
    assert f'href="/faq/{first.pk}/"' in html


def test_the_faq_page_filters_on_the_facets(seeded, member, write_export):
    run_import(write_export("hopital.txt", "Le solde d'un dossier hospitalier se dépose au guichet.",
                            facets={"Couloir": "Hôpital"}))

    response = member.get("/faq/", {"q": "solde", "couloir": "Hôpital"})

    assert [r["entry"].text[:20] for r in response.context["results"]] == ["Le solde d'un dossie"]
    assert "1 réponse" in response.content.decode()


def test_an_unknown_facet_value_is_ignored_with_an_error_not_a_crash(seeded, member):
    response = member.get("/faq/", {"couloir": "Spatial"})

    assert response.status_code == 200
    assert response.context["form"].errors["couloir"]
    assert response.context["page"].paginator.count == 23


def test_the_faq_page_paginates_and_keeps_the_search_in_the_links(seeded, member):
    response = member.get("/faq/", {"dispositif": MS2})

    html = response.content.decode()
    assert len(response.context["results"]) == 12
    assert "Page" not in html

    second = member.get("/faq/", {"q": "", "page": 2})
    assert second.status_code == 200
    assert len(second.context["results"]) == 3
    assert 'href="?q=&amp;page=1"' in second.content.decode()


def test_an_entry_page_renders_its_blocks_lists_and_tables(seeded, member):
    table = Entry.objects.get(text__startswith="La version en vigueur")
    listing = Entry.objects.get(text__startswith="Chaque site géographique")

    table_html = member.get(f"/faq/{table.pk}/").content.decode()
    list_html = member.get(f"/faq/{listing.pk}/").content.decode()

    assert '<th scope="col">Version</th>' in table_html and "<td>1.0</td>" in table_html
    assert "<ul><li>par son numéro FINESS géographique</li><li>par son SIRET</li></ul>" in list_html


def test_an_entry_page_shows_the_word_diff_between_revisions_and_its_sources(seeded, member):
    entry = Entry.objects.get(text__startswith="Le client peut demander un autre scénario")

    html = member.get(f"/faq/{entry.pk}/").content.decode()

    assert "<del>Oui, le </del><ins>Le </ins>" in html
    assert "Révision 2" in html
    assert "001_demonstration.txt, réponse 2 (ligne 8), révision 2" in html


def test_an_entry_page_lists_the_rules_that_cite_it(seeded, member):
    entry_id = guidance_for(["solde.pv_pilote"])["solde.pv_pilote"][0]["id"]

    html = member.get(f"/faq/{entry_id}/").content.decode()

    assert "<code>solde.pv_pilote</code>" in html and "<code>va.document</code>" in html


def test_the_vote_form_records_one_changeable_vote(seeded, member, manager):
    entry = Entry.objects.first()
    page = member.get(f"/faq/{entry.pk}/").content.decode()
    assert "Cette réponse vous a-t-elle été utile ?" in page and "csrfmiddlewaretoken" in page

    first = member.post(f"/faq/{entry.pk}/", {"useful": "yes"})
    member.post(f"/faq/{entry.pk}/", {"useful": "no"})

    assert first.status_code == 302 and first["Location"] == f"/faq/{entry.pk}/#vote"
    assert list(Vote.objects.values_list("user", "useful")) == [(manager.pk, False)]
    assert "Vous avez répondu non." in member.get(f"/faq/{entry.pk}/").content.decode()


def test_a_vote_without_a_valid_answer_is_refused(seeded, member):
    entry = Entry.objects.first()

    response = member.post(f"/faq/{entry.pk}/", {"useful": "maybe"})

    assert response.status_code == 400
    assert not Vote.objects.exists()


def test_the_vote_form_is_csrf_protected(seeded, manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    entry = Entry.objects.first()

    assert client.post(f"/faq/{entry.pk}/", {"useful": "yes"}).status_code == 403
    assert not Vote.objects.exists()


def test_an_unknown_entry_page_is_a_404(member):
    assert member.get("/faq/424242/").status_code == 404


def test_the_entry_page_takes_a_fixed_number_of_queries(seeded, member, django_assert_max_num_queries):
    entry = Entry.objects.get(text__startswith="Le client peut demander un autre scénario")

    with django_assert_max_num_queries(10):
        assert member.get(f"/faq/{entry.pk}/").status_code == 200


def test_a_member_sees_their_organisations_votes_never_anothers(seeded, member, outsider_membership, outsider_api):
    entry = Entry.objects.first()
    assert outsider_api.post(f"/api/v1/faq/{entry.pk}/vote/", {"useful": False}, format="json").status_code == 200
    page = member.get(f"/faq/{entry.pk}/").content.decode()
    assert "Oui : 0 · Non : 0 (votre organisation)" in page
    member.post(f"/faq/{entry.pk}/", {"useful": "yes"})
    assert "Oui : 1 · Non : 0 (votre organisation)" in member.get(f"/faq/{entry.pk}/").content.decode()
    assert outsider_api.get(f"/api/v1/faq/{entry.pk}/").json()["votes"] == {"yes": 0, "no": 1, "mine": False}


def test_a_user_of_no_organisation_neither_votes_nor_sees_counts(seeded, django_user_model):
    entry = Entry.objects.first()
    Vote.objects.create(entry=entry, user=django_user_model.objects.create(username="v"), useful=True,
                        organisation=OrganisationFactory(name="Éditeur Alpha"))
    loner = Client()
    loner.force_login(django_user_model.objects.create(username="seul"))
    page = loner.get(f"/faq/{entry.pk}/")
    assert page.status_code == 200 and "(votre organisation)" not in page.content.decode()
    assert loner.post(f"/faq/{entry.pk}/", {"useful": "yes"}).status_code == 403
    assert Vote.objects.count() == 1
def test_the_demonstration_faq_is_labelled_on_the_list_and_on_each_entry(db, member):
    run_import(demo=True)
    entry = Entry.objects.get(text__startswith="Chaque site géographique")

    listing = member.get("/faq/").content.decode()
    page = member.get(f"/faq/{entry.pk}/").content.decode()

    assert 'class="notice notice--demo"' in listing and listing.count('<span class="badge">FAQ de démonstration') == 20
    assert 'class="notice notice--demo"' in page


def test_the_official_faq_carries_no_demonstration_label(seeded, member):
    entry = Entry.objects.first()

    assert "FAQ de démonstration" not in member.get("/faq/").content.decode()
    assert "FAQ de démonstration" not in member.get(f"/faq/{entry.pk}/").content.decode()
