"""`manage.py create_editor`: organisation and member set up, a working API token alone on the last line."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from organisations.models import ApiToken, Membership, Organisation, Role

from ..factories import MembershipFactory, OrganisationFactory
from .conftest import url

pytestmark = pytest.mark.django_db


def create_editor(*args: str) -> str:
    out = StringIO()
    call_command("create_editor", *args, stdout=out)
    return out.getvalue()


def api_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_it_creates_the_organisation_and_an_admin_whose_token_works():
    output = create_editor("--org", "Éditeur Gamma", "--username", "gaby", "--password", "s3cret-pw")
    key = output.splitlines()[-1]
    membership = Membership.objects.get(user__username="gaby", organisation__name="Éditeur Gamma")
    assert membership.role == Role.ADMIN
    assert get_user_model().objects.get(username="gaby").check_password("s3cret-pw")
    response = api_with(key).post(url("solution-list"), {"name": "Logiciel", "version": "1",
                                                         "dispositif": "MDV-LGC-VA1"}, format="json")
    assert response.status_code == 201, response.json()
    assert api_with(key).get(url("solution-list")).json()["count"] == 1


def test_the_token_is_alone_on_the_last_line():
    lines = create_editor("--org", "Éditeur Gamma", "--username", "gaby", "--password", "pw").splitlines()
    assert len(lines) >= 2 and lines[-1] == lines[-1].strip()
    assert ApiToken.objects.get().prefix == lines[-1][:8]
    assert len(lines[-1].split()) == 1


def test_an_existing_organisation_and_user_are_reused_with_the_new_role_and_password():
    membership = MembershipFactory(organisation=OrganisationFactory(name="Éditeur Delta"), role=Role.ADMIN,
                                   user__username="dora")
    key = create_editor("--org", "Éditeur Delta", "--username", "dora", "--password", "new-pw",
                        "--role", "viewer").splitlines()[-1]
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    assert membership.user.check_password("new-pw")
    assert Organisation.objects.filter(name="Éditeur Delta").count() == 1
    assert api_with(key).post(url("client-list"), {}, format="json").status_code == 403


def test_an_unknown_role_is_refused():
    with pytest.raises(CommandError):
        create_editor("--org", "X", "--username", "x", "--password", "x", "--role", "owner")
    assert not Organisation.objects.filter(name="X").exists()
