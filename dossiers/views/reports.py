"""Report pages: deadlines, pending VA (with exports and background export jobs), pipeline.

Thin pages over `dossiers.queries`, `deadlines` and `exports`, validating their parameters like the API
(`dossiers.api.reports`): the same serializers, so a parameter the API refuses is refused here too (400, French).
Every page answers in a fixed number of queries whatever the data size (charts are built from the aggregates).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from organisations.models import Organisation

from .. import deadlines as dl, outbox, queries, tasks
from ..api.reports import DeadlineFilterSerializer, ExportJobCreateSerializer, ReportFilterSerializer
from ..models import Couloir, Dispositif, ExportJob, Solution
from ..rules import money
from .common import member_required, organisation_id


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
DEADLINE_PAGE_SIZE = 50


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _errors_of(serializer_errors: dict[str, Any]) -> dict[str, list[str]]:
    return {name: [str(message) for message in (messages if isinstance(messages, list) else [messages])]
            for name, messages in serializer_errors.items()}


# --- charts (inline SVG, drawn on the server) ------------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    text: str = ""

    @property
    def cx(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def end(self) -> float:
        return round(self.x + self.width, 1)

    @property
    def cy(self) -> float:
        return round(self.y + self.height / 2, 1)


def column_chart(items: list[tuple[str, int]], *, width: int = 520, height: int = 240) -> dict[str, Any]:
    """Vertical bars (one per item) scaled to the largest count; label under each bar, count above it."""
    top, bottom, left, gap = 28, 34, 16, 24
    plot_height = height - top - bottom
    slot = (width - 2 * left) / max(len(items), 1)
    peak = max((count for _label, count in items), default=0) or 1
    bars = []
    for index, (label, count) in enumerate(items):
        bar_height = round(plot_height * count / peak, 1)
        x = round(left + index * slot + gap / 2, 1)
        bars.append(Bar(label=label, count=count, x=x, y=round(top + plot_height - bar_height, 1),
                        width=round(slot - gap, 1), height=bar_height))
    return {"width": width, "height": height, "bars": bars, "baseline": top + plot_height, "left": left,
            "right": width - left}


def bar_chart(items: list[tuple[str, int, str]], *, width: int = 760, row: int = 26,
              label_width: int = 230, value_width: int = 190) -> dict[str, Any]:
    """Horizontal bars (one row per item): label on the left, count and amount on the right."""
    plot = width - label_width - value_width
    peak = max((count for _label, count, _text in items), default=0) or 1
    bars = []
    for index, (label, count, text) in enumerate(items):
        bars.append(Bar(label=label, count=count, x=label_width, y=index * row + 4,
                        width=round(plot * count / peak, 1), height=row - 8, text=text))
    return {"width": width, "height": len(items) * row + 4, "bars": bars, "label_x": label_width - 8,
            "value_x": label_width + plot + 8, "row": row}


# --- report filters (couloir, dispositif, solution; organisation for platform staff) ---------------------------------

class ReportFilterForm(forms.Form):
    """The report filters with choices scoped to what the user may see (one query per select)."""

    couloir = forms.ChoiceField(label=gettext_lazy("Couloir"), required=False)
    dispositif = forms.ChoiceField(label=gettext_lazy("Dispositif"), required=False)
    solution = forms.ChoiceField(label=gettext_lazy("Solution"), required=False)
    organisation = forms.ChoiceField(label=gettext_lazy("Organisation"), required=False)

    def __init__(self, *args: Any, organisation_id: int | None, staff: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.staff = staff
        self.fields["couloir"].choices = [("", _("Tous"))] + [(c.code, c.label) for c in Couloir.objects.all()]
        self.fields["dispositif"].choices = [("", _("Tous"))] + [
            (code, code) for code in Dispositif.objects.order_by("code").values_list("code", flat=True)]
        solutions = Solution.objects.order_by("name", "version", "id")
        if staff:
            solutions = solutions.select_related("organisation").order_by("organisation__name", "name", "version", "id")
            self.fields["solution"].choices = [("", _("Toutes"))] + [
                (str(s.pk), f"{s.name} {s.version} ({s.organisation.name})") for s in solutions]
            self.fields["organisation"].choices = [("", _("Toutes"))] + [
                (str(pk), name) for pk, name in Organisation.objects.order_by("name").values_list("pk", "name")]
        else:
            self.fields["solution"].choices = [("", _("Toutes"))] + [
                (str(s.pk), f"{s.name} {s.version}") for s in solutions.filter(organisation_id=organisation_id)]
            del self.fields["organisation"]

    def filters(self) -> dict[str, Any]:
        """The validated filters, as `queries` takes them (empty values left out)."""
        values = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        for name in ("solution", "organisation"):
            if name in values:
                values[name] = int(values[name])
        return values


def _report_form(request: HttpRequest) -> tuple[ReportFilterForm, dict[str, Any] | None]:
    """The bound filter form and its filters, or None with the form's errors (types checked as the API does)."""
    staff = request.user.is_staff
    data = request.GET.copy()
    if not staff:
        data.pop("organisation", None)
    form = ReportFilterForm(data, organisation_id=_own_organisation_id(request), staff=staff)
    api_check = ReportFilterSerializer(data={k: v for k, v in data.items() if k in ReportFilterSerializer().fields})
    api_errors = {} if api_check.is_valid() else _errors_of(api_check.errors)
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


