"""Calendar feeds: a member's secret URL serving the organisation's deadlines as iCalendar (the `icalendar` library)."""
from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from organisations.models import Membership

from .deadlines import deadlines_for, due_date
from .models import CalendarFeed, feed_digest

PRODUCT_ID = "-//segurtrack//Échéances Ségur//FR"


def feed_of(membership: Membership) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(membership=membership).first()


def issue_feed(*, membership: Membership) -> str:
    """A new secret key for the member's feed (the previous URL stops working); returned once, stored hashed."""
    key = CalendarFeed.new_key()
    with transaction.atomic():
        CalendarFeed.objects.update_or_create(membership=membership, defaults={"digest": feed_digest(key)})
    return key


def revoke_feed(*, membership: Membership) -> bool:
    deleted, _ = CalendarFeed.objects.filter(membership=membership).delete()
    return bool(deleted)


def membership_for_key(key: str) -> Membership | None:
    """The membership whose feed this key opens (an active user's), else None."""
    feed = CalendarFeed.objects.select_related("membership__organisation", "membership__user").filter(
        digest=feed_digest(key)).first()
    if feed is None or not feed.membership.user.is_active:
        return None
    return feed.membership


def build_calendar(membership: Membership, *, base_url: str) -> bytes:
    """The organisation's deadlines as all-day events, each with a stable UID so calendars update them in place."""
    organisation = membership.organisation
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Échéances Ségur — %(org)s") % {"org": organisation.name})
    calendar.add("x-wr-timezone", "Europe/Paris")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = timezone.now()
    for deadline in deadlines_for(organisation):
        due = due_date(deadline)
        subject = deadline["reference"] or deadline["client"] or deadline["solution"] or ""
        event = Event()
        event.add("uid", f"{deadline['kind']}-{deadline['dossier'] or 0}-{deadline['object_id'] or 0}"
                         f"-{organisation.pk}@segurtrack")
        event.add("dtstamp", stamp)
        event.add("dtstart", due)
        event.add("dtend", due + timedelta(days=1))
        event.add("summary", f"{deadline['label']} — {subject}" if subject else deadline["label"])
        details = [part for part in (deadline["client"], deadline["solution"]) if part]
        event.add("description", "\n".join(details))
        if deadline["dossier"]:
            event.add("url", base_url.rstrip("/") + reverse("dossier-detail", args=[deadline["dossier"]]))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
