"""API tokens: named, scoped, expiring, revoked at once; a user sees and revokes only their own."""
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from organisations.models import ApiToken, hash_token

from ..factories import ClientFactory, MembershipFactory

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"


def keyed(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def create(api, **body):
    return api.post(TOKENS, {"name": "CRM", "scope": "write", **body}, format="json")


def client_body() -> dict:
    return {"name": "Clinique du Parc", "kind": "ps", "department": "75", "vat_liable": True}


def test_a_created_token_shows_its_key_once_and_stores_only_its_hash(api, manager_membership):
    response = create(api, name="CRM lecture", scope="read", expires_on="2099-01-31")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "scope", "expires_on", "created_at", "last_used_at", "key"}
    assert (body["name"], body["scope"], body["expires_on"], body["last_used_at"]) == (
        "CRM lecture", "read", "2099-01-31", None)
    token = ApiToken.objects.get(pk=body["id"])
    assert token.membership == manager_membership and token.digest == hash_token(body["key"])
    assert body["key"] not in str(ApiToken.objects.filter(pk=token.pk).values().first())
    listed = api.get(TOKENS).json()["results"]
    assert body["id"] in [t["id"] for t in listed] and all("key" not in t for t in listed)
    assert "key" not in api.get(f"{TOKENS}{body['id']}/").json()


def test_a_new_key_works_and_records_its_last_use(api):
    body = create(api).json()
    assert keyed(body["key"]).get("/api/v1/dossiers/").status_code == 200
    assert ApiToken.objects.get(pk=body["id"]).last_used_at is not None


def test_a_read_token_reads_but_gets_403_on_every_write(api, organisation):
    key = create(api, scope="read").json()["key"]
    reader = keyed(key)
    assert reader.get("/api/v1/clients/").status_code == 200
    response = reader.post("/api/v1/clients/", client_body(), format="json")
    assert response.status_code == 403
    assert not organisation.clients.exists()
    assert create(reader).status_code == 403  # a read key cannot mint a write key either
    client = ClientFactory(organisation=organisation)
    assert reader.patch(f"/api/v1/clients/{client.pk}/", {"name": "X"}, format="json").status_code == 403


def test_a_write_token_writes(api, organisation):
    writer = keyed(create(api, scope="write").json()["key"])
    assert writer.post("/api/v1/clients/", client_body(), format="json").status_code == 201


def test_a_revoked_key_answers_401_on_the_very_next_request(api):
    body = create(api).json()
    client = keyed(body["key"])
    assert client.get("/api/v1/dossiers/").status_code == 200
    assert api.delete(f"{TOKENS}{body['id']}/").status_code == 204
    assert client.get("/api/v1/dossiers/").status_code == 401
    assert not ApiToken.objects.filter(pk=body["id"]).exists()


def test_an_expired_key_answers_401_and_one_expiring_today_still_works(api):
    today = timezone.localdate()
    expired = create(api, expires_on=(today - timedelta(days=1)).isoformat()).json()["key"]
    assert keyed(expired).get("/api/v1/dossiers/").status_code == 401
    last_day = create(api, expires_on=today.isoformat()).json()["key"]
    assert keyed(last_day).get("/api/v1/dossiers/").status_code == 200


def test_another_users_token_is_404_and_stays_valid(api, organisation):
    colleague = MembershipFactory(organisation=organisation, user__username="colette")
    theirs, their_key = ApiToken.issue(colleague, name="leur CRM")
    assert api.get(f"{TOKENS}{theirs.pk}/").status_code == 404
    assert api.delete(f"{TOKENS}{theirs.pk}/").status_code == 404
    assert api.delete(f"{TOKENS}999999/").status_code == 404
    assert theirs.pk not in [t["id"] for t in api.get(TOKENS).json()["results"]]
    assert keyed(their_key).get("/api/v1/dossiers/").status_code == 200


def test_another_organisations_member_cannot_see_or_revoke_a_token(api, outsider_api):
    body = create(api).json()
    assert outsider_api.get(f"{TOKENS}{body['id']}/").status_code == 404
    assert outsider_api.delete(f"{TOKENS}{body['id']}/").status_code == 404
    assert ApiToken.objects.filter(pk=body["id"]).exists()


def test_a_viewer_manages_their_own_tokens(viewer_api):
    response = create(viewer_api, scope="read")
    assert response.status_code == 201
    assert viewer_api.delete(f"{TOKENS}{response.json()['id']}/").status_code == 204


@pytest.mark.parametrize("body, field", [
    ({"scope": "admin"}, "scope"),
    ({"name": ""}, "name"),
    ({"expires_on": "31/12/2099"}, "expires_on"),
    ({"owner": 3}, "owner"),
    ({"name": 12}, "name"),
])
def test_bad_input_is_a_400_naming_the_field_and_creates_nothing(api, body, field):
    before = ApiToken.objects.count()
    response = create(api, **body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert ApiToken.objects.count() == before


def test_a_missing_scope_is_a_400(api):
    response = api.post(TOKENS, {"name": "CRM"}, format="json")
    assert response.status_code == 400 and "scope" in response.json()["errors"]


def test_without_a_key_the_tokens_answer_401():
    assert APIClient().get(TOKENS).status_code == 401


def test_the_token_list_costs_the_same_for_one_token_or_twenty(api, manager_membership,
                                                             django_assert_max_num_queries):
    api.get(TOKENS)
    with django_assert_max_num_queries(4):  # auth, count, page (+ the last-use write at most)
        api.get(TOKENS)
    for n in range(20):
        ApiToken.issue(manager_membership, name=f"t{n}")
    with django_assert_max_num_queries(4):
        assert api.get(TOKENS).json()["count"] == 21
