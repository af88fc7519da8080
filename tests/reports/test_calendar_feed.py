"""Calendar feeds: a member's secret URL serves the organisation's deadlines as iCalendar; regenerating or revoking
kills the old URL (404)."""
from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from reports import calendar
from reports.models import CalendarFeed, feed_digest

from .conftest import bulk_dossiers, deployed

pytestmark = pytest.mark.django_db


def feed_url(page) -> str:
    html = page.content.decode()
    return html.split('id="calendar-url">')[1].split("<")[0]


def path_of(url: str) -> str:
    return url.split("testserver", 1)[1]


def events(response) -> list:
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content).walk("VEVENT")


def test_a_member_gets_a_secret_url_that_works_without_a_session(as_viewer, manager_membership, client):
    dossier = deployed(manager_membership, age=10)
    url = feed_url(as_viewer.post("/echeances/agenda/"))
    response = client.get(path_of(url))  # no session at all
    assert response.status_code == 200
    [event] = events(response)
    assert dossier.reference in str(event["summary"]) and "VA attendue" in str(event["summary"])
    assert event.decoded("dtstart") == dossier.deployed_on + timedelta(days=30)
    assert str(event["uid"]).endswith("@segurtrack")
    assert str(event["url"]).endswith(f"/dossiers/{dossier.pk}/")
    stored = CalendarFeed.objects.get()
    assert url.rsplit("/", 1)[1].removesuffix(".ics") not in stored.digest
    assert url not in as_viewer.get("/echeances/agenda/").content.decode()  # shown once


def test_regenerating_or_revoking_kills_the_old_url(as_manager, client):
    first = path_of(feed_url(as_manager.post("/echeances/agenda/")))
    second = path_of(feed_url(as_manager.post("/echeances/agenda/")))
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert as_manager.post("/echeances/agenda/revoquer/").status_code == 302
    assert client.get(second).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_an_unknown_key_is_404_and_a_feed_shows_only_its_organisations_deadlines(
        manager_membership, outsider_membership, client):
    ours = deployed(manager_membership, age=10)
    theirs = deployed(outsider_membership, age=10)
    key = calendar.issue_feed(membership=outsider_membership)
    assert client.get("/agenda/pas-une-cle.ics").status_code == 404
    body = client.get(f"/agenda/{key}.ics").content.decode()
    assert theirs.reference in body and ours.reference not in body


def test_a_deactivated_user_feed_is_404(manager_membership, client):
    key = calendar.issue_feed(membership=manager_membership)
    manager_membership.user.is_active = False
    manager_membership.user.save()
    assert client.get(f"/agenda/{key}.ics").status_code == 404


def test_the_page_needs_a_sign_in_and_csrf(client, manager_membership):
    from ..pages.conftest import signed_in

    assert client.get("/echeances/agenda/").status_code == 302
    assert signed_in(manager_membership, enforce_csrf_checks=True).post("/echeances/agenda/").status_code == 403
    assert not CalendarFeed.objects.exists()


def test_the_feed_costs_the_same_for_one_deadline_or_forty(manager_membership, client, django_assert_max_num_queries):
    key = calendar.issue_feed(membership=manager_membership)
    bulk_dossiers(manager_membership, 1, deployed_on=timezone.localdate())
    with django_assert_max_num_queries(3):  # the feed and its member, then the deadlines (one UNION)
        assert len(events(client.get(f"/agenda/{key}.ics"))) == 1
    bulk_dossiers(manager_membership, 39, deployed_on=timezone.localdate())
    with django_assert_max_num_queries(3):
        assert len(events(client.get(f"/agenda/{key}.ics"))) == 40
    assert CalendarFeed.objects.get().digest == feed_digest(key)
