"""Accounts people run themselves: change their password, reset it by e-mail, replace an initial password."""
import re
from html import unescape
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from organisations.models import Account

from .conftest import signed_in

NEW = "Un-nouveau-mot-de-passe-42"


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


def test_a_member_changes_their_password(as_manager, manager):
    response = as_manager.post(reverse("password_change"), {
        "old_password": "segur-test-pw", "new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == reverse("password_change_done")
    manager.refresh_from_db()
    assert manager.check_password(NEW)
    assert as_manager.get(reverse("home")).status_code == 200   # still signed in


def test_a_wrong_old_password_or_a_weak_new_one_changes_nothing(as_manager, manager):
    wrong = as_manager.post(reverse("password_change"), {
        "old_password": "pas-le-bon", "new_password1": NEW, "new_password2": NEW})
    assert wrong.status_code == 200
    assert "Votre ancien mot de passe est incorrect." in text(wrong)
    weak = as_manager.post(reverse("password_change"), {
        "old_password": "segur-test-pw", "new_password1": "123", "new_password2": "123"})
    assert "Ce mot de passe est trop court." in text(weak)
    manager.refresh_from_db()
    assert manager.check_password("segur-test-pw")


def test_a_password_is_reset_through_the_emailed_link(manager, mailoutbox):
    manager.email = "manon@example.fr"
    manager.save()
    browser = Client()
    assert browser.post(reverse("password_reset"), {"email": "manon@example.fr"})["Location"] == reverse(
        "password_reset_done")
    (mail,) = mailoutbox
    assert mail.subject == "Nouveau mot de passe pour segurtrack"
    assert "Une demande de nouveau mot de passe a été faite pour votre compte segurtrack (manon)" in mail.body
    link = re.search(r"http://testserver(/password/reset/\S+/)", mail.body).group(1)
    form_page = browser.get(link, follow=True)
    assert "Nouveau mot de passe" in text(form_page)
    done = browser.post(form_page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done["Location"] == reverse("password_reset_complete")
    manager.refresh_from_db()
    assert manager.check_password(NEW)
    # The link served once.
    assert "Ce lien n’est plus valable" in text(browser.get(link, follow=True))


def test_an_unknown_address_gets_the_same_answer_and_no_mail(manager, mailoutbox):
    response = Client().post(reverse("password_reset"), {"email": "personne@example.fr"})
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_an_initial_password_must_be_changed_at_first_sign_in_but_the_api_is_not_held(manager_membership):
    out = StringIO()
    call_command("create_editor", "--org", "Éditeur Alpha", "--username", "temp", "--password",
                 "Initial-pw-2026", "--role", "manager", "--temporary-password", stdout=out)
    key = out.getvalue().splitlines()[-1]
    browser = Client()
    assert browser.post(reverse("login"), {"username": "temp", "password": "Initial-pw-2026"}).status_code == 302
    held = browser.get(reverse("dossier-list"))
    assert held["Location"] == reverse("password_change")
    assert "choisi par quelqu’un d’autre" in text(browser.get(reverse("password_change")))
    assert Client().get("/api/v1/dossiers/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    browser.post(reverse("password_change"), {"old_password": "Initial-pw-2026", "new_password1": NEW,
                                              "new_password2": NEW})
    assert browser.get(reverse("dossier-list")).status_code == 200
    assert not Account.objects.get(user__username="temp").must_change_password


def test_create_editor_without_the_option_asks_nothing(db):
    call_command("create_editor", "--org", "Éditeur Alpha", "--username", "script", "--password", "pw",
                 stdout=StringIO())
    browser = Client()
    browser.post(reverse("login"), {"username": "script", "password": "pw"})
    assert browser.get(reverse("dossier-list")).status_code == 200
    assert not Account.objects.filter(user__username="script", must_change_password=True).exists()


def test_a_user_created_by_staff_in_the_admin_must_change_their_password(admin_membership):
    staff = get_user_model().objects.create_superuser("root", "root@example.fr", "segur-test-pw")
    browser = Client()
    browser.force_login(staff)
    response = browser.post(reverse("admin:auth_user_add"), {
        "username": "recrue", "password1": "Initial-pw-2026", "password2": "Initial-pw-2026",
        "usable_password": "true"})
    assert response.status_code == 302, text(response)[:2000]
    assert Account.objects.get(user__username="recrue").must_change_password
    recrue = Client()
    recrue.post(reverse("login"), {"username": "recrue", "password": "Initial-pw-2026"})
    assert recrue.get(reverse("home"))["Location"] == reverse("password_change")
    assert signed_in(admin_membership).get(reverse("home")).status_code == 200
