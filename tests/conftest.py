"""Shared fixtures: organisations with members of each role, API clients, documents stored in a temp dir."""
import pytest
from rest_framework.test import APIClient

from organisations.models import Role

from .factories import MembershipFactory, OrganisationFactory, token_for
from .roles import membership_fixture


# Browser and Celery worker tests are slow by nature: `-m "not slow"` (the inner loop, docs/testing.md) leaves them out.
SLOW_BY_NATURE = ("e2e", "celery_worker")


def pytest_collection_modifyitems(items):
    for item in items:
        if any(item.get_closest_marker(marker) for marker in SLOW_BY_NATURE):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _documents_in_tmp(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "documents"), "base_url": None}}}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Members are created in almost every test: the production hasher's cost is not what tests measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_request_left_open():
    """A streamed response a test does not read is never closed, so its request never ends: the outbox's queue of
    publications for after that response must not reach the next test (its commits would wait for it)."""
    from dossiers import outbox

    outbox._request.pending = None


@pytest.fixture
def organisation(db):
    return OrganisationFactory(name="Éditeur Alpha")


@pytest.fixture
def other_organisation(db):
    return OrganisationFactory(name="Éditeur Bêta")


@pytest.fixture
def manager_membership(organisation):
    return MembershipFactory(organisation=organisation, role=Role.MANAGER, user__username="manon")


@pytest.fixture
def manager(manager_membership):
    return manager_membership.user


@pytest.fixture
def viewer_membership(organisation):
    return MembershipFactory(organisation=organisation, role=Role.VIEWER, user__username="victor")


@pytest.fixture
def admin_membership(organisation):
    return MembershipFactory(organisation=organisation, role=Role.ADMIN, user__username="adele")


@pytest.fixture
def outsider_membership(other_organisation):
    return MembershipFactory(organisation=other_organisation, role=Role.ADMIN, user__username="oscar")


def _api(membership):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(membership)}")
    client.membership = membership
    return client


api = membership_fixture("api", "manager_membership", _api)
viewer_api = membership_fixture("viewer_api", "viewer_membership", _api)
admin_api = membership_fixture("admin_api", "admin_membership", _api)
outsider_api = membership_fixture("outsider_api", "outsider_membership", _api)



def pytest_sessionfinish(session, exitstatus):
    """With FAIL_ON_SKIP=1 (the test command sets it) a skipped test fails the run: CI allows none."""
    import os

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if os.environ.get("FAIL_ON_SKIP") == "1" and skipped:
        reporter.write_line(f"FAIL_ON_SKIP: {len(skipped)} test(s) skipped; none is allowed.", red=True)
        session.exitstatus = 1
