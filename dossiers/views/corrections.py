"""Correction pages: a step's recorded data, a document replaced or withdrawn, the solde draft deleted (through
`dossiers.services.corrections`; bad input is a 400 with the fields' errors, a refusal a 409 saying why)."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from organisations.models import Role

from .. import queries, services
from ..correction_forms import ConfirmForm, CorrectionForm, ReplaceDocumentForm
from ..models import TRANSITION_LABELS, Document, Dossier
from ..timeline import display_value, field_label
from .common import member_required, organisation_id


def _dossier(request: HttpRequest, pk: int) -> Dossier:
    """The whole dossier row (what the corrections compare and pre-fill), 404 outside the organisation."""
    return get_object_or_404(queries.dossiers_of(organisation_id(request)), pk=pk)


def _document(request: HttpRequest, pk: int) -> Document:
    """The document with its dossier, 404 outside the organisation."""
    return get_object_or_404(Document.objects.select_related("dossier"), pk=pk,
                             organisation_id=organisation_id(request))


def _back(dossier_id: int, anchor: str) -> str:
    return f"{reverse('dossier-detail', args=[dossier_id])}#{anchor}"


@require_http_methods(["GET", "POST"])
@member_required(role=Role.MANAGER)
def correct_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """GET: the step's recorded values in its form (or why they may not change). POST: the correction."""
    if step not in services.CORRECTABLE_STEPS:
        raise Http404
    dossier = _dossier(request, pk)
    posted = request.POST if request.method == "POST" else None
    form = CorrectionForm(step, posted, initial=services.current_values(dossier, step))
    status = 200
    if request.method == "POST":
        outcome, status = form.submit(lambda _data: services.correct_step(
            dossier.pk, by=request.user, step=step, changes=form.payload()))
        if status == 200:
            messages.success(request, _("« %(step)s » corrigée ; la correction figure dans l'historique.") % {
                "step": TRANSITION_LABELS[step]})
            for warning in outcome.warnings:
                messages.warning(request, f"{warning.message} ({warning.rule})")
            return redirect(_back(dossier.pk, "history"))
    return render(request, "dossiers/correct_step.html", {
        "dossier": dossier, "form": form, "step_label": TRANSITION_LABELS[step],
        "refusal": services.step_refusal(dossier, step) if request.method == "GET" else None,
    }, status=status)


@require_http_methods(["GET", "POST"])
@member_required(role=Role.MANAGER)
def replace_document(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the upload form for a new file (or why the document may not change). POST: the replacement."""
    document = _document(request, pk)
    form = ReplaceDocumentForm(request.POST, request.FILES) if request.method == "POST" else ReplaceDocumentForm()
    status = 200
    if request.method == "POST":
        replaced, status = form.submit(lambda data: services.replace_document(
            document.pk, by=request.user, upload=data["file"]))
        if status == 200:
            messages.success(request, _("Document « %(name)s » remplacé par « %(new)s ».") % {
                "name": document.filename, "new": replaced.filename})
            return redirect(_back(document.dossier_id, "documents"))
    return render(request, "dossiers/correct_document.html", {
        "document": document, "dossier": document.dossier, "form": form,
        "refusal": services.document_refusal(document.dossier, document.kind) if request.method == "GET" else None,
    }, status=status)


@require_http_methods(["GET", "POST"])
@member_required(role=Role.MANAGER)
def withdraw_document(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation (or why the document may not be withdrawn). POST: the withdrawal."""
    document = _document(request, pk)
    form = ConfirmForm(request.POST) if request.method == "POST" else ConfirmForm()
    status = 200
    if request.method == "POST":
        _withdrawn, status = form.submit(lambda _data: services.withdraw_document(document.pk, by=request.user))
        if status == 200:
            messages.success(request, _("Document « %(name)s » retiré.") % {"name": document.filename})
            return redirect(_back(document.dossier_id, "documents"))
    return render(request, "dossiers/correct_withdraw.html", {
        "document": document, "dossier": document.dossier, "form": form,
        "refusal": services.document_refusal(document.dossier, document.kind) if request.method == "GET" else None,
    }, status=status)


@require_http_methods(["GET", "POST"])
@member_required(role=Role.MANAGER)
def clear_solde_draft(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation, with the invoice data that will go (or why it stays). POST: the deletion."""
    dossier = _dossier(request, pk)
    form = ConfirmForm(request.POST) if request.method == "POST" else ConfirmForm()
    status = 200
    if request.method == "POST":
        _cleared, status = form.submit(lambda _data: services.clear_solde_draft(dossier.pk, by=request.user))
        if status == 200:
            messages.success(request, _("Données de facture supprimées."))
            return redirect(_back(dossier.pk, "history"))
    draft = [(field_label("change_solde_draft", key), display_value("change_solde_draft", key, value))
             for key, value in (dossier.solde_draft or {}).items()]
    return render(request, "dossiers/correct_draft.html", {
        "dossier": dossier, "form": form, "draft": draft,
        "refusal": services.draft_refusal(dossier) if request.method == "GET" else None,
    }, status=status)
