"""The API of VA requests (API.md "VA requests"): shapes, the deployed-only rule, roles, isolation, bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dossiers.models import OutboxMessage, State
from varequests.models import VaRequest

from ..factories import walk_to

pytestmark = pytest.mark.django_db
BODY = {"email": "jeanne.martin@clinique.example", "name": "Dr Jeanne Martin"}


def list_url(dossier_id: int) -> str:
    return reverse("va_api:va-request-list", args=[dossier_id])


def revoke_url(dossier_id: int, va_request_id: int) -> str:
    return reverse("va_api:va-request-revoke", args=[dossier_id, va_request_id])


def test_a_request_of_a_deployed_dossier_is_201_with_the_contract_fields(api, deployed):
    before = timezone.now()
    response = api.post(list_url(deployed.pk), {**BODY, "message": "Bonjour"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("email", "name", "status", "message")} == {**BODY, "status": "sent",
                                                                              "message": "Bonjour"}
    va_request = VaRequest.objects.get(pk=body["id"])
    assert body["url"] == f"http://testserver/va/{va_request.token}/"
    expires = parse_datetime(body["expires_at"])
    assert timedelta(days=30) <= expires - before < timedelta(days=30, minutes=1)
    assert parse_datetime(body["created_at"]).utcoffset() is not None
    # The token is not stored: only its SHA-256, and the e-mail task is recorded in the outbox.
    assert va_request.token not in str(VaRequest.objects.filter(pk=va_request.pk).values().get())
    assert OutboxMessage.objects.filter(task_name="varequests.tasks.send_va_request_email",
                                        args=[va_request.pk]).exists()
    listed = api.get(list_url(deployed.pk)).json()
    assert listed["count"] == 1 and listed["results"][0] == body


@pytest.mark.parametrize("state", [State.AVANCE_PAID, State.VA_SIGNED])
def test_a_dossier_that_is_not_deployed_is_refused_with_the_contract_409(api, manager_membership, state):
    dossier = walk_to(state, membership=manager_membership)
    response = api.post(list_url(dossier.pk), BODY, format="json")
    assert response.status_code == 409
    body = response.json()
    assert [e["rule"] for e in body["errors"]] == ["state.transition_not_allowed"]
    assert body["errors"][0]["severity"] == "block" and "déployé" in body["errors"][0]["message"]
    assert body["warnings"] == [] and "faq" in body["errors"][0]
    assert not VaRequest.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"name": "Jeanne"}, "email"),
    ({"email": "pas-une-adresse", "name": "Jeanne"}, "email"),
    ({"email": "j@clinique.example"}, "name"),
    ({"email": "j@clinique.example", "name": "   "}, "name"),
    ({"email": "j@clinique.example", "name": "J" * 201}, "name"),
    ({**BODY, "message": "m" * 2001}, "message"),
    ({**BODY, "status": "returned"}, "status"),
])
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(api, deployed, body, field):
    response = api.post(list_url(deployed.pk), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not VaRequest.objects.exists()


def test_a_viewer_may_list_but_not_ask_nor_revoke(viewer_api, api, deployed):
    rid = api.post(list_url(deployed.pk), BODY, format="json").json()["id"]
    assert viewer_api.get(list_url(deployed.pk)).status_code == 200
    assert viewer_api.post(list_url(deployed.pk), BODY, format="json").status_code == 403
    assert viewer_api.post(revoke_url(deployed.pk, rid)).status_code == 403
    assert VaRequest.objects.count() == 1 and VaRequest.objects.get().status == "sent"


def test_another_organisation_gets_404_exactly_like_a_missing_dossier(outsider_api, api, deployed):
    rid = api.post(list_url(deployed.pk), BODY, format="json").json()["id"]
    for response in (outsider_api.get(list_url(deployed.pk)),
                     outsider_api.post(list_url(deployed.pk), BODY, format="json"),
                     outsider_api.post(revoke_url(deployed.pk, rid)),
                     outsider_api.get(reverse("va_api:va-request-detail", args=[deployed.pk, rid]))):
        assert response.status_code == 404
        assert response.json() == api.get(list_url(deployed.pk + 1000)).json()
    assert VaRequest.objects.get().status == "sent" and VaRequest.objects.count() == 1


def test_a_request_of_another_dossier_is_404_under_this_one(api, deployed, manager_membership):
    other = walk_to(State.DEPLOYED, membership=manager_membership)
    rid = api.post(list_url(other.pk), BODY, format="json").json()["id"]
    assert api.post(revoke_url(deployed.pk, rid)).status_code == 404
    assert VaRequest.objects.get(pk=rid).status == "sent"


def test_revoking_answers_the_request_and_twice_changes_nothing(api, deployed):
    rid = api.post(list_url(deployed.pk), BODY, format="json").json()["id"]
    first = api.post(revoke_url(deployed.pk, rid))
    assert first.status_code == 200 and first.json()["status"] == "revoked" and first.json()["id"] == rid
    second = api.post(revoke_url(deployed.pk, rid))
    assert second.status_code == 200 and second.json()["revoked_at"] == first.json()["revoked_at"]


def test_a_returned_request_cannot_be_revoked(api, deployed):
    rid = api.post(list_url(deployed.pk), BODY, format="json").json()["id"]
    VaRequest.objects.filter(pk=rid).update(status="returned", returned_at=timezone.now())
    response = api.post(revoke_url(deployed.pk, rid))
    assert response.status_code == 409
    assert response.json()["errors"][0]["rule"] == "state.transition_not_allowed"
    assert VaRequest.objects.get(pk=rid).status == "returned"


def test_an_open_request_past_its_date_reads_expired(api, deployed):
    rid = api.post(list_url(deployed.pk), BODY, format="json").json()["id"]
    VaRequest.objects.filter(pk=rid).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get(reverse("va_api:va-request-detail", args=[deployed.pk, rid])).json()["status"] == "expired"


def test_the_dossier_list_filters_on_open_requests(api, manager_membership, deployed):
    asked = deployed
    returned = walk_to(State.DEPLOYED, membership=manager_membership)
    walk_to(State.DEPLOYED, membership=manager_membership)
    api.post(list_url(asked.pk), BODY, format="json")
    rid = api.post(list_url(returned.pk), BODY, format="json").json()["id"]
    VaRequest.objects.filter(pk=rid).update(status="returned", returned_at=timezone.now())
    url = reverse("api:dossier-list")
    assert [d["id"] for d in api.get(url, {"va_request": "open"}).json()["results"]] == [asked.pk]
    assert [d["id"] for d in api.get(url, {"va_request": "returned"}).json()["results"]] == [returned.pk]
    assert api.get(url).json()["count"] == 3
    bad = api.get(url, {"va_request": "maybe"})
    assert bad.status_code == 400 and "va_request" in bad.json()["errors"]


def test_listing_takes_a_fixed_number_of_queries(api, deployed, django_assert_max_num_queries):
    for i in range(3):
        api.post(list_url(deployed.pk), {**BODY, "email": f"s{i}@clinique.example"}, format="json")
    with django_assert_max_num_queries(6):
        small = api.get(list_url(deployed.pk))
    for i in range(3, 20):
        api.post(list_url(deployed.pk), {**BODY, "email": f"s{i}@clinique.example"}, format="json")
    with django_assert_max_num_queries(6):
        large = api.get(list_url(deployed.pk))
    assert small.json()["count"] == 3 and large.json()["count"] == 20
