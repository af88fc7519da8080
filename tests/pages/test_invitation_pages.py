"""Membership is an invitation, never a capture: the members page invites by e-mail; only accepting makes a member."""
import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organisations import services
from organisations.models import Invitation, Membership, Role

from ..factories import MembershipFactory, UserFactory
from .conftest import signed_in

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def invite(browser, email: str, role: str = "manager", capture=None):
    if capture is None:
        return browser.post(reverse("members"), {"email": email, "role": role})
    with capture(execute=True):
        return browser.post(reverse("members"), {"email": email, "role": role})


def link_in(mail) -> str:
    return re.search(r"http://testserver(/invitations/[^/\s]+/)", mail.body).group(1)


def test_typing_another_organisations_member_captures_nobody_and_reveals_nothing(
        outsider_membership, manager_membership, django_capture_on_commit_callbacks, mailoutbox):
    """The attack of issue 10: Bêta's admin types Alpha's manager's username, then their e-mail."""
    manon = manager_membership.user
    manon.email = "manon@alpha.example.fr"
    manon.save()
    attacker = signed_in(outsider_membership)
    by_username = attacker.post(reverse("members"), {"username": "manon", "role": "admin"})
    by_nobody = attacker.post(reverse("members"), {"username": "personne-ici", "role": "admin"})
    assert by_username.status_code == by_nobody.status_code == 400
    assert without_csrf(text(by_username)) == without_csrf(text(by_nobody))
    assert "manon@alpha.example.fr" not in text(by_username)

    to_member = invite(attacker, "manon@alpha.example.fr", "admin", django_capture_on_commit_callbacks)
    to_stranger = invite(attacker, "inconnu@example.fr", "admin", django_capture_on_commit_callbacks)
    assert to_member.status_code == to_stranger.status_code == 302
    page = text(attacker.get(reverse("members")))
    assert "manon" not in page.replace("manon@alpha.example.fr", "")  # only the address the admin typed
    # Nobody joined: only invitations, and Manon still works for Alpha.
    assert not Membership.objects.filter(user=manon, organisation=outsider_membership.organisation).exists()
    assert len(mailoutbox) == 2
    browser = Client()
    browser.force_login(manon)
    assert browser.get(reverse("home")).context["organisation"] == manager_membership.organisation


def test_an_invitation_is_emailed_in_french_and_accepted_by_a_signed_in_user(
        as_admin, organisation, outsider_membership, django_capture_on_commit_callbacks, mailoutbox):
    response = invite(as_admin, "oscar@beta.example.fr", "manager", django_capture_on_commit_callbacks)
    assert response["Location"] == reverse("members")
    assert "Invitation envoyée à oscar@beta.example.fr" in text(as_admin.get(reverse("members")))
    (mail,) = mailoutbox
    assert mail.to == ["oscar@beta.example.fr"]
    assert mail.subject == "Invitation à rejoindre Éditeur Alpha sur segurtrack"
    assert "avec le rôle Gestionnaire" in mail.body and "ne sert qu'une fois" in mail.body
    link = link_in(mail)
    assert not Membership.objects.filter(user=outsider_membership.user, organisation=organisation).exists()

    oscar = signed_in(outsider_membership)
    page = oscar.get(link)
    assert page.status_code == 200 and "Vous êtes invité à rejoindre <strong>Éditeur Alpha</strong>" in text(page)
    assert oscar.post(link)["Location"] == reverse("home")
    joined = Membership.objects.get(user=outsider_membership.user, organisation=organisation)
    assert joined.role == Role.MANAGER
    # Single use: the link is dead once accepted, for anyone.
    assert oscar.get(link).status_code == 404
    assert Client().post(link, {"username": "autre", "password1": "Un-mot-de-passe-42",
                                "password2": "Un-mot-de-passe-42"}).status_code == 404
    assert not get_user_model().objects.filter(username="autre").exists()


def test_a_new_person_creates_their_account_from_the_link(as_admin, organisation, django_capture_on_commit_callbacks,
                                                          mailoutbox):
    invite(as_admin, "nina@example.fr", "viewer", django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0])
    browser = Client()
    weak = browser.post(link, {"username": "nina", "password1": "123", "password2": "123"})
    assert weak.status_code == 400
    assert "Ce mot de passe est trop court." in text(weak)
    assert not get_user_model().objects.filter(username="nina").exists()
    taken = browser.post(link, {"username": "adele", "password1": "Un-mot-de-passe-42",
                                "password2": "Un-mot-de-passe-42"})
    assert taken.status_code == 400
    response = browser.post(link, {"username": "nina", "password1": "Un-mot-de-passe-42",
                                   "password2": "Un-mot-de-passe-42"})
    assert response["Location"] == reverse("home")
    nina = get_user_model().objects.get(username="nina")
    assert nina.email == "nina@example.fr" and nina.check_password("Un-mot-de-passe-42")
    assert Membership.objects.get(user=nina).organisation == organisation
    assert browser.get(reverse("home")).context["organisation"] == organisation


