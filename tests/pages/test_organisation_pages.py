"""Sign-in and sign-out, choosing the current organisation, and the members page (admins only)."""
from html import unescape

from django.test import Client
from django.urls import reverse

from dossiers.models import State
from organisations.current import SESSION_KEY
from organisations.models import Membership, Role

from ..factories import MembershipFactory, OrganisationFactory, walk_to


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


def test_a_member_signs_in_and_out(manager_membership):
    browser = Client()
    page = browser.get(reverse("login"))
    assert page.status_code == 200
    html = text(page)
    assert '<html lang="fr">' in html and 'for="id_username"' in html and 'for="id_password"' in html
    response = browser.post(reverse("login"), {"username": "manon", "password": "segur-test-pw"})
    assert response["Location"] == reverse("home")
    assert "Éditeur Alpha" in text(browser.get(reverse("home")))
    assert browser.get(reverse("logout")).status_code == 405      # signing out is a POST (CSRF-protected)
    response = browser.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert browser.get(reverse("home")).status_code == 302


def test_a_wrong_password_is_explained_in_french(manager_membership):
    response = Client().post(reverse("login"), {"username": "manon", "password": "nope"})
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in text(response)


def test_sign_in_goes_back_to_the_page_asked_for(manager_membership):
    browser = Client()
    response = browser.post(f"{reverse('login')}?next=/dossiers/", {"username": "manon", "password": "segur-test-pw",
                                                                   "next": "/dossiers/"})
    assert response["Location"] == "/dossiers/"


def test_a_member_of_two_organisations_switches_and_sees_only_the_chosen_ones_data(
        manager_membership, outsider_membership):
    user = manager_membership.user
    MembershipFactory(user=user, organisation=outsider_membership.organisation, role=Role.VIEWER)
    ours = walk_to(State.DRAFT, membership=manager_membership)
    theirs = walk_to(State.DRAFT, membership=outsider_membership)
    browser = Client()
    browser.force_login(user)
    # The oldest membership is the current one until another is chosen.
    page = text(browser.get(reverse("organisation-switch")))
    assert "Éditeur Alpha" in page and "Éditeur Bêta" in page
    assert browser.get(reverse("dossier-detail", args=[ours.pk])).status_code == 200
    assert browser.get(reverse("dossier-detail", args=[theirs.pk])).status_code == 404

    response = browser.post(reverse("organisation-switch"), {"organisation": outsider_membership.organisation_id})
    assert response["Location"] == reverse("home")
    assert browser.session[SESSION_KEY] == outsider_membership.organisation_id
    assert browser.get(reverse("dossier-detail", args=[theirs.pk])).status_code == 200
    assert browser.get(reverse("dossier-detail", args=[ours.pk])).status_code == 404
    listed = [d.pk for d in browser.get(reverse("dossier-list")).context["page"].object_list]
    assert listed == [theirs.pk]
    # Here the user is a viewer: the role follows the organisation.
    assert browser.post(reverse("dossier-scenario", args=[theirs.pk]), {"scenario": "X"}).status_code == 403


def test_the_organisation_chosen_last_is_remembered_in_the_next_session(manager_membership, outsider_membership):
    user = manager_membership.user
    MembershipFactory(user=user, organisation=outsider_membership.organisation, role=Role.VIEWER)
    first = Client()
    first.force_login(user)
    first.post(reverse("organisation-switch"), {"organisation": outsider_membership.organisation_id})
    later = Client()
    later.force_login(user)
    assert later.get(reverse("home")).context["organisation"] == outsider_membership.organisation
    later.post(reverse("organisation-switch"), {"organisation": manager_membership.organisation_id})
    third = Client()
    third.force_login(user)
    assert third.get(reverse("home")).context["organisation"] == manager_membership.organisation


def test_a_new_membership_never_becomes_the_current_organisation_by_its_name(outsider_membership):
    # Oscar works for Bêta; a membership in Alpha (first by name) appearing later does not move him there.
    MembershipFactory(user=outsider_membership.user, organisation=OrganisationFactory(name="AAA Attaquant"),
                      role=Role.ADMIN)
    browser = Client()
    browser.force_login(outsider_membership.user)
    assert browser.get(reverse("home")).context["organisation"] == outsider_membership.organisation


def test_one_cannot_switch_to_an_organisation_one_is_not_a_member_of(manager_membership, outsider_membership):
    browser = Client()
    browser.force_login(manager_membership.user)
    response = browser.post(reverse("organisation-switch"), {"organisation": outsider_membership.organisation_id})
    assert response.status_code == 400
    assert SESSION_KEY not in browser.session
    assert not Membership.objects.filter(user=manager_membership.user, last_chosen_at__isnull=False).exists()


def test_an_admin_changes_a_role_and_removes_a_member(as_admin, manager_membership):
    pk = manager_membership.pk
    as_admin.post(reverse("member-role", args=[pk]), {f"m{pk}-role": "viewer"})
    assert Membership.objects.get(pk=pk).role == Role.VIEWER
    as_admin.post(reverse("member-remove", args=[pk]))
    assert not Membership.objects.filter(pk=pk).exists()


def test_the_last_admin_stays(as_admin, admin_membership):
    pk = admin_membership.pk
    response = as_admin.post(reverse("member-role", args=[pk]), {f"m{pk}-role": "manager"})
    assert response.status_code == 400
    assert "au moins un administrateur" in text(response)
    response = as_admin.post(reverse("member-remove", args=[pk]))
    assert response.status_code == 400
    assert Membership.objects.get(pk=pk).role == Role.ADMIN


def test_the_members_page_lists_only_the_organisations_members(as_admin, manager_membership, outsider_membership):
    page = text(as_admin.get(reverse("members")))
    assert "manon" in page and "adele" in page and "oscar" not in page


def test_an_unknown_role_is_a_french_400_and_changes_nothing(as_admin, manager_membership):
    pk = manager_membership.pk
    response = as_admin.post(reverse("member-role", args=[pk]), {f"m{pk}-role": "owner"})
    assert response.status_code == 400
    assert "Sélectionnez un choix valide." in text(response)
    assert Membership.objects.get(pk=pk).role == Role.MANAGER


def test_a_token_stays_bound_to_its_membership_whatever_organisation_is_chosen(manager_membership,
                                                                               outsider_membership):
    from rest_framework.test import APIClient

    from ..factories import ClientFactory, token_for

    user = manager_membership.user
    MembershipFactory(user=user, organisation=outsider_membership.organisation, role=Role.VIEWER)
    ours = ClientFactory(organisation=manager_membership.organisation, name="Clinique Alpha")
    theirs = ClientFactory(organisation=outsider_membership.organisation, name="Clinique Bêta")
    key = token_for(manager_membership)
    browser = Client()
    browser.force_login(user)
    browser.post(reverse("organisation-switch"), {"organisation": outsider_membership.organisation_id})
    by_token = APIClient()
    by_token.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert [c["id"] for c in by_token.get("/api/v1/clients/").json()["results"]] == [ours.pk]
    # The browser session's API calls follow the organisation chosen last, in a new session too.
    later = APIClient()
    later.force_login(user)
    assert [c["id"] for c in later.get("/api/v1/clients/").json()["results"]] == [theirs.pk]
