"""Webhook endpoints through the API: admins only, another organisation's are 404, bad input 400, SSRF refused."""
import pytest
from standardwebhooks import Webhook

from dossiers import services
from dossiers.models import State
from webhooks.models import Delivery, Endpoint

from ..factories import valid_payload, walk_to

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/webhooks/"
CLOSED_PORT = "http://127.0.0.1:9/hook"  # nothing listens: an eager send fails at once


def create(api, **body):
    return api.post(HOOKS, {"url": CLOSED_PORT, "events": ["*"], **body}, format="json")


@pytest.fixture
def endpoint(admin_api) -> Endpoint:
    return Endpoint.objects.get(pk=create(admin_api).json()["id"])


def test_an_admin_creates_an_endpoint_and_sees_its_secret_only_then(admin_api, organisation):
    response = create(admin_api, events=["dossier.transitioned", "deadline.due"], active=False)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "url", "events", "active", "secret"}
    assert body["secret"].startswith("whsec_")
    Webhook(body["secret"])  # a secret the library takes
    assert (body["url"], body["events"], body["active"]) == (CLOSED_PORT, ["dossier.transitioned", "deadline.due"],
                                                              False)
    assert Endpoint.objects.get(pk=body["id"]).organisation == organisation
    listed = admin_api.get(HOOKS).json()["results"]
    assert [e["id"] for e in listed] == [body["id"]] and "secret" not in listed[0]
    assert "secret" not in admin_api.get(f"{HOOKS}{body['id']}/").json()


def test_an_admin_edits_and_deletes_an_endpoint(admin_api, endpoint):
    response = admin_api.patch(f"{HOOKS}{endpoint.pk}/", {"events": ["dossier.created"], "active": False},
                               format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"id": endpoint.pk, "url": CLOSED_PORT, "events": ["dossier.created"], "active": False}
    assert admin_api.patch(f"{HOOKS}{endpoint.pk}/", {"active": True}, format="json").json()["events"] == [
        "dossier.created"]
    assert admin_api.delete(f"{HOOKS}{endpoint.pk}/").status_code == 204
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_rotation_gives_a_new_secret_that_signs_from_then_on(admin_api, endpoint):
    old = endpoint.secret
    response = admin_api.post(f"{HOOKS}{endpoint.pk}/rotate-secret/")
    assert response.status_code == 200
    new = response.json()["secret"]
    assert set(response.json()) == {"secret"} and new.startswith("whsec_") and new != old
    endpoint.refresh_from_db()
    assert endpoint.secret == new


@pytest.mark.parametrize("client_name", ["api", "viewer_api"])
def test_a_manager_or_a_viewer_gets_403_everywhere_and_nothing_changes(request, client_name, endpoint):
    client = request.getfixturevalue(client_name)
    delivery = Delivery.objects.create(endpoint=endpoint, event="dossier.updated")
    assert client.get(HOOKS).status_code == 403
    assert create(client).status_code == 403
    assert client.get(f"{HOOKS}{endpoint.pk}/").status_code == 403
    assert client.patch(f"{HOOKS}{endpoint.pk}/", {"active": False}, format="json").status_code == 403
    assert client.delete(f"{HOOKS}{endpoint.pk}/").status_code == 403
    assert client.post(f"{HOOKS}{endpoint.pk}/rotate-secret/").status_code == 403
    assert client.get(f"{HOOKS}{endpoint.pk}/deliveries/").status_code == 403
    assert client.post(f"{HOOKS}{endpoint.pk}/deliveries/{delivery.pk}/redeliver/").status_code == 403
    assert list(Endpoint.objects.values("secret", "active")) == [{"secret": endpoint.secret, "active": True}]


def test_another_organisation_gets_404_exactly_like_a_missing_endpoint(outsider_api, endpoint):
    delivery = Delivery.objects.create(endpoint=endpoint, event="dossier.updated", status="failed")
    for base in (f"{HOOKS}{endpoint.pk}", f"{HOOKS}999999"):
        for method, path in [("get", "/"), ("patch", "/"), ("delete", "/"), ("post", "/rotate-secret/"),
                             ("get", "/deliveries/"), ("post", f"/deliveries/{delivery.pk}/redeliver/")]:
            response = getattr(outsider_api, method)(base + path, {}, format="json")
            assert response.status_code == 404, (method, base + path)
            assert list(response.json()) == ["detail"]
    assert outsider_api.get(HOOKS).json()["count"] == 0
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert endpoint.active and delivery.status == "failed"


