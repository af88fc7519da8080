"""The pre-solde checklist page: rules, documents in place, invoice data, filing, and the solde request JSON."""
from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from organisations.models import Role

from .. import queries, services, solde_json
from ..checklist import Checklist, checklist_for
from ..forms import DocumentForm, SoldeDraftForm, SoldeFilingForm
from ..models import DocumentKind, Dossier
from ..rules import Severity
from ..services import RulesFailed
from segurtrack.errors import InvalidInput
from .checklist_rows import checklist_rows
from .common import announce_transition, member_required, organisation_id, own_dossier, require_can_act

# Rules whose missing document can be uploaded right beside them.
UPLOAD_FOR_RULE = {"solde.invoice_document": DocumentKind.INVOICE, "solde.vat_exemption": DocumentKind.VAT_EXEMPTION}


def _json_preview(checklist: Checklist) -> tuple[str, list]:
    try:
        document = solde_json.build(checklist.dossier, checklist)
    except RulesFailed as refused:
        return "", refused.failures
    return json.dumps(document, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder), []


def _with_guidance(checklist: Checklist) -> list[queries.RuleOutcome]:
    """The checklist's items as the page shows them, each with its FAQ guidance."""
    links = queries.guidance(item.rule.code for item in checklist.items)
    return [queries.RuleOutcome(item.rule.code, str(item.rule.title), item.rule.severity.value, item.status,
                                  item.message, links.get(item.rule.code, []))
            for item in checklist.items]


def solde_context(request: HttpRequest, dossier: Dossier, *, draft_form: SoldeDraftForm | None = None,
                  filing_form: SoldeFilingForm | None = None, upload_forms: dict[str, DocumentForm] | None = None,
                  refusal: list | None = None) -> dict[str, Any]:
    checklist = checklist_for(dossier)
    items = _with_guidance(checklist)
    upload_forms = upload_forms or {}
    kinds_present = {document.kind for document in dossier.document_rows}
    rows = []
    for item in items:
        kind = UPLOAD_FOR_RULE.get(item.rule)
        needs_upload = kind and (kind == DocumentKind.INVOICE or not dossier.client.vat_liable)
        rows.append({"item": item, "upload_kind": kind if needs_upload else None,
                     "upload_form": upload_forms.get(kind) or DocumentForm(kinds=[kind])
                     if needs_upload else None,
                     "has_document": kind in kinds_present if kind else False})
    blocking_open = [i for i in items if i.severity == Severity.BLOCK.value and i.status != "ok"]
    preview, not_ready = _json_preview(checklist)
    return {
        "dossier": dossier, "client": dossier.client, "solution": dossier.solution,
        "can_act": request.membership.can_act, "rows": rows, "counts": checklist.counts,
        "checklist_rows": checklist_rows(request, rows, dossier=dossier, solution=dossier.solution,
                                         can_act=request.membership.can_act, filing=checklist.filing),
        "ready": checklist.filing and not blocking_open, "filing": checklist.filing, "filed": checklist.filed,
        "blocking_open": blocking_open,
        "draft_form": draft_form or SoldeDraftForm(initial=dossier.solde_draft or {}),
        "filing_form": filing_form or SoldeFilingForm(initial={"filed_on": queries.today()}),
        "refusal": refusal,
        "documents": dossier.document_rows,
        "preview": preview, "not_ready": not_ready,
    }


def render_solde(request: HttpRequest, pk: int, *, status: int = 200, **overrides) -> HttpResponse:
    dossier = queries.dossier_for_solde(organisation_id(request), pk)
    return render(request, "dossiers/solde.html", solde_context(request, dossier, **overrides), status=status)


@require_http_methods(["GET", "POST"])
@member_required
def solde_checklist(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the checklist. POST (managers): save the typed invoice data as the solde draft."""
    if request.method == "GET":
        return render_solde(request, pk)
    require_can_act(request)
    dossier = own_dossier(request, pk)
    form = SoldeDraftForm(request.POST)
    try:
        services.update_dossier(dossier.pk, by=request.user, changes={"solde_draft": form.payload()})
    except InvalidInput as invalid:
        form.set_errors(invalid.errors)
        return render_solde(request, pk, draft_form=form, status=400)
    messages.success(request, _("Données de facture enregistrées ; la liste de contrôle est à jour."))
    return redirect(reverse("dossier-solde", args=[pk]))


@require_POST
@member_required(role=Role.MANAGER)
def solde_file(request: HttpRequest, pk: int) -> HttpResponse:
    """File the solde: the saved draft plus the filing date, through the service (rules checked again)."""
    dossier = own_dossier(request, pk)
    form = SoldeFilingForm(request.POST)
    current = Dossier.objects.only("solde_draft").get(pk=dossier.pk)
    data = {**(current.solde_draft or {}), **form.payload()}
    try:
        outcome = services.run_transition(dossier.pk, "file_solde", by=request.user, data=data)
    except RulesFailed as refused:
        return render_solde(request, pk, filing_form=form, refusal=queries.with_guidance(refused.failures),
                            status=409)
    except InvalidInput as invalid:
        form.set_errors(invalid.errors)
        return render_solde(request, pk, filing_form=form, status=400)
    announce_transition(request, outcome, "file_solde")
    return redirect(reverse("dossier-solde", args=[pk]))


@require_GET
@member_required
def solde_json_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The solde request JSON as an attachment; while not ready, a 409 page saying what is missing."""
    dossier = queries.dossier_for_solde(organisation_id(request), pk)
    try:
        document = solde_json.build(dossier)
    except RulesFailed as refused:
        return render(request, "dossiers/solde_not_ready.html", {
            "dossier": dossier, "failures": queries.with_guidance(refused.failures)}, status=409)
    body = json.dumps(document, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = services.sanitise_filename(f"solde-{dossier.reference or dossier.pk}.json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
