"""The bad input the attack found, one case each: a NUL byte in a search box, an unknown document kind, an empty vote."""
import pytest
from django.test import Client as PageClient
from django.urls import reverse

from dossiers.models import Document, State
from faqref.models import Entry, Vote

from ..factories import walk_to
from .conftest import url

pytestmark = pytest.mark.django_db
NUL_MESSAGE = "Caractère nul interdit : retirez-le de la saisie."


@pytest.fixture
def as_manager(manager_membership) -> PageClient:
    client = PageClient()
    client.force_login(manager_membership.user)
    return client


def test_a_nul_byte_in_the_client_search_box_is_a_400_page_in_french(as_manager, organisation):
    response = as_manager.get(reverse("client-list"), {"q": "Centre\x00"})
    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()
    assert as_manager.get(reverse("client-list"), {"q": "Centre"}).status_code == 200


def test_a_nul_byte_in_an_api_query_parameter_is_the_contract_s_400(api):
    response = api.get(url("dossier-list"), {"q": "a\x00b"})
    assert response.status_code == 400
    assert response.json() == {"errors": {"q": [NUL_MESSAGE]}}
    assert api.get(url("dossier-list"), {"q": "ab"}).status_code == 200


def test_a_nul_byte_escaped_in_a_json_body_is_a_400_and_nothing_is_saved(api, manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    response = api.patch(url("dossier-detail", dossier.pk), {"solde_draft": {"invoice_number": "F\x00-1"}},
                         format="json")
    assert response.status_code == 400 and response.json()["errors"] == {"solde_draft.invoice_number": [NUL_MESSAGE]}
    dossier.refresh_from_db()
    assert dossier.solde_draft == {}
    accepted = api.patch(url("dossier-detail", dossier.pk), {"solde_draft": {"invoice_number": "F-1"}}, format="json")
    assert accepted.status_code == 200


def test_a_nul_byte_in_a_form_field_is_refused_before_the_view(as_manager, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    response = as_manager.post(reverse("dossier-scenario", args=[dossier.pk]), {"scenario": "Sc\x00"})
    assert response.status_code == 400 and NUL_MESSAGE in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.scenario == "Scénario 1"


def test_an_unknown_document_kind_on_the_document_form_is_a_400_with_the_reason(as_manager, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    before = Document.objects.count()
    upload = reverse("dossier-document-upload", args=[dossier.pk])
    for data in ({"kinds": "bogus", "kind": "bogus"}, {"kinds": "bogus", "kind": "bdc"}, {"kind": "bogus"}):
        response = as_manager.post(upload, data)
        assert response.status_code == 400, data
        assert Document.objects.count() == before
    response = as_manager.post(upload, {"kinds": "bogus", "kind": "bogus"})
    assert "Sélectionnez un choix valide" in response.content.decode()


@pytest.fixture
def entry(db) -> Entry:
    entry = Entry(slug="reponse-vote", derived_title="Réponse", text="Réponse sur le solde.", fingerprint="1" * 64)
    entry.save()
    return entry


def test_an_empty_faq_vote_is_a_400_and_records_no_vote(as_manager, entry):
    response = as_manager.post(reverse("faqref:entry", args=[entry.pk]), {})
    assert response.status_code == 400
    assert not Vote.objects.exists()
    assert as_manager.post(reverse("faqref:entry", args=[entry.pk]), {"useful": "maybe"}).status_code == 400
    assert not Vote.objects.exists()


def test_a_faq_vote_with_an_answer_is_recorded(as_manager, entry, manager_membership):
    response = as_manager.post(reverse("faqref:entry", args=[entry.pk]), {"useful": "yes"})
    assert response.status_code == 302
    assert list(Vote.objects.values_list("user_id", "useful")) == [(manager_membership.user_id, True)]
    assert as_manager.get(reverse("faqref:entry", args=[entry.pk])).status_code == 200  # a visit votes nothing
    assert Vote.objects.count() == 1
