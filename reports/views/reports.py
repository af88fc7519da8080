"""Report pages: deadlines, pending VA (with exports and background export jobs), pipeline.

Thin pages over the report objects (`reports.generators`): the page is the report's HTML formatter, the API and the
export jobs its CSV and XLSX ones. Parameters are validated like the API (`reports.api.params`): the same
definitions, so a parameter the API refuses is refused here too (400, French). Every page answers in a fixed number
of queries whatever the data size (charts are built from the aggregates).
"""
from __future__ import annotations

from functools import wraps
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dossiers.extensions import PENDING_VA_FIGURES
from dossiers.rules import money
from dossiers.views.common import member_required, organisation_id

from .. import generators, services
from ..api.params import DeadlineFilterSerializer, ExportJobCreateSerializer, ReportFilterSerializer
from ..charts import bar_chart, column_chart
from ..forms import DeadlineFilterForm, ReportFilterForm
from ..models import ExportJob
from .deadline_rows import deadline_rows
from .pending_va_rows import pending_va_rows
from .pipeline_rows import chart_bars, state_rows


def report_reader_required(view):
    """Members, and platform staff even without a membership: staff see every organisation (as the API's
    ReportReader); anyone else gets what `member_required` answers."""
    guarded = member_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.user.is_staff and not request.membership:
            return view(request, *args, **kwargs)
        return guarded(request, *args, **kwargs)
    return wrapper


def _own_organisation_id(request: HttpRequest) -> int | None:
    """The member's organisation; None for staff without a membership."""
    return request.membership.organisation_id if request.membership else None


PAGE_SIZE = 25
REPORT_FILTER_NAMES = frozenset(ReportFilterSerializer().fields)
DEADLINE_PAGE_SIZE = 50


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _errors_of(serializer_errors: dict[str, Any]) -> dict[str, list[str]]:
    return {name: [str(message) for message in (messages if isinstance(messages, list) else [messages])]
            for name, messages in serializer_errors.items()}


def _report_form(request: HttpRequest) -> tuple[ReportFilterForm, dict[str, Any] | None]:
    """The bound filter form and its filters, or None with the form's errors (types checked as the API does)."""
    staff = request.user.is_staff
    data = request.GET.copy()
    if not staff:
        data.pop("organisation", None)
    form = ReportFilterForm(data, organisation_id=_own_organisation_id(request), staff=staff)
    # Every parameter is optional: a page asked without any has nothing for the API's check to refuse.
    given = {k: v for k, v in data.items() if k in REPORT_FILTER_NAMES}
    api_check = ReportFilterSerializer(data=given) if given else None
    api_errors = {} if api_check is None or api_check.is_valid() else _errors_of(api_check.errors)
    valid = form.is_valid()
    for name, messages in api_errors.items():
        form.errors.pop(name, None)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    if not valid or api_errors:
        return form, None
    return form, form.filters()


def _scope(request: HttpRequest) -> int | None:
    """Platform staff see every organisation (None), a member their organisation (as the API)."""
    return None if request.user.is_staff else _own_organisation_id(request)


# --- deadlines ----------------------------------------------------------------------------------------

def _export_links(name: str, filters: dict[str, Any]) -> dict[str, str]:
    """The report's direct CSV and XLSX downloads (API routes), with the page's filters."""
    return {"export_query": _encoded(filters), "csv_url": reverse(f"reports:{name}-export", kwargs={"fmt": "csv"}),
            "xlsx_url": reverse(f"reports:{name}-export", kwargs={"fmt": "xlsx"})}


def _encoded(values: dict[str, Any]) -> str:
    query = QueryDict(mutable=True)
    query.update({k: str(v) for k, v in values.items()})
    return query.urlencode()


def deadline_filters(request: HttpRequest) -> tuple[DeadlineFilterForm, dict[str, Any] | None]:
    """The deadlines page's bound filter form and the report's arguments, or None with the form's errors (checked
    as the API checks the same parameters); the page and its exports share it."""
    form = DeadlineFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    if valid and form.is_bound:
        # The API's own check of the same parameters (its date format: the form normalised it); without any, the
        # API takes every deadline too: nothing to check.
        params = DeadlineFilterSerializer(data={
            **({"due_before": form.cleaned_data["due_before"].isoformat()} if form.cleaned_data.get("due_before") else {}),
            **({"kind": [form.cleaned_data["kind"]]} if form.cleaned_data.get("kind") else {}),
        })
        valid = params.is_valid()
        if not valid:
            for name, messages in _errors_of(params.errors).items():
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
    if not valid:
        return form, None
    cleaned = form.cleaned_data if form.is_bound else {}
    return form, {"due_before": cleaned.get("due_before"), "kinds": [cleaned["kind"]] if cleaned.get("kind") else None}