def test_a_delivery_of_another_endpoint_is_404(admin_api, endpoint):
    other = Endpoint.objects.create(organisation=endpoint.organisation, url=CLOSED_PORT, events=["*"])
    delivery = Delivery.objects.create(endpoint=other, event="dossier.updated")
    assert admin_api.post(f"{HOOKS}{endpoint.pk}/deliveries/{delivery.pk}/redeliver/").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"url": "pas une adresse"}, "url"),
    ({"url": "ftp://example.org/hook"}, "url"),
    ({"events": ["dossier.deleted"]}, "events"),
    ({"events": []}, "events"),
    ({"events": ["*", "dossier.created"]}, "events"),
    ({"events": "dossier.created"}, "events"),
    ({"active": "peut-être"}, "active"),
    ({"secret": "whsec_mine"}, "secret"),
])
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(admin_api, body, field):
    response = create(admin_api, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Endpoint.objects.exists()


def test_a_bad_patch_is_a_400_and_changes_nothing(admin_api, endpoint):
    response = admin_api.patch(f"{HOOKS}{endpoint.pk}/", {"events": ["nope"]}, format="json")
    assert response.status_code == 400 and "events" in response.json()["errors"]
    endpoint.refresh_from_db()
    assert endpoint.events == ["*"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook",
                                 "http://192.168.0.10/hook", "http://[::1]/hook", "http://169.254.169.254/latest",
                                 "https://0.0.0.0/hook", "http://[::ffff:127.0.0.1]/hook"])
def test_under_production_settings_private_and_loopback_targets_are_refused(admin_api, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = create(admin_api, url=url)
    assert response.status_code == 400, (url, response.content)
    assert "url" in response.json()["errors"]
    assert not Endpoint.objects.exists()


def test_under_production_settings_a_public_address_is_accepted(admin_api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert create(admin_api, url="https://93.184.216.34/hook").status_code == 201


def test_webhook_allow_private_lets_loopback_through(admin_api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert create(admin_api, url="http://127.0.0.1:8080/hook").status_code == 201


def test_a_redelivery_is_accepted_with_202_and_starts_again(admin_api, endpoint, django_capture_on_commit_callbacks):
    delivery = Delivery.objects.create(endpoint=endpoint, event="dossier.updated", status="failed", attempts=6,
                                       next_attempt_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(f"{HOOKS}{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 202
    delivery.refresh_from_db()
    # Eagerly sent to a closed port: one new attempt failed, another is planned.
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.next_attempt_at is not None


def test_a_redelivery_to_a_deactivated_endpoint_is_a_400(admin_api, endpoint):
    Endpoint.objects.filter(pk=endpoint.pk).update(active=False)
    delivery = Delivery.objects.create(endpoint=endpoint, event="dossier.updated", status="failed")
    response = admin_api.post(f"{HOOKS}{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 400 and "endpoint" in response.json()["errors"]


def test_the_delivery_log_lists_newest_first_with_the_contract_fields(admin_api, endpoint, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"scenario": "Autre"})
    log = admin_api.get(f"{HOOKS}{endpoint.pk}/deliveries/").json()
    assert [d["event"] for d in log] == ["dossier.updated", "dossier.created"]
    assert set(log[0]) == {"id", "event", "status", "attempts", "last_status_code", "next_attempt_at", "created_at"}
    assert log[0]["id"] > log[1]["id"]


def test_deliveries_follow_the_event_filter_and_a_refused_change_records_none(admin_api, manager_membership):
    transitions = Endpoint.objects.get(pk=create(admin_api, events=["dossier.transitioned"]).json()["id"])
    documents = Endpoint.objects.get(pk=create(admin_api, events=["dossier.document_added"]).json()["id"])
    Endpoint.objects.create(organisation=transitions.organisation, url=CLOSED_PORT, events=["*"], active=False)
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    with pytest.raises(services.RulesFailed):  # no signed BDC attached yet
        services.run_transition(dossier.pk, "sign_bdc", by=manager_membership.user, data=valid_payload("sign_bdc"))
    assert not Delivery.objects.filter(endpoint=transitions).exists()
    from ..factories import attach

    attach(dossier, "bdc", manager_membership.user)
    services.run_transition(dossier.pk, "sign_bdc", by=manager_membership.user, data=valid_payload("sign_bdc"))
    assert list(Delivery.objects.filter(endpoint=transitions).values_list("event", flat=True)) == [
        "dossier.transitioned"]
    assert list(Delivery.objects.filter(endpoint=documents).values_list("event", flat=True)) == [
        "dossier.document_added"]
    assert Delivery.objects.count() == 2  # the inactive endpoint gets none


def test_another_organisations_changes_reach_none_of_our_endpoints(endpoint, outsider_membership):
    walk_to(State.BDC_SIGNED, membership=outsider_membership)
    assert not Delivery.objects.exists()


def test_without_a_key_webhooks_answer_401():
    from rest_framework.test import APIClient

    assert APIClient().get(HOOKS).status_code == 401
