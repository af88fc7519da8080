"""Bulk transitions from the dossier list: a selection, one transition and its payload, a dry run, then apply.

The selection (ids, at most bulk_transitions.MAX_ITEMS) and the payload of the dry run are kept in the session
under a random token, so the apply step runs exactly what was simulated. Every item goes through the service.
"""
from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from faqref.links import guidance_for
from organisations.models import Role

from .. import bulk_transitions as bulk
from .. import queries, rules
from ..forms import DossierFilterForm, PayloadForm
from ..models import TRANSITION_LABELS, Dossier
from ..payloads import PAYLOADS
from segurtrack.errors import InvalidInput
from .common import member_required, organisation_id
from .owner_scope import owner_scope

SESSION_PREFIX = "bulk-"
STATUS_LABELS = {200: gettext_lazy("Accepté"), 400: gettext_lazy("Données invalides"),
                 404: gettext_lazy("Introuvable"), 409: gettext_lazy("Refusé par les règles")}


def _selection(request: HttpRequest, token: str) -> dict[str, Any]:
    selection = request.session.get(SESSION_PREFIX + token) if token else None
    if not selection or selection.get("organisation") != organisation_id(request):
        raise Http404
    return selection


def _new_selection(request: HttpRequest) -> str | None:
    """The list's selection (ticked dossiers, or every dossier the filters match) remembered under a new token;
    None, with a message, when it is empty or too large."""
    org = organisation_id(request)
    if request.GET.get("all"):
        form = DossierFilterForm(request.GET, organisation_id=org)
        ids = list(owner_scope(request).apply(queries.dossier_list(org, **form.params())).values_list(
            "pk", flat=True)[: bulk.MAX_ITEMS + 1])
    else:
        wanted = [int(v) for v in request.GET.getlist("dossier") if v.isdigit()]
        ids = list(Dossier.objects.filter(organisation_id=org, pk__in=wanted).values_list("pk", flat=True))
    if not ids:
        messages.error(request, _("Cochez au moins un dossier, ou « tous les dossiers filtrés »."))
        return None
    if len(ids) > bulk.MAX_ITEMS:
        messages.error(request, _("%(max)d dossiers au plus à la fois : affinez les filtres.") % {"max": bulk.MAX_ITEMS})
        return None
    token = secrets.token_urlsafe(9)
    request.session[SESSION_PREFIX + token] = {"organisation": org, "ids": ids}
    return token


class TransitionChoice(forms.Form):
    transition = forms.ChoiceField(label=gettext_lazy("Transition"), choices=list(TRANSITION_LABELS.items()))


def _dry_run_url(token: str, name: str) -> str:
    return f"{reverse('dossier-bulk-dry-run')}?{urlencode({'token': token, 'transition': name})}"


@require_GET
@member_required(role=Role.MANAGER)
def bulk_form(request: HttpRequest) -> HttpResponse:
    """A new selection from the list, or the one a token names; then the transition, and its payload once."""
    token = request.GET.get("token") or _new_selection(request)
    if token is None:
        return redirect("dossier-list")
    selection = _selection(request, token)
    choice = TransitionChoice(request.GET if "transition" in request.GET else None)
    name = choice.cleaned_data["transition"] if choice.is_valid() else ""
    payload_form = PayloadForm(name, initial=selection.get("payload") if selection.get("transition") == name else None) \
        if name else None
    return render(request, "dossiers/bulk_form.html", {
        "token": token, "count": len(selection["ids"]), "choice": choice, "transition": name,
        "form": payload_form, "url": _dry_run_url(token, name) if name else ""})


def _rows(results: list[bulk.Result]) -> list[dict[str, Any]]:
    """Each result for the page: its dossier, status label, and every refusal with its rule and FAQ guidance."""
    ids = [r.item.dossier for r in results if r.item.dossier]
    references = dict(Dossier.objects.filter(pk__in=ids).values_list("pk", "reference"))
    codes = [f.rule for r in results if r.refused for f in [*r.refused.failures, *r.refused.warnings]]
    codes += [w.rule for r in results if r.outcome for w in r.outcome.warnings]
    guidance = guidance_for(codes)

    def failure(f: rules.Failure) -> dict[str, Any]:
        rule = rules.CATALOGUE.get(f.rule)
        title = rule.title if rule else _("Transition impossible depuis l'état du dossier")
        return {"rule": f.rule, "title": title, "message": f.message, "guidance": guidance.get(f.rule, [])}

    rows = []
    for result in results:
        refused = result.refused
        rows.append({
            "dossier": result.item.dossier, "reference": references.get(result.item.dossier, result.item.reference),
            "row": result.item.row, "status": result.status, "label": STATUS_LABELS[result.status],
            "failures": [failure(f) for f in refused.failures] if refused else [],
            "warnings": [failure(w) for w in (refused.warnings if refused else result.outcome.warnings
                                              if result.outcome else [])],
            "invalid": [f"{field} : {' '.join(m)}" for field, m in result.invalid.items()],
            "state": result.outcome.dossier.get_state_display() if result.outcome else "",
        })
    return rows


