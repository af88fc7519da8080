"""Clients and solutions (with their PV pilotes): lists and forms, written through the services."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from organisations.models import Role

from .. import audit, queries, services
from ..followup_forms import PortabilityRequestForm, SolutionChangeForm, edit_forms
from ..identifiers import validate_finess, validate_siret
from ..models import AuditEntry, Client, PvPilote, Solution
from ..party_forms import IDENTIFIER_FIELDS, ClientForm, PvPiloteForm, SolutionForm
from segurtrack.errors import InvalidInput
from .common import member_required, organisation_id, require_can_act


# --- the follow-up panels of the client and solution pages (portability requests, changes, audit) ---------------

def audit_rows(**subject: Any) -> list[dict[str, Any]]:
    """The subject's audit entries, newest first, with French labels and values (one query)."""
    entries = AuditEntry.objects.filter(**subject).select_related("user").order_by("-at", "-id")
    return [{"entry": entry, "changes": audit.describe(entry)} for entry in entries]


def client_followup_context(client: Client, *, form: PortabilityRequestForm | None = None,
                            bound: PortabilityRequestForm | None = None) -> dict[str, Any]:
    if client.pk is None:
        return {}
    requests = list(client.portability_requests.order_by("-requested_on", "-id"))
    return {
        "portability_rows": edit_forms(PortabilityRequestForm, requests, bound),
        "portability_form": form or PortabilityRequestForm(prefix="new"),
        "audit_rows": audit_rows(client=client),
    }


def solution_followup_context(solution: Solution, *, form: SolutionChangeForm | None = None,
                              bound: SolutionChangeForm | None = None) -> dict[str, Any]:
    changes = list(solution.changes.order_by("-changed_on", "-id"))
    return {
        "change_rows": edit_forms(SolutionChangeForm, changes, bound),
        "change_form": form or SolutionChangeForm(prefix="new"),
        "audit_rows": audit_rows(solution=solution),
    }


PAGE_SIZE = 30
CHECKS = {"finess_geo": validate_finess, "finess_legal": validate_finess, "siret": validate_siret}


# --- clients -----------------------------------------------------------------------------------------------------

