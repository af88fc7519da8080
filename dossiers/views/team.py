"""A team's pages: the owner and notes on the dossier page, the list's owner filter, bulk reassignment, activity.

The dossier page shows the team panel through `dossiers.extensions` (registered in `DossiersConfig.ready`); a form
refused here is handed to the panel on `request.team_forms`, so the page is shown again with its errors.
"""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from organisations.models import Role
from segurtrack.errors import InvalidInput

from .. import queries, services
from ..models import Dossier
from ..team_forms import ActivityFilterForm, AssignOwnerForm, NoteForm
from ..queries import EVERYONE
from . import bulk as bulk_views
from .common import member_required, organisation_id, own_dossier
from .dossier_pages import history_items, render_detail

ACTIVITY_PAGE_SIZE = 50


# --- the dossier page's team panel ---------------------------------------------------------------------------------

def team_panel(request: HttpRequest, dossier: Dossier) -> dict[str, Any]:
    """The panel's context: the owner, the reassignment and note forms (one query: the assignable members, without
    whether each owns a dossier: the panel never shows it, and that EXISTS over the dossiers cost ~0.8-1.7 ms a
    page on the 200k set)."""
    members = queries.members_of(dossier.organisation_id, assignable=True, owns=False)
    owner = next((m for m in members if m.pk == dossier.owner_id), None)
    refused = getattr(request, "team_forms", {})
    return {
        "dossier": dossier, "can_act": request.membership.can_act,
        "owner_name": queries.member_name(owner) if owner else "",
        "owner_form": refused.get("owner") or AssignOwnerForm(initial={"owner": dossier.owner_id or ""},
                                                              members=members),
        "note_form": refused.get("note") or NoteForm(),
    }


def _panel_write(request: HttpRequest, pk: int, name: str, form, write, done: str, anchor: str) -> HttpResponse:
    """A form of the team panel posted: `write(dossier_id, cleaned_data)` through the service, then back to the
    dossier page; refused, the page again with the form's errors (400)."""
    dossier = own_dossier(request, pk)
    if form.is_valid():
        try:
            write(dossier.pk, form)
        except InvalidInput as invalid:
            form.add_service_errors(invalid.errors)
        else:
            messages.success(request, done)
            return redirect(f"{reverse('dossier-detail', args=[pk])}#{anchor}")
    request.team_forms = {name: form}
    return render_detail(request, pk, status=400)


@require_POST
@member_required(role=Role.MANAGER)
def dossier_owner(request: HttpRequest, pk: int) -> HttpResponse:
    form = AssignOwnerForm(request.POST, members=queries.members_of(organisation_id(request), assignable=True,
                                                                           owns=False))
    return _panel_write(request, pk, "owner", form, lambda dossier_id, form: services.assign_owner(
        dossier_id, by=request.user, owner_id=form.owner_id()), _("Responsable du dossier enregistré."), "team")


@require_POST
@member_required(role=Role.MANAGER)
def dossier_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _panel_write(request, pk, "note", NoteForm(request.POST), lambda dossier_id, form: services.add_note(
        dossier_id, by=request.user, text=form.cleaned_data["text"]), _("Note ajoutée à l'historique du dossier."),
        "history")


# --- bulk reassignment ---------------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@member_required(role=Role.MANAGER)
def bulk_reassign(request: HttpRequest) -> HttpResponse:
    """The list's selection (the same one « Agir sur la sélection » takes) given to one member, or to nobody."""

    org = organisation_id(request)
    if request.method == "POST":
        token = request.POST.get("token", "")
    else:
        token = request.GET.get("token") or bulk_views._new_selection(request)
        if token is None:
            return redirect("dossier-list")
    selection = bulk_views._selection(request, token)
    form = AssignOwnerForm(request.POST if request.method == "POST" else None,
                           members=queries.members_of(org, assignable=True))
    if form.is_valid():
        try:
            count = services.assign_owner_many(org, selection["ids"], by=request.user, owner_id=form.owner_id())
        except InvalidInput as invalid:
            form.add_service_errors(invalid.errors)
        else:
            request.session.pop(bulk_views.SESSION_PREFIX + token, None)
            messages.success(request, ngettext("%(count)d dossier réassigné.", "%(count)d dossiers réassignés.",
                                               count) % {"count": count})
            return redirect(f"{reverse('dossier-list')}?owner={EVERYONE}")
    return render(request, "dossiers/bulk_reassign.html", {"token": token, "count": len(selection["ids"]),
                                                           "form": form}, status=400 if form.errors else 200)


# --- activity ------------------------------------------------------------------------------------------------------

@require_GET
@member_required
def activity(request: HttpRequest) -> HttpResponse:
    """Who did what in the organisation: every history row, by person, dossier and period, newest first."""

    org = organisation_id(request)
    form = ActivityFilterForm(request.GET or None, members=queries.members_of(org))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {"form": form, "query": query.urlencode(), "page": None, "items": []}
    if form.is_bound and not form.is_valid():
        return render(request, "dossiers/activity.html", context, status=400)
    rows = queries.activity(org, **(form.filters() if form.is_bound else {}))
    page = Paginator(rows, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(page=page, items=history_items(list(reversed(page.object_list))))
    return render(request, "dossiers/activity.html", context)