@require_GET
@member_required
def deadlines(request: HttpRequest) -> HttpResponse:
    form, filters = deadline_filters(request)
    valid = filters is not None
    page, rows = None, ""
    if valid:
        # The kept rows' statements written out (a count, then the page's rows shaped at once), without the API
        # address each deadline carries elsewhere: the rows link to the pages.
        report = generators.DeadlinesReport(request.membership.organisation, **filters, with_url=False)
        page = Paginator(report.paginated(), DEADLINE_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = deadline_rows(page.object_list)
    return render(request, "reports/deadlines.html", {
        "form": form, "page": page, "rows": rows, "query": _query_without_page(request),
        "filtered": bool(request.GET.get("kind") or request.GET.get("due_before")),
        "csv_url": reverse("deadlines-export-csv"), "xlsx_url": reverse("deadlines-export-xlsx"),
    }, status=200 if valid else 400)


# --- pending VA -------------------------------------------------------------------------------------------------------

def _latest_job(request: HttpRequest) -> ExportJob | None:
    if not request.membership:
        return None
    return (ExportJob.objects.filter(organisation_id=organisation_id(request), user=request.user,
                                     kind=ExportJob.Kind.PENDING_VA).order_by("-created_at", "-id").first())


@require_GET
@report_reader_required
def pending_va_report(request: HttpRequest) -> HttpResponse:
    form, filters = _report_form(request)
    context: dict[str, Any] = {"form": form, "staff": request.user.is_staff, "job": _latest_job(request)}
    if filters is None:
        return render(request, "reports/pending_va.html", context, status=400)
    report = generators.PendingVaReport(_scope(request), filters)
    summary = report.summary
    page = Paginator(report.paginated(), PAGE_SIZE).get_page(request.GET.get("page"))
    context.update({
        "summary": summary, "amount_at_stake": money(summary["amount_at_stake"]), "page": page,
        "rows": pending_va_rows((report.item(row) for row in page.object_list), staff=request.user.is_staff,
                                own=_own_organisation_id(request)),
        "chart": column_chart([(bucket["label"], bucket["count"]) for bucket in summary["buckets"]]),
        "query": _query_without_page(request), "filters": filters, "filtered": bool(filters),
        "figures": report.figures(), "figure_templates": [extra.template for extra in PENDING_VA_FIGURES],
        **_export_links("pending-va", filters),
    })
    return render(request, "reports/pending_va.html", context)


@require_POST
@member_required
def export_job_create(request: HttpRequest) -> HttpResponse:
    """Start a background export of the pending-VA report (any member, as the API: exporting only reads)."""
    # Form values (text): a QueryDict, so the API serializer parses them as it does form posts.
    data = QueryDict(mutable=True)
    data.update({"kind": ExportJob.Kind.PENDING_VA, "format": request.POST.get("format") or ExportJob.Format.CSV})
    for name in ("dispositif", "couloir", "solution"):
        if request.POST.get(name):
            data[name] = request.POST[name]
    serializer = ExportJobCreateSerializer(data=data)
    if not serializer.is_valid():
        errors = [message for messages in _errors_of(serializer.errors).values() for message in messages]
        return render(request, "reports/_export_job.html", {"job": None, "errors": errors}, status=400)
    job = services.request_export(organisation_id=organisation_id(request), user=request.user,
                                  validated=serializer.validated_data)
    if request.headers.get("HX-Request"):
        return render(request, "reports/_export_job.html", {"job": job}, status=202)
    target = reverse("report-pending-va") + (f"?{_encoded(job.params)}" if job.params else "")
    return redirect(f"{target}#export-status")


@require_GET
@member_required
def export_job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """An export job of the organisation: status and progress (polled by htmx while it runs)."""
    job = get_object_or_404(ExportJob, pk=pk, organisation_id=organisation_id(request))
    return render(request, "reports/_export_job.html", {"job": job})


# --- pipeline ---------------------------------------------------------------------------------------------------------

@require_GET
@report_reader_required
def pipeline_report(request: HttpRequest) -> HttpResponse:
    form, filters = _report_form(request)
    context: dict[str, Any] = {"form": form, "staff": request.user.is_staff}
    if filters is None:
        return render(request, "reports/pipeline.html", context, status=400)
    report = generators.PipelineReport(_scope(request), filters)
    states = report.states
    for row in states:
        row["declared_text"] = money(row["declared_amount"])
        row["avance_text"] = money(row["avance_paid"])
        row["solde_text"] = money(row["solde_paid"])
    chart = bar_chart([(row["label"], row["count"], row["declared_text"]) for row in states])
    chart["desc"], chart["svg_bars"] = chart_bars(chart)
    context.update({
        "states": states, "rows": state_rows(states, staff=request.user.is_staff),
        "total_count": report.totals["count"],
        "totals": {key: money(report.totals[key]) for key in generators.MONEY_KEYS}, "chart": chart,
        "filtered": bool(filters), **_export_links("pipeline", filters),
    })
    return render(request, "reports/pipeline.html", context)
