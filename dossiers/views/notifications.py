"""The member's in-app notifications (of the current organisation): the list grouped by dossier, opening one (marks
it read), mark all as read, the unread badge, and the preferences (how each kind is told).

Only the notifications since the member joined the organisation, of the kinds they want told in the application,
are shown and counted (`dossiers.queries.notifications_of`). The unread count in the navigation is loaded by
htmx from `notifications_unread` once each page has loaded: no query is added to the pages themselves.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from segurtrack.errors import InvalidInput

from .. import queries, services
from ..team_forms import NotificationPreferencesForm
from .common import member_required

PAGE_SIZE = 25


@require_GET
@member_required
def notification_list(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    notifications = queries.notifications_of(membership).select_related("dossier").order_by("-created_at", "-id")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dossiers/notifications.html", {
        "page": page, "groups": queries.grouped_by_dossier(list(page.object_list)),
        "unread": queries.unread_count(membership)})


@require_GET
@member_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Opening a notification marks it read, then shows what it is about: its dossier, else the list."""
    notification = get_object_or_404(queries.notifications_of(request.membership), pk=pk)
    services.mark_read(notification, by=request.user)
    if notification.dossier_id:
        return redirect("dossier-detail", pk=notification.dossier_id)
    return redirect("notifications")


@require_POST
@member_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every unread notification of this member (in this organisation) as read: their own data, any role."""
    count = services.mark_all_read(request.membership, by=request.user)
    messages.success(request, ngettext("%(count)d notification marquée comme lue.",
                                       "%(count)d notifications marquées comme lues.", count) % {"count": count})
    return redirect("notifications")


@require_GET
@member_required
def notifications_unread(request: HttpRequest) -> HttpResponse:
    """The unread badge of the navigation (an htmx fragment)."""
    return render(request, "dossiers/_unread_badge.html", {"unread": queries.unread_count(request.membership)})


@require_http_methods(["GET", "POST"])
@member_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """Each member chooses, per kind, to be told in the application, in the daily digest, or not at all."""
    membership = request.membership
    if request.method == "POST":
        form = NotificationPreferencesForm(request.POST)
        if form.is_valid():
            try:
                services.set_notification_preferences(membership, by=request.user, channels=dict(form.cleaned_data))
            except InvalidInput as invalid:
                form.add_service_errors(invalid.errors)
            else:
                messages.success(request, _("Vos préférences de notification sont enregistrées."))
                return redirect(reverse("notification-preferences"))
    else:
        form = NotificationPreferencesForm(initial=queries.channels_of(membership))
    return render(request, "dossiers/notification_preferences.html", {"form": form},
                  status=400 if form.errors else 200)
