"""A client's portability requests and a solution's changes recorded from their pages (their panels and the audit
they show are built with the pages, in `parties`)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from organisations.models import Role
from segurtrack.errors import InvalidInput

from .. import followups
from ..followup_forms import PortabilityRequestForm, SolutionChangeForm
from ..models import Client, PortabilityRequest, Solution, SolutionChange
from .common import member_required, organisation_id
from .parties import (
    client_followup_context,
    render_client,
    render_solution,
    solution_followup_context,
)


def _save(request: HttpRequest, form, save) -> bool:
    if not form.is_valid():
        return False
    try:
        save({name: form.cleaned_data[name] for name in form.Meta.fields})
    except InvalidInput as invalid:
        form.add_service_errors(invalid.errors)
        return False
    return True


def _client_page_again(request: HttpRequest, client: Client, **forms: Any) -> HttpResponse:
    return render_client(request, client, followup=client_followup_context(client, **forms), status=400)


def _solution_page_again(request: HttpRequest, solution: Solution, **forms: Any) -> HttpResponse:
    return render_solution(request, solution.pk, followup=solution_followup_context(solution, **forms), status=400)


def _followup_views(owner_model: type, record_model: type, owner_field: str, record_arg: str, form_class: type,
                    save: Callable, *, page: str, anchor: str, page_again: Callable, added: str, updated: str):
    """The add and edit views of one kind of follow-up record kept on its owner's page (a client's portability
    requests, a solution's changes): both save through the service `save` and go back to the panel `anchor` of
    `page`, or show the page again (400) with the form's errors. `added` and `updated` are lazy messages."""

    @require_POST
    @member_required(role=Role.MANAGER)
    def add(request: HttpRequest, pk: int) -> HttpResponse:
        owner = get_object_or_404(owner_model, pk=pk, organisation_id=organisation_id(request))
        form = form_class(request.POST, prefix="new")
        if _save(request, form, lambda data: save(owner, by=request.user, changes=data)):
            messages.success(request, str(added))
            return redirect(f"{reverse(page, args=[pk])}#{anchor}")
        return page_again(request, owner, form=form)

    @require_POST
    @member_required(role=Role.MANAGER)
    def edit(request: HttpRequest, pk: int) -> HttpResponse:
        existing = get_object_or_404(record_model.objects.select_related(owner_field), pk=pk,
                                     **{f"{owner_field}__organisation_id": organisation_id(request)})
        form = form_class(request.POST, instance=existing, prefix=f"row{pk}")
        owner = getattr(existing, owner_field)
        if _save(request, form, lambda data: save(owner, by=request.user, changes=data,
                                                   **{record_arg: record_model.objects.get(pk=pk)})):
            messages.success(request, str(updated))
            return redirect(f"{reverse(page, args=[owner.pk])}#{anchor}")
        return page_again(request, owner_model.objects.get(pk=owner.pk), bound=form)

    return add, edit


portability_request_add, portability_request_edit = _followup_views(
    Client, PortabilityRequest, "client", "request", PortabilityRequestForm, followups.save_portability_request,
    page="client-edit", anchor="portabilite", page_again=_client_page_again,
    added=gettext_lazy("Demande de portabilité enregistrée."),
    updated=gettext_lazy("Demande de portabilité mise à jour."))

solution_change_add, solution_change_edit = _followup_views(
    Solution, SolutionChange, "solution", "change", SolutionChangeForm, followups.save_solution_change,
    page="solution-detail", anchor="modifications", page_again=_solution_page_again,
    added=gettext_lazy("Modification de la solution enregistrée."),
    updated=gettext_lazy("Suivi de la modification mis à jour."))
