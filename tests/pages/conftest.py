"""Page-test fixtures: signed-in browsers (Django's test client) for each role, and dossiers at any state."""
import pytest
from django.test import Client

from organisations.current import SESSION_KEY

from ..factories import SolutionFactory, walk_to


def signed_in(membership, **kwargs) -> Client:
    """A test client signed in as the membership's user, working for its organisation."""
    client = Client(**kwargs)
    client.force_login(membership.user)
    session = client.session
    session[SESSION_KEY] = membership.organisation_id
    session.save()
    client.membership = membership
    return client


@pytest.fixture
def as_manager(manager_membership):
    return signed_in(manager_membership)


@pytest.fixture
def as_viewer(viewer_membership):
    return signed_in(viewer_membership)


@pytest.fixture
def as_admin(admin_membership):
    return signed_in(admin_membership)


@pytest.fixture
def as_outsider(outsider_membership):
    """An admin of another organisation: everything of the first one must be 404 to them."""
    return signed_in(outsider_membership)


@pytest.fixture
def solution(organisation):
    return SolutionFactory(organisation=organisation)


@pytest.fixture
def dossier_at(manager_membership):
    """Build a dossier of the organisation in any state, through the services."""
    def build(state, **kwargs):
        return walk_to(state, membership=manager_membership, **kwargs)
    return build
