"""Import pages: upload and dry run, the result table, confirmation, progress (htmx polling), history."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from segurtrack.errors import InvalidInput
from dossiers.views.common import member_required, organisation_id
from organisations.models import Role

from . import api, services
from . import columns as c
from .models import ImportJob
from .reading import FileError

PAGE_SIZE = 20
ERRORS_SHOWN = 500


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Fichier CSV ou XLSX"), help_text=gettext_lazy(
        "CSV séparé par « ; » ou « , » (UTF-8, comme Excel l'enregistre en « CSV UTF-8 ») ou classeur XLSX ; "
        "en-têtes de l'export des dossiers ou noms de champs."))


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.select_related("user"), pk=pk, organisation_id=organisation_id(request))


def job_context(job: ImportJob) -> dict:
    errors = [{**error, "label": str(c.BY_NAME[error["column"]].header) if error.get("column") in c.BY_NAME
               else error.get("column", "")} for error in (job.errors or [])[:ERRORS_SHOWN]]
    return {"job": job, "errors": errors, "more_errors": max(0, len(job.errors or []) - ERRORS_SHOWN)}


@require_http_methods(["GET", "POST"])
@member_required(role=Role.MANAGER)
def index(request: HttpRequest) -> HttpResponse:
    """Upload (always a dry run first) and the organisation's import history."""
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = services.start_import(organisation=request.membership.organisation, by=request.user,
                                            upload=form.cleaned_data["file"], dry_run=True)
            except InvalidInput as invalid:
                for messages_ in invalid.errors.values():
                    for message in messages_:
                        form.add_error("file", message)
            else:
                return redirect("imports:detail", pk=job.pk)
        status = 400
    jobs = ImportJob.objects.filter(organisation_id=organisation_id(request)).select_related("user")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "imports/index.html", {"form": form, "page": page, "query": "",
                                                  "columns": c.COLUMNS}, status=status)


@require_GET
@member_required(role=Role.MANAGER)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "imports/detail.html", job_context(_job(request, pk)))


@require_GET
@member_required(role=Role.MANAGER)
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's progress and outcome, polled by htmx while it runs."""
    return render(request, "imports/_job.html", job_context(_job(request, pk)))


@require_POST
@member_required(role=Role.MANAGER)
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a clean dry run's file for real (a new job)."""
    job = _job(request, pk)
    if not job.dry_run or job.status != ImportJob.Status.DONE or job.errors:
        messages.error(request, _("Seule une simulation terminée sans erreur peut être confirmée."))
        return redirect("imports:detail", pk=job.pk)
    real = services.confirm(job, by=request.user)
    if real.status == ImportJob.Status.DONE and not real.errors:
        messages.success(request, _("Import enregistré : %(n)d dossiers créés.") % {"n": real.created_dossiers})
    return redirect("imports:detail", pk=real.pk)


@require_GET
@member_required(role=Role.MANAGER)
def error_report(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        return api.report_response(job)
    except FileError as error:
        messages.error(request, _("Le rapport ne peut pas être produit : %(e)s") % {"e": error})
        return redirect("imports:detail", pk=job.pk)
