"""Webhook pages: admins only (manager and viewer 403), another organisation's endpoint 404, French errors."""
import pytest

from webhooks.models import Delivery, Endpoint

from ..pages.conftest import signed_in

pytestmark = pytest.mark.django_db

CLOSED_PORT = "http://127.0.0.1:9/hook"


@pytest.fixture
def endpoint(organisation) -> Endpoint:
    return Endpoint.objects.create(organisation=organisation, url=CLOSED_PORT, events=["*"])


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(as_admin, organisation):
    response = as_admin.post("/webhooks/", {"url": CLOSED_PORT, "events": ["dossier.transitioned"], "active": "on"})
    assert response.status_code == 200
    endpoint = Endpoint.objects.get(organisation=organisation)
    assert endpoint.events == ["dossier.transitioned"] and endpoint.active
    assert endpoint.secret in response.content.decode()
    listing = as_admin.get("/webhooks/").content.decode()
    assert endpoint.secret not in listing
    assert "<td>Dossier passé à une nouvelle étape</td>" in listing  # a label, never the code
    assert endpoint.secret not in as_admin.get(f"/webhooks/{endpoint.pk}/").content.decode()


def test_bad_input_shows_french_errors_and_saves_nothing(as_admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = as_admin.post("/webhooks/", {"url": "http://127.0.0.1/x", "events": []})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choisissez au moins un événement." in page
    response = as_admin.post("/webhooks/", {"url": "http://127.0.0.1/x", "events": ["*"]})
    assert response.status_code == 400
    assert "adresses privées" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_an_admin_edits_rotates_redelivers_and_deletes(as_admin, endpoint, django_capture_on_commit_callbacks):
    response = as_admin.post(f"/webhooks/{endpoint.pk}/", {"url": CLOSED_PORT, "events": ["deadline.due"]})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["deadline.due"] and not endpoint.active
    endpoint.active = True
    endpoint.save()
    old = endpoint.secret
    response = as_admin.post(f"/webhooks/{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in response.content.decode()
    delivery = Delivery.objects.create(endpoint=endpoint, event="deadline.due", status="failed", attempts=6)
    page = as_admin.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert "Échec" in page or "Échouée" in page
    with django_capture_on_commit_callbacks(execute=False):
        assert as_admin.post(f"/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/").status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert as_admin.post(f"/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("fixture", ["as_manager", "as_viewer"])
def test_managers_and_viewers_get_403_on_every_page(request, fixture, endpoint):
    client = request.getfixturevalue(fixture)
    delivery = Delivery.objects.create(endpoint=endpoint, event="deadline.due", status="failed")
    for method, path in [("get", "/webhooks/"), ("post", "/webhooks/"), ("get", f"/webhooks/{endpoint.pk}/"),
                         ("post", f"/webhooks/{endpoint.pk}/"), ("post", f"/webhooks/{endpoint.pk}/delete/"),
                         ("post", f"/webhooks/{endpoint.pk}/rotate-secret/"),
                         ("post", f"/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")]:
        assert getattr(client, method)(path, {"url": CLOSED_PORT, "events": ["*"]}).status_code == 403, path
    endpoint.refresh_from_db()
    assert endpoint.events == ["*"] and Delivery.objects.get().status == "failed"


def test_another_organisations_admin_gets_404(as_outsider, endpoint):
    delivery = Delivery.objects.create(endpoint=endpoint, event="deadline.due", status="failed")
    for method, path in [("get", f"/webhooks/{endpoint.pk}/"), ("post", f"/webhooks/{endpoint.pk}/"),
                         ("post", f"/webhooks/{endpoint.pk}/delete/"), ("post", f"/webhooks/{endpoint.pk}/rotate-secret/"),
                         ("post", f"/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")]:
        assert getattr(as_outsider, method)(path, {"url": CLOSED_PORT, "events": ["*"]}).status_code == 404, path
    assert CLOSED_PORT not in as_outsider.get("/webhooks/").content.decode()
    assert Endpoint.objects.filter(pk=endpoint.pk, events=["*"]).exists()


def test_the_pages_refuse_a_post_without_csrf(admin_membership):
    client = signed_in(admin_membership, enforce_csrf_checks=True)
    assert client.post("/webhooks/", {"url": CLOSED_PORT, "events": ["*"]}).status_code == 403
    assert not Endpoint.objects.exists()


def test_the_nav_shows_webhooks_to_admins_only(as_admin, as_manager):
    assert 'href="/webhooks/"' in as_admin.get("/").content.decode()
    assert 'href="/webhooks/"' not in as_manager.get("/").content.decode()
