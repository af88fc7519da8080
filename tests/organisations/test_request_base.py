"""What every signed-in page reads first, in two plain statements: the session (segurtrack/sessions), then the user
with their memberships (organisations/backends.py). Same answers as Django's stores and ModelBackend."""
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organisations import services
from organisations.backends import MemberBackend
from organisations.current import memberships_of, session_membership
from organisations.models import Membership, Role

from ..factories import MembershipFactory, OrganisationFactory


def _signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.mark.django_db
def test_a_signed_in_page_reads_session_then_user_with_memberships(manager_membership):
    client = _signed_in(manager_membership)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/organisation/")
    assert response.status_code == 200
    assert manager_membership.organisation.name in response.content.decode()
    sql = [q["sql"] for q in captured.captured_queries]
    assert "django_session" in sql[0]
    assert "auth_user" in sql[1] and "organisations_membership" in sql[1]
    assert len(sql) == 3 and "organisations_membership" in sql[2]  # then the page's own list of memberships


@pytest.mark.django_db
def test_an_expired_session_signs_nobody_in_and_a_live_one_does(manager_membership):
    client = _signed_in(manager_membership)
    assert client.get("/notifications/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_an_unknown_session_key_is_forgotten():
    from segurtrack.sessions.db import SessionStore

    store = SessionStore(session_key="x" * 32)
    assert store.load() == {}
    assert store.session_key is None


@pytest.mark.django_db
def test_an_inactive_or_missing_user_is_no_user(manager_membership):
    backend = MemberBackend()
    user = backend.get_user(str(manager_membership.user_id))
    assert user == manager_membership.user
    assert [m.pk for m in memberships_of(user)] == [manager_membership.pk]
    assert backend.get_user("not a number") is None
    assert backend.get_user(str(manager_membership.user_id + 1000)) is None
    manager_membership.user.is_active = False
    manager_membership.user.save()
    assert backend.get_user(str(manager_membership.user_id)) is None


@pytest.mark.django_db
def test_a_user_without_membership_is_read_with_none(db):
    from ..factories import UserFactory

    user = MemberBackend().get_user(str(UserFactory().pk))
    assert user is not None and memberships_of(user) == []


@pytest.mark.django_db
def test_memberships_come_in_the_order_the_orm_gives(manager_membership):
    user = manager_membership.user
    later = MembershipFactory(user=user, organisation=OrganisationFactory(), role=Role.VIEWER)
    chosen = MembershipFactory(user=user, organisation=OrganisationFactory(), role=Role.ADMIN)
    services.choose_organisation(chosen)
    expected = list(Membership.objects.filter(user=user).order_by(
        F("last_chosen_at").desc(nulls_last=True), "created_at", "pk").values_list("pk", flat=True))
    read = MemberBackend().get_user(str(user.pk))
    assert [m.pk for m in memberships_of(read)] == expected == [chosen.pk, manager_membership.pk, later.pk]
    assert memberships_of(read)[0].organisation == chosen.organisation  # its organisation, without a query
    fresh = user.__class__.objects.get(pk=user.pk)  # a user not read by the backend: one statement of its own
    assert [m.pk for m in memberships_of(fresh)] == expected


@pytest.mark.django_db
def test_a_membership_change_shows_on_the_next_request(manager_membership):
    """The memberships live with the user object of one request: a role change is seen by the next request."""
    client = _signed_in(manager_membership)
    assert client.get("/organisation/members/").status_code == 403
    Membership.objects.filter(pk=manager_membership.pk).update(role=Role.ADMIN)
    assert client.get("/organisation/members/").status_code == 200
    Membership.objects.filter(pk=manager_membership.pk).delete()
    response = client.get("/notifications/")
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_chosen_organisation_of_the_session_wins(manager_membership):
    other = MembershipFactory(user=manager_membership.user, organisation=OrganisationFactory(), role=Role.VIEWER)

    class Request:
        user = MemberBackend().get_user(str(manager_membership.user_id))
        session = {"organisation_id": other.organisation_id}

    assert session_membership(Request()).pk == other.pk
    Request.session = {"organisation_id": 10**9}
    assert session_membership(Request()).pk == manager_membership.pk  # not a member there: the oldest


@pytest.mark.django_db
def test_a_session_signed_in_through_django_s_model_backend_stays_signed_in(manager_membership):
    """Sessions from before the backend was replaced name Django's ModelBackend: read as MemberBackend."""
    client = Client()
    client.force_login(manager_membership.user, backend="organisations.backends.MemberBackend")
    store = client.session
    store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    store.save()
    assert Session.objects.get().get_decoded()["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
    assert client.get("/notifications/").status_code == 200
    store["_auth_user_backend"] = "some.removed.Backend"  # any other backend not listed: signed out, as Django does
    store.save()
    assert client.get("/notifications/").status_code == 302


@pytest.mark.django_db
def test_the_cached_store_reads_the_same_rows():
    from segurtrack.sessions.cached_db import SessionStore as Cached
    from segurtrack.sessions.db import SessionStore as Plain

    plain = Plain()
    plain["organisation_id"] = 7
    plain.save()
    assert Cached(session_key=plain.session_key).load()["organisation_id"] == 7
    Session.objects.filter(session_key=plain.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    Cached(session_key=plain.session_key)._cache.delete(Cached(session_key=plain.session_key).cache_key)
    assert Cached(session_key=plain.session_key).load() == {}
    assert Plain(session_key=plain.session_key).load() == {}