@require_GET
@member_required
def client_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    page = Paginator(queries.clients_of(organisation_id(request), q), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dossiers/clients.html", {"page": page, "q": q})


def _client_page(request: HttpRequest, client: Client) -> HttpResponse:
    can_act = request.membership.can_act
    form = ClientForm(request.POST if request.method == "POST" else None, instance=client,
                      check_url=reverse("client-identifier-check") if can_act else "")
    if not can_act:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.save_client(form.save(commit=False), by=request.user)
        except InvalidInput as invalid:
            form.add_service_errors(invalid.errors)
        else:
            messages.success(request, _("Client « %(name)s » enregistré.") % {"name": client.name})
            return redirect("client-edit", pk=client.pk)
    if form.errors and client.pk is not None:
        client = Client.objects.get(pk=client.pk)  # the follow-up sections show the client as saved
    return render_client(request, client, form=form, status=400 if form.errors else 200)


def render_client(request: HttpRequest, client: Client, *, form: ClientForm | None = None,
                  followup: dict | None = None, status: int = 200) -> HttpResponse:
    """The client's form, its portability requests and the audit of its changes."""
    can_act = request.membership.can_act
    if form is None:
        form = ClientForm(instance=client, check_url=reverse("client-identifier-check") if can_act else "")
        if not can_act:
            for field in form.fields.values():
                field.disabled = True
    context = {"form": form, "client": client, "can_act": can_act}
    context.update(client_followup_context(client) if followup is None else followup)
    context.update(queries.client_page(client))  # its dossiers, a FINESS of another department (issue 16)
    return render(request, "dossiers/client_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@member_required(role=Role.MANAGER)
def client_create(request: HttpRequest) -> HttpResponse:
    return _client_page(request, Client(organisation=request.membership.organisation))


@require_http_methods(["GET", "POST"])
@member_required
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk, organisation_id=organisation_id(request))
    if request.method == "POST":
        require_can_act(request)
    return _client_page(request, client)


@require_GET
@member_required
def client_identifier_check(request: HttpRequest) -> HttpResponse:
    """As-you-type check of a FINESS or SIRET (htmx): the field's message, error or OK, as a small fragment."""
    name = next((n for n in IDENTIFIER_FIELDS if n in request.GET), None)
    if name is None:
        return HttpResponse(status=400)
    value = request.GET[name].strip()
    context = {"ok": False, "message": ""}
    if value:
        try:
            context = {"ok": True, "message": _("%(value)s : numéro valide.") % {"value": CHECKS[name](value)}}
        except ValidationError as error:
            context = {"ok": False, "message": " ".join(error.messages)}
    return render(request, "dossiers/_identifier_check.html", context)


# --- solutions and PV pilotes -------------------------------------------------------------------------------------

@require_GET
@member_required
def solution_list(request: HttpRequest) -> HttpResponse:
    return render(request, "dossiers/solutions.html", {"solutions": queries.solutions_of(organisation_id(request))})


def _save_solution(request: HttpRequest, form: SolutionForm) -> Solution | None:
    if not form.is_valid():
        return None
    try:
        return services.save_solution(form.save(commit=False), by=request.user)
    except InvalidInput as invalid:
        form.add_service_errors(invalid.errors)
        return None


@require_http_methods(["GET", "POST"])
@member_required(role=Role.MANAGER)
def solution_create(request: HttpRequest) -> HttpResponse:
    form = SolutionForm(request.POST or None, instance=Solution(organisation=request.membership.organisation))
    if request.method == "POST":
        solution = _save_solution(request, form)
        if solution is not None:
            messages.success(request, _("Solution « %(name)s » enregistrée.") % {"name": solution})
            return redirect("solution-detail", pk=solution.pk)
    return render(request, "dossiers/solution_form.html", {"form": form}, status=400 if form.errors else 200)


def render_solution(request: HttpRequest, pk: int, *, form: SolutionForm | None = None,
                    pv_form: PvPiloteForm | None = None, status: int = 200, followup: dict | None = None) -> HttpResponse:
    solution = queries.solution_detail(organisation_id(request), pk)
    can_act = request.membership.can_act
    form = form or SolutionForm(instance=solution)
    if not can_act:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "dossiers/solution_detail.html", {
        "solution": solution, "form": form, "can_act": can_act, "pv_pilotes": solution.pv_rows,
        "pv_form": pv_form or PvPiloteForm(initial={"signed_on": queries.today()}),
        **(solution_followup_context(solution) if followup is None else followup),
    }, status=status)


@require_http_methods(["GET", "POST"])
@member_required
def solution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The solution's form and its PV pilotes; POST (managers) saves the solution."""
    if request.method == "GET":
        return render_solution(request, pk)
    solution = get_object_or_404(Solution, pk=pk, organisation_id=organisation_id(request))
    require_can_act(request)
    form = SolutionForm(request.POST, instance=solution)
    if _save_solution(request, form) is not None:
        messages.success(request, _("Solution « %(name)s » enregistrée.") % {"name": solution})
        return redirect("solution-detail", pk=pk)
    return render_solution(request, pk, form=form, status=400)


@require_POST
@member_required(role=Role.MANAGER)
def pv_pilote_upload(request: HttpRequest, pk: int) -> HttpResponse:
    solution = get_object_or_404(Solution, pk=pk, organisation_id=organisation_id(request))
    form = PvPiloteForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_pv_pilote(solution, by=request.user, signed_on=form.cleaned_data["signed_on"],
                                   status=form.cleaned_data["status"], upload=form.cleaned_data["file"])
        except InvalidInput as invalid:
            form.add_service_errors(invalid.errors)
        else:
            messages.success(request, _("PV pilote ajouté."))
            return redirect(f"{reverse('solution-detail', args=[pk])}#pv-pilotes")
    return render_solution(request, pk, pv_form=form, status=400)


@require_POST
@member_required(role=Role.MANAGER)
def pv_pilote_status(request: HttpRequest, pk: int) -> HttpResponse:
    pv = get_object_or_404(PvPilote.objects.select_related("solution"), pk=pk,
                           solution__organisation_id=organisation_id(request))
    status = request.POST.get("status", "")
    try:
        services.set_pv_pilote_status(pv, by=request.user, status=status)
    except InvalidInput as invalid:
        for messages_ in invalid.errors.values():
            for message in messages_:
                messages.error(request, message)
    else:
        messages.success(request, _("PV pilote : statut « %(status)s ».") % {"status": PvPilote.Status(status).label})
    return redirect(f"{reverse('solution-detail', args=[pv.solution_id])}#pv-pilotes")
