"""Page-test fixtures: signed-in browsers (Django's test client) for each role, and dossiers at any state."""
import pytest
from django.test import Client

from organisations.current import SESSION_KEY

from ..factories import SolutionFactory, walk_to
from ..roles import membership_fixture


def signed_in(membership, **kwargs) -> Client:
    """A test client signed in as the membership's user, working for its organisation."""
    client = Client(**kwargs)
    client.force_login(membership.user)
    session = client.session
    session[SESSION_KEY] = membership.organisation_id
    session.save()
    client.membership = membership
    return client


as_manager = membership_fixture("as_manager", "manager_membership", signed_in)
as_viewer = membership_fixture("as_viewer", "viewer_membership", signed_in)
as_admin = membership_fixture("as_admin", "admin_membership", signed_in)
as_outsider = membership_fixture("as_outsider", "outsider_membership", signed_in,
                                 "An admin of another organisation: everything of the first one must be 404 to them.")


@pytest.fixture
def solution(organisation):
    return SolutionFactory(organisation=organisation)


@pytest.fixture
def dossier_at(manager_membership):
    """Build a dossier of the organisation in any state, through the services."""
    def build(state, **kwargs):
        return walk_to(state, membership=manager_membership, **kwargs)
    return build
