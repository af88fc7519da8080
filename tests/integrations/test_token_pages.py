"""The API token page: a member creates (key shown once), lists and revokes their own tokens."""
from datetime import timedelta

import pytest
from django.utils import timezone

from organisations.models import ApiToken, hash_token

from ..factories import MembershipFactory
from ..pages.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_a_viewer_creates_a_token_and_sees_its_key_once(as_viewer, viewer_membership):
    response = as_viewer.post("/account/tokens/", {"name": "Tableur", "scope": "read", "expires_on": ""})
    assert response.status_code == 200
    token = ApiToken.objects.get(membership=viewer_membership, name="Tableur")
    page = response.content.decode()
    key = page.split('id="token-key">')[1].split("<")[0]
    assert token.digest == hash_token(key) and token.scope == "read"
    listing = as_viewer.get("/account/tokens/").content.decode()
    assert key not in listing and "Tableur" in listing and "Lecture seule" in listing


def test_bad_input_shows_french_errors_and_saves_nothing(as_manager):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = as_manager.post("/account/tokens/", {"name": "", "scope": "admin", "expires_on": yesterday})
    assert response.status_code == 400
    page = response.content.decode()
    assert "La date d&#x27;expiration est déjà passée." in page and "Ce champ est obligatoire." in page
    assert not ApiToken.objects.exists()


def test_a_member_revokes_their_token_but_not_a_colleagues(as_manager, manager_membership, organisation):
    mine, _ = ApiToken.issue(manager_membership, name="mien")
    colleague = MembershipFactory(organisation=organisation, user__username="colette")
    theirs, _ = ApiToken.issue(colleague, name="leur")
    assert "leur" not in as_manager.get("/account/tokens/").content.decode()
    assert as_manager.post(f"/account/tokens/{theirs.pk}/revoke/").status_code == 404
    assert as_manager.post(f"/account/tokens/{mine.pk}/revoke/").status_code == 302
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["leur"]


def test_another_organisations_member_gets_404_on_revoke(as_outsider, manager_membership):
    token, _ = ApiToken.issue(manager_membership, name="mien")
    assert as_outsider.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_page_needs_a_sign_in_and_csrf(client, manager_membership):
    assert client.get("/account/tokens/").status_code == 302
    strict = signed_in(manager_membership, enforce_csrf_checks=True)
    assert strict.post("/account/tokens/", {"name": "x", "scope": "read"}).status_code == 403
    assert not ApiToken.objects.exists()
