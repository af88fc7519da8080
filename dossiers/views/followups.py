"""A client's portability requests and a solution's changes recorded from their pages (their panels and the audit
they show are built with the pages, in `parties`)."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organisations.models import Role

from .. import followups
from ..followup_forms import PortabilityRequestForm, SolutionChangeForm
from ..models import Client, PortabilityRequest, Solution, SolutionChange
from segurtrack.errors import InvalidInput
from .common import member_required, organisation_id
from .parties import client_followup_context, render_client, render_solution, solution_followup_context


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


@require_POST
@member_required(role=Role.MANAGER)
def portability_request_add(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk, organisation_id=organisation_id(request))
    form = PortabilityRequestForm(request.POST, prefix="new")
    if _save(request, form, lambda data: followups.save_portability_request(client, by=request.user, changes=data)):
        messages.success(request, _("Demande de portabilité enregistrée."))
        return redirect(f"{reverse('client-edit', args=[pk])}#portabilite")
    return _client_page_again(request, client, form=form)


@require_POST
@member_required(role=Role.MANAGER)
def portability_request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    existing = get_object_or_404(PortabilityRequest.objects.select_related("client"), pk=pk,
                                 client__organisation_id=organisation_id(request))
    form = PortabilityRequestForm(request.POST, instance=existing, prefix=f"row{pk}")
    client = existing.client
    if _save(request, form, lambda data: followups.save_portability_request(
            client, by=request.user, request=PortabilityRequest.objects.get(pk=pk), changes=data)):
        messages.success(request, _("Demande de portabilité mise à jour."))
        return redirect(f"{reverse('client-edit', args=[client.pk])}#portabilite")
    return _client_page_again(request, Client.objects.get(pk=client.pk), bound=form)


def _solution_page_again(request: HttpRequest, solution: Solution, **forms: Any) -> HttpResponse:
    return render_solution(request, solution.pk, followup=solution_followup_context(solution, **forms), status=400)


@require_POST
@member_required(role=Role.MANAGER)
def solution_change_add(request: HttpRequest, pk: int) -> HttpResponse:
    solution = get_object_or_404(Solution, pk=pk, organisation_id=organisation_id(request))
    form = SolutionChangeForm(request.POST, prefix="new")
    if _save(request, form, lambda data: followups.save_solution_change(solution, by=request.user, changes=data)):
        messages.success(request, _("Modification de la solution enregistrée."))
        return redirect(f"{reverse('solution-detail', args=[pk])}#modifications")
    return _solution_page_again(request, solution, form=form)


@require_POST
@member_required(role=Role.MANAGER)
def solution_change_edit(request: HttpRequest, pk: int) -> HttpResponse:
    existing = get_object_or_404(SolutionChange.objects.select_related("solution"), pk=pk,
                                 solution__organisation_id=organisation_id(request))
    form = SolutionChangeForm(request.POST, instance=existing, prefix=f"row{pk}")
    solution = existing.solution
    if _save(request, form, lambda data: followups.save_solution_change(
            solution, by=request.user, change=SolutionChange.objects.get(pk=pk), changes=data)):
        messages.success(request, _("Suivi de la modification mis à jour."))
        return redirect(f"{reverse('solution-detail', args=[solution.pk])}#modifications")
    return _solution_page_again(request, solution, bound=form)
