"""The member's in-app notifications (of the current organisation): the list, mark all as read, the unread badge.

The unread count in the navigation is loaded by htmx from `notifications_unread` once each page has loaded:
no query is added to the pages themselves.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from ..models import Notification
from .common import member_required, organisation_id

PAGE_SIZE = 25


def _mine(request: HttpRequest):
    return Notification.objects.filter(user=request.user, organisation_id=organisation_id(request))


@require_GET
@member_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = _mine(request).select_related("dossier").order_by("-created_at", "-id")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    unread = _mine(request).filter(read_at__isnull=True).count()
    return render(request, "dossiers/notifications.html", {"page": page, "unread": unread})


@require_POST
@member_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every unread notification of this member (in this organisation) as read: their own data, any role."""
    count = _mine(request).filter(read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, ngettext("%(count)d notification marquée comme lue.",
                                       "%(count)d notifications marquées comme lues.", count) % {"count": count})
    return redirect("notifications")


@require_GET
@member_required
def notifications_unread(request: HttpRequest) -> HttpResponse:
    """The unread badge of the navigation (an htmx fragment)."""
    return render(request, "dossiers/_unread_badge.html",
                  {"unread": _mine(request).filter(read_at__isnull=True).count()})
