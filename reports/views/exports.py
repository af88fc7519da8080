"""Page exports: what a member sees, as CSV or XLSX, with the page's own filters (any member: exporting only reads).

The dossier list's export runs the list page's own reads (`DossierFilterForm`, the owner filter, its sort) and the
deadlines' export the deadlines page's filter check; the pipeline and pending-VA pages link to the API's exports,
which the session signs in to. Every file is streamed as it is written, whatever its size: the dossier list's XLSX
has its cells written by the database (`generators.SqlReport`), a few times a COPY of its rows (docs/benchmarks.md,
"Exports"), so no list is large enough to need a background job from the page (the export jobs stay, for the API).
Filters the page would refuse answer 400 with the form and its French errors, and no file.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dossiers import queries
from dossiers.forms import DossierFilterForm
from dossiers.views.common import member_required, organisation_id
from dossiers.views.owner_scope import owner_scope

from .. import exports, generators
from .reports import deadline_filters


def _filename(report: generators.Report, fmt: str) -> str:
    return f"{report.stem}-{timezone.localdate():%Y%m%d}.{fmt}"


def _refused(request: HttpRequest, forms: list[Any], *, back: str) -> HttpResponse:
    """The filters as a form to correct, with their errors, and no file (400)."""
    query = request.GET.urlencode()
    return render(request, "reports/export_refused.html", {
        "forms": forms, "fields": [field for form in forms for field in form],
        "back": f"{back}?{query}" if query else back,
    }, status=400)


@require_GET
@member_required
def dossier_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The dossier list as the page shows it: its filters, its owner filter (« mes dossiers » by default) and sort."""
    org = organisation_id(request)
    form = DossierFilterForm(request.GET or None, organisation_id=org)
    owner = owner_scope(request)
    refused = [f for f in (form, owner.form) if f.is_bound and not f.is_valid()]
    if refused:
        return _refused(request, [form, owner.form], back=reverse("dossier-list"))
    # The list page's own query (its filters, owner and sort).
    listed = owner.apply(queries.dossier_list(org, **form.params()))
    report = generators.DossierListReport(org, {}, queryset=listed)
    return exports.download(report, fmt, filename=_filename(report, fmt))


@require_GET
@member_required
def deadlines_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The deadlines page's rows (its kind and date filters), soonest first."""
    form, filters = deadline_filters(request)
    if filters is None:
        return _refused(request, [form], back=reverse("deadlines"))
    report = generators.DeadlinesReport(request.membership.organisation, **filters)
    return exports.download(report, fmt, filename=_filename(report, fmt))

