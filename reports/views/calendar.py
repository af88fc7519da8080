"""The calendar feed (no session: the secret URL is the credential) and the page that gives its address."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from organisations.decorators import member_required

from .. import calendar


@never_cache
@require_GET
def calendar_feed(request: HttpRequest, key: str) -> HttpResponse:
    """The iCalendar feed; an unknown, regenerated or revoked key answers 404 like any missing page."""
    membership = calendar.membership_for_key(key)
    if membership is None:
        raise Http404()
    body = calendar.build_calendar(membership, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="echeances-segur.ics"'
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["GET", "POST"])
@member_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    """Whether the member has a feed; POST creates or regenerates it and shows the address, once."""
    url = None
    if request.method == "POST":
        key = calendar.issue_feed(membership=request.membership)
        url = request.build_absolute_uri(reverse("calendar-feed", args=[key]))
    return render(request, "reports/calendar.html", {"feed": calendar.feed_of(request.membership), "url": url})


@require_POST
@member_required
def calendar_revoke(request: HttpRequest) -> HttpResponse:
    if calendar.revoke_feed(membership=request.membership):
        messages.success(request, _("Adresse d'agenda révoquée : les agendas abonnés ne la liront plus."))
    return redirect("calendar")