def _results_page(request: HttpRequest, results: list[bulk.Result], *, dry_run: bool, token: str = "",
                  transition: str = "") -> HttpResponse:
    rows = _rows(results)
    passed = sum(1 for r in rows if r["status"] == 200)
    return render(request, "dossiers/bulk_results.html", {
        "rows": rows, "passed": passed, "failed": len(rows) - passed, "dry_run": dry_run, "token": token,
        "transition": transition, "transition_label": TRANSITION_LABELS.get(transition, transition)})


@require_POST
@member_required(role=Role.MANAGER)
def bulk_dry_run(request: HttpRequest) -> HttpResponse:
    """The payload run on every dossier of the selection and rolled back: how many would pass, every refusal."""
    token, name = request.GET.get("token", ""), request.GET.get("transition", "")
    selection = _selection(request, token)
    if name not in PAYLOADS:
        raise Http404
    form = PayloadForm(name, request.POST)
    payload = form.payload()
    items = [bulk.Item(pk, name, payload) for pk in selection["ids"]]
    results = bulk.run_bulk(organisation_id=organisation_id(request), by=request.user, items=items, dry_run=True)
    invalid = [r.invalid for r in results if r.status == 400]
    if invalid and len(invalid) == len(results):
        # The one payload is malformed for every dossier: back to the form with the field errors.
        form.set_errors(invalid[0])
        return render(request, "dossiers/bulk_form.html", {
            "token": token, "count": len(selection["ids"]), "choice": TransitionChoice(initial={"transition": name}),
            "transition": name, "form": form, "url": _dry_run_url(token, name)}, status=400)
    request.session[SESSION_PREFIX + token] = {**selection, "transition": name, "payload": payload}
    return _results_page(request, results, dry_run=True, token=token, transition=name)


@require_POST
@member_required(role=Role.MANAGER)
def bulk_apply(request: HttpRequest) -> HttpResponse:
    """Apply the simulated transition and payload: each dossier in its own transaction."""
    token = request.POST.get("token", "")
    selection = _selection(request, token)
    if not selection.get("transition"):
        messages.error(request, _("Simulez d'abord l'action."))
        return redirect(f"{reverse('dossier-bulk')}?{urlencode({'token': token})}")
    items = [bulk.Item(pk, selection["transition"], selection["payload"]) for pk in selection["ids"]]
    results = bulk.run_bulk(organisation_id=organisation_id(request), by=request.user, items=items, dry_run=False)
    request.session.pop(SESSION_PREFIX + token, None)
    return _results_page(request, results, dry_run=False, transition=selection["transition"])


class StatementForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Relevé CSV"), help_text=gettext_lazy(
        "Colonnes « reference », « transition » (ou la transition choisie ci-dessous), puis les données de la "
        "transition (ex. paid_on;amount pour un paiement). Dates JJ/MM/AAAA ou AAAA-MM-JJ, montants 1 234,50."))
    transition = forms.ChoiceField(label=gettext_lazy("Transition (si le fichier n'a pas de colonne « transition »)"),
                                   choices=[("", "—"), *TRANSITION_LABELS.items()], required=False)
    apply = forms.BooleanField(label=gettext_lazy("Appliquer (sinon simulation : rien n'est enregistré)"),
                               required=False)


@require_http_methods(["GET", "POST"])
@member_required(role=Role.MANAGER)
def bulk_statement(request: HttpRequest) -> HttpResponse:
    """An ASP statement (e.g. a payment list) applied in one go: simulated first unless « Appliquer » is ticked."""
    form = StatementForm(request.POST, request.FILES) if request.method == "POST" else StatementForm()
    if request.method == "POST" and form.is_valid():
        try:
            items = bulk.items_from_csv(form.cleaned_data["file"], transition=form.cleaned_data["transition"])
            apply = form.cleaned_data["apply"]
            results = bulk.run_bulk(organisation_id=organisation_id(request), by=request.user, items=items,
                                    dry_run=not apply)
        except InvalidInput as invalid:
            for messages_ in invalid.errors.values():
                for message in messages_:
                    form.add_error("file", message)
        else:
            return _results_page(request, results, dry_run=not apply, transition=form.cleaned_data["transition"])
    return render(request, "dossiers/bulk_statement.html", {"form": form},
                  status=400 if request.method == "POST" else 200)