# --- deadlines --------------------------------------------------------------------------------------------------------

class DeadlineFilterForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Type d'échéance"), required=False)
    due_before = forms.DateField(
        label=gettext_lazy("Jusqu'au"), required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Saisissez une date valide, au format JJ/MM/AAAA ou AAAA-MM-JJ.")},
        help_text=gettext_lazy("Retards compris."))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Tous"))] + [(kind, dl.LABELS[kind]) for kind in dl.KINDS]


def _page_url(row: dict[str, Any]) -> tuple[str, str]:
    """The page a deadline links to, and what it is (a dossier, a client, a solution)."""
    if row["dossier"] is not None:
        return reverse("dossier-detail", args=[row["dossier"]]), row["reference"] or f"#{row['dossier']}"
    if row["kind"] == dl.Kind.PORTABILITY:
        return reverse("client-edit", args=[row["client_id"]]) + "#portabilite", row["client"]
    return reverse("solution-detail", args=[row["solution_id"]]) + "#modifications", row["solution"]


@require_GET
@member_required
def deadlines(request: HttpRequest) -> HttpResponse:
    form = DeadlineFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    if valid:
        # The API's own check of the same parameters (its date format: the form normalised it).
        params = DeadlineFilterSerializer(data={
            **({"due_before": form.cleaned_data["due_before"].isoformat()} if form.cleaned_data.get("due_before") else {}),
            **({"kind": [form.cleaned_data["kind"]]} if form.cleaned_data.get("kind") else {}),
        } if form.is_bound else {})
        valid = params.is_valid()
        if not valid:
            for name, messages in _errors_of(params.errors).items():
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
    page, rows = None, []
    if valid:
        cleaned = form.cleaned_data if form.is_bound else {}
        organisation = request.membership.organisation
        today, now = timezone.localdate(), timezone.now()
        queryset = dl.deadline_queryset(organisation, due_before=cleaned.get("due_before"), today=today,
                                        kinds=[cleaned["kind"]] if cleaned.get("kind") else None)
        page = Paginator(queryset, DEADLINE_PAGE_SIZE).get_page(request.GET.get("page"))
        for raw in page.object_list:
            row = dl.as_deadline(raw, today=today, now=now)
            row["page_url"], row["target"] = _page_url(row)
            row["is_datetime"] = hasattr(row["due"], "hour")
            row["late_days"] = max(-row["days_left"], 0)
            row["amount_label"] = money(Decimal(row["amount"])) if row["amount"] is not None else ""
            rows.append(row)
    return render(request, "dossiers/deadlines.html", {
        "form": form, "page": page, "rows": rows, "query": _query_without_page(request),
        "filtered": bool(request.GET.get("kind") or request.GET.get("due_before")),
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
        return render(request, "dossiers/reports/pending_va.html", context, status=400)
    today = timezone.localdate()
    queryset = queries.pending_va_queryset(_scope(request), **filters)
    summary = queries.pending_va_summary(queryset, today)
    page = Paginator(queries.KnownCount(queries.pending_va_rows(queryset), summary["total"]), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = [queries.PendingVa(row, today) for row in page.object_list]
    export_query = QueryDict(mutable=True)
    export_query.update({k: str(v) for k, v in filters.items()})
    context.update({
        "summary": summary, "amount_at_stake": money(summary["amount_at_stake"]), "page": page, "rows": rows,
        "chart": column_chart([(bucket["label"], bucket["count"]) for bucket in summary["buckets"]]),
        "query": _query_without_page(request), "filters": filters, "filtered": bool(filters),
        "export_query": export_query.urlencode(),
        "csv_url": reverse("reports:pending-va-export", kwargs={"fmt": "csv"}),
        "xlsx_url": reverse("reports:pending-va-export", kwargs={"fmt": "xlsx"}),
    })
    from ..extensions import PENDING_VA_FIGURES, pending_va_figures

    context["figures"] = pending_va_figures(_scope(request), filters, queryset)
    context["figure_templates"] = [extra.template for extra in PENDING_VA_FIGURES]
    return render(request, "dossiers/reports/pending_va.html", context)


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
        return render(request, "dossiers/reports/_export_job.html", {"job": None, "errors": errors}, status=400)
    params = {k: v for k, v in serializer.validated_data.items() if k not in ("kind", "format") and v not in (None, "")}
    # As the API's ExportJobList.post: the job and its task message in one transaction.
    with transaction.atomic():
        job = ExportJob.objects.create(organisation_id=organisation_id(request), user=request.user,
                                       kind=serializer.validated_data["kind"],
                                       format=serializer.validated_data["format"], params=params)
        outbox.enqueue(tasks.run_export, [job.pk])
    if request.headers.get("HX-Request"):
        job.refresh_from_db()
        return render(request, "dossiers/reports/_export_job.html", {"job": job}, status=202)
    target = reverse("report-pending-va")
    query = {k: v for k, v in params.items()}
    if query:
        encoded = QueryDict(mutable=True)
        encoded.update({k: str(v) for k, v in query.items()})
        target += "?" + encoded.urlencode()
    return redirect(f"{target}#export-status")


@require_GET
@member_required
def export_job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """An export job of the organisation: status and progress (polled by htmx while it runs)."""
    job = get_object_or_404(ExportJob, pk=pk, organisation_id=organisation_id(request))
    return render(request, "dossiers/reports/_export_job.html", {"job": job})


# --- pipeline ---------------------------------------------------------------------------------------------------------

@require_GET
@report_reader_required
def pipeline_report(request: HttpRequest) -> HttpResponse:
    form, filters = _report_form(request)
    context: dict[str, Any] = {"form": form, "staff": request.user.is_staff}
    if filters is None:
        return render(request, "dossiers/reports/pipeline.html", context, status=400)
    states = queries.pipeline(_scope(request), **filters)
    for row in states:
        row["declared_text"] = money(row["declared_amount"])
        row["avance_text"] = money(row["avance_paid"])
        row["solde_text"] = money(row["solde_paid"])
    totals = {key: sum((row[key] for row in states), start=queries.ZERO) for key in
              ("declared_amount", "avance_paid", "solde_paid")}
    context.update({
        "states": states, "total_count": sum(row["count"] for row in states),
        "totals": {key: money(value) for key, value in totals.items()},
        "chart": bar_chart([(row["label"], row["count"], row["declared_text"]) for row in states]),
        "filtered": bool(filters),
    })
    export_query = QueryDict(mutable=True)
    export_query.update({k: str(v) for k, v in filters.items()})
    context.update({"export_query": export_query.urlencode(),
                    "csv_url": reverse("reports:pipeline-export", kwargs={"fmt": "csv"}),
                    "xlsx_url": reverse("reports:pipeline-export", kwargs={"fmt": "xlsx"})})
    return render(request, "dossiers/reports/pipeline.html", context)