def test_an_expired_or_revoked_invitation_is_refused(as_admin, organisation, outsider_membership):
    invitation = services.invite_member(organisation=organisation, email="x@example.fr", role=Role.ADMIN,
                                        by=as_admin.membership.user, link=lambda token: token)
    token = "expired-token"
    from organisations.models import hash_token
    Invitation.objects.filter(pk=invitation.pk).update(digest=hash_token(token),
                                                       expires_at=timezone.now() - timedelta(minutes=1))
    oscar = signed_in(outsider_membership)
    assert oscar.post(reverse("invitation", args=[token])).status_code == 404
    with pytest.raises(services.InvitationInvalid):
        services.accept_invitation(token=token, user=outsider_membership.user)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + timedelta(days=1))
    assert as_admin.post(reverse("invitation-revoke", args=[invitation.pk]))["Location"] == reverse("members")
    assert oscar.post(reverse("invitation", args=[token])).status_code == 404
    assert not Membership.objects.filter(user=outsider_membership.user, organisation=organisation).exists()


def test_an_unknown_link_is_a_404_in_french():
    response = Client().get(reverse("invitation", args=["nimporte-quoi"]))
    assert response.status_code == 404
    assert "Ce lien d’invitation n’est plus valable" in text(response)


def test_a_member_accepting_again_is_told_and_keeps_their_role(admin_membership, manager_membership):
    services.invite_member(organisation=admin_membership.organisation, email="m@example.fr", role=Role.VIEWER,
                           by=admin_membership.user, link=lambda token: token)
    token = "known"
    from organisations.models import hash_token
    Invitation.objects.update(digest=hash_token(token))
    with pytest.raises(services.AlreadyMember):
        services.accept_invitation(token=token, user=manager_membership.user)
    manager_membership.refresh_from_db()
    assert manager_membership.role == Role.MANAGER


def test_a_bad_invitation_is_a_french_400_and_records_nothing(as_admin):
    response = as_admin.post(reverse("members"), {"email": "pas-une-adresse", "role": "owner"})
    assert response.status_code == 400
    assert "Saisissez une adresse e-mail valide." in text(response)
    assert not Invitation.objects.exists()


def test_revoking_another_organisations_invitation_is_a_404(as_outsider, admin_membership):
    invitation = services.invite_member(organisation=admin_membership.organisation, email="x@example.fr",
                                        role=Role.VIEWER, by=admin_membership.user, link=lambda token: token)
    assert as_outsider.post(reverse("invitation-revoke", args=[invitation.pk])).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_a_viewer_cannot_invite(as_viewer):
    assert as_viewer.post(reverse("members"), {"email": "x@example.fr", "role": "admin"}).status_code == 403
    assert not Invitation.objects.exists()


def test_the_members_page_shows_only_the_organisations_own_invitations(as_admin, outsider_membership):
    services.invite_member(organisation=outsider_membership.organisation, email="secret@beta.example.fr",
                           role=Role.VIEWER, by=outsider_membership.user, link=lambda token: token)
    services.invite_member(organisation=as_admin.membership.organisation, email="ours@alpha.example.fr",
                           role=Role.VIEWER, by=as_admin.membership.user, link=lambda token: token)
    page = text(as_admin.get(reverse("members")))
    assert "ours@alpha.example.fr" in page and "secret@beta.example.fr" not in page


def test_the_members_page_answers_in_constant_queries(as_admin, organisation, django_assert_max_num_queries):
    for n in range(6):
        MembershipFactory(organisation=organisation, role=Role.VIEWER, user__username=f"membre{n}")
        services.invite_member(organisation=organisation, email=f"i{n}@example.fr", role=Role.VIEWER,
                               by=as_admin.membership.user, link=str)
    with django_assert_max_num_queries(8):
        page = as_admin.get(reverse("members"))
    assert page.status_code == 200 and "i5@example.fr" in text(page) and "membre5" in text(page)


def test_staff_in_the_admin_cannot_demote_the_last_admin(admin_membership):
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(staff)
    url = reverse("admin:organisations_membership_change", args=[admin_membership.pk])
    response = browser.post(url, {"role": "viewer"}, follow=True)
    assert "L'organisation doit garder au moins un administrateur." in text(response)
    admin_membership.refresh_from_db()
    assert admin_membership.role == Role.ADMIN
