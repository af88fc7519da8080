"""Notifications (since arrival, opened = read, grouped by dossier, preferences) and the client's page (its dossiers,
a FINESS of another department flagged)."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dossiers.models import Client, Notification, NotificationPreference, State
from organisations.models import Membership

from ..factories import ClientFactory, walk_to


def note(membership, *, dossier=None, kind="transition", message="Changement", ago=timedelta(0)):
    notification = Notification.objects.create(user=membership.user, organisation=membership.organisation,
                                               dossier=dossier, kind=kind, message=message)
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - ago)
    return notification


def joined_days_ago(membership, days: int) -> None:
    Membership.objects.filter(pk=membership.pk).update(created_at=timezone.now() - timedelta(days=days))


def count_queries(browser, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.fixture
def two_dossiers(manager_membership):
    return [walk_to(State.DRAFT, membership=manager_membership) for _ in range(2)]


# --- notifications -----------------------------------------------------------------------------------------------

def test_a_new_member_is_not_greeted_by_the_notifications_made_before_they_came(viewer_membership, as_viewer):
    for i in range(30):
        note(viewer_membership, message=f"Ancienne {i}", ago=timedelta(days=1))
    note(viewer_membership, message="Depuis mon arrivée")
    badge = as_viewer.get(reverse("notifications-unread")).content.decode()
    assert '<span class="nav-badge">1<' in badge
    html = as_viewer.get(reverse("notifications")).content.decode()
    assert "1 non lue" in html and "Depuis mon arrivée" in html and "Ancienne" not in html
    joined_days_ago(viewer_membership, 2)
    assert '<span class="nav-badge">31<' in as_viewer.get(reverse("notifications-unread")).content.decode()


def test_opening_a_notification_marks_it_read_and_shows_its_dossier(two_dossiers, viewer_membership, as_viewer):
    notification = note(viewer_membership, dossier=two_dossiers[0])
    html = as_viewer.get(reverse("notifications")).content.decode()
    assert f'href="{reverse("notification-open", args=[notification.pk])}"' in html
    response = as_viewer.get(reverse("notification-open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("dossier-detail", args=[two_dossiers[0].pk])
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert as_viewer.get(reverse("notifications-unread")).content.decode().strip() == ""


def test_opening_a_notification_about_no_dossier_goes_back_to_the_list(viewer_membership, as_viewer):
    digest = note(viewer_membership, kind="digest", message="Résumé du jour")
    response = as_viewer.get(reverse("notification-open", args=[digest.pk]))
    assert response["Location"] == reverse("notifications")
    digest.refresh_from_db()
    assert digest.read_at is not None


def test_someone_elses_or_another_organisations_notification_is_404(two_dossiers, manager_membership,
                                                                   outsider_membership, as_viewer, as_outsider):
    theirs = note(manager_membership, dossier=two_dossiers[0])
    elsewhere = note(outsider_membership)
    assert as_viewer.get(reverse("notification-open", args=[theirs.pk])).status_code == 404
    assert as_outsider.get(reverse("notification-open", args=[theirs.pk])).status_code == 404
    assert as_viewer.get(reverse("notification-open", args=[elsewhere.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_notifications_are_grouped_by_dossier(two_dossiers, viewer_membership, as_viewer):
    first, second = two_dossiers
    joined_days_ago(viewer_membership, 1)
    note(viewer_membership, dossier=first, message="A1", ago=timedelta(minutes=3))
    note(viewer_membership, dossier=second, message="B1", ago=timedelta(minutes=2))
    note(viewer_membership, dossier=first, message="A2", ago=timedelta(minutes=1))
    note(viewer_membership, kind="digest", message="Résumé")
    response = as_viewer.get(reverse("notifications"))
    groups = response.context["groups"]
    assert [g["dossier"].pk if g["dossier"] else None for g in groups] == [None, first.pk, second.pk]
    assert [n.message for n in groups[1]["notifications"]] == ["A2", "A1"]
    html = response.content.decode()
    assert html.index("A2") < html.index("A1") < html.index("B1")
    assert f'<a href="{reverse("dossier-detail", args=[first.pk])}">{first.reference}</a>' in html


def test_the_notifications_page_answers_in_a_fixed_number_of_queries(manager_membership, viewer_membership, as_viewer,
                                                                    django_assert_num_queries):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    note(viewer_membership, dossier=dossier)
    few = count_queries(as_viewer, reverse("notifications"))
    for _ in range(3):
        other = walk_to(State.DRAFT, membership=manager_membership)
        for _ in range(5):
            note(viewer_membership, dossier=other)
    with django_assert_num_queries(few):
        response = as_viewer.get(reverse("notifications"))
    assert len(response.context["groups"]) == 4
    with django_assert_num_queries(count_queries(as_viewer, reverse("notifications-unread"))):
        as_viewer.get(reverse("notifications-unread"))


def test_a_member_chooses_how_each_kind_is_told(viewer_membership, as_viewer):
    transition, assignment = note(viewer_membership, message="Étape"), note(viewer_membership, kind="assignment",
                                                                            message="Confié")
    page = as_viewer.get(reverse("notification-preferences"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Étapes franchies par les dossiers" in html and "Dans le résumé quotidien (e-mail)" in html
    response = as_viewer.post(reverse("notification-preferences"), {
        "transition": "digest", "assignment": "in_app", "note": "none", "deadline_reminder": "in_app",
        "va_returned": "none"})
    assert response.status_code == 302
    assert dict(NotificationPreference.objects.filter(membership=viewer_membership).values_list("kind", "channel"))[
        "transition"] == "digest"
    html = as_viewer.get(reverse("notifications")).content.decode()
    assert "Confié" in html and "Étape" not in html and "1 non lue" in html
    assert as_viewer.get(reverse("notification-open", args=[transition.pk])).status_code == 404
    assert as_viewer.get(reverse("notification-open", args=[assignment.pk])).status_code == 302
    selected = as_viewer.get(reverse("notification-preferences")).content.decode()
    assert '<option value="digest" selected>' in selected


def test_a_bad_preference_is_refused_in_french_and_nothing_saved(viewer_membership, as_viewer):
    response = as_viewer.post(reverse("notification-preferences"), {
        "transition": "pigeon", "assignment": "in_app", "note": "none", "deadline_reminder": "in_app",
        "va_returned": "none"})
    assert response.status_code == 400
    assert "Dans le résumé quotidien" in response.content.decode() and "Choisissez" in response.content.decode()
    assert not NotificationPreference.objects.exists()


# --- clients -----------------------------------------------------------------------------------------------------

def test_the_client_page_lists_its_dossiers_with_state_and_amount(manager_membership, as_viewer):
    filed = walk_to(State.AVANCE_FILED, membership=manager_membership)
    draft = walk_to(State.DRAFT, membership=manager_membership, client=filed.client)
    elsewhere = walk_to(State.DRAFT, membership=manager_membership)
    html = as_viewer.get(reverse("client-edit", args=[filed.client_id])).content.decode()
    section = html.split('id="client-dossiers"')[1].split("</section>")[0]
    assert f'href="{reverse("dossier-detail", args=[filed.pk])}">{filed.reference}</a>' in section
    assert f'href="{reverse("dossier-detail", args=[draft.pk])}">{draft.reference}</a>' in section
    assert "Avance déposée" in section and "Brouillon" in section
    assert "10\u202f000,00 €" in section and filed.declared_amount == Decimal("10000.00")
    assert elsewhere.reference not in section


def test_a_client_without_dossiers_says_so(organisation, as_viewer):
    client = ClientFactory(organisation=organisation)
    html = as_viewer.get(reverse("client-edit", args=[client.pk])).content.decode()
    assert "Aucun dossier pour ce client." in html


def test_the_client_page_answers_in_a_fixed_number_of_queries(manager_membership, as_viewer,
                                                             django_assert_num_queries):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    url = reverse("client-edit", args=[dossier.client_id])
    few = count_queries(as_viewer, url)
    for _ in range(4):
        walk_to(State.CANCELLED, membership=manager_membership, client=dossier.client, solution=dossier.solution)
    with django_assert_num_queries(few):
        response = as_viewer.get(url)
    assert len(response.context["client_dossiers"]) == 5


def test_another_organisations_client_is_404(manager_membership, as_outsider):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    assert as_outsider.get(reverse("client-edit", args=[dossier.client_id])).status_code == 404


def test_a_finess_of_another_department_is_flagged_on_the_page_and_the_list(organisation, as_viewer):
    wrong = ClientFactory(organisation=organisation, name="Clinique du Port", finess_geo="750000012", department="13")
    right = ClientFactory(organisation=organisation, name="Centre Bastille", finess_geo="750000020", department="75")
    html = as_viewer.get(reverse("client-edit", args=[wrong.pk])).content.decode()
    assert "Le FINESS géographique 750000012 désigne le département 75, pas celui du client (13)" in html
    assert 'id="finess-mismatch"' not in as_viewer.get(reverse("client-edit", args=[right.pk])).content.decode()
    rows = as_viewer.get(reverse("client-list")).content.decode().split("<tr>")
    assert "Département à vérifier" in next(row for row in rows if "Clinique du Port" in row)
    assert "Département à vérifier" not in next(row for row in rows if "Centre Bastille" in row)


def test_a_corsican_or_overseas_finess_in_its_department_is_not_flagged(organisation, as_viewer):
    corsica = ClientFactory(organisation=organisation, finess_geo="2A0000001", department="2A")
    reunion = ClientFactory(organisation=organisation, finess_geo="974000001", department="974")
    guadeloupe = ClientFactory(organisation=organisation, finess_geo="971000001", department="972")
    assert [c.finess_department_mismatch for c in Client.objects.filter(
        pk__in=[corsica.pk, reunion.pk, guadeloupe.pk]).order_by("pk")] == [False, False, True]
    html = as_viewer.get(reverse("client-edit", args=[guadeloupe.pk])).content.decode()
    assert "désigne le département 971, pas celui du client (972)" in html
