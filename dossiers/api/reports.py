"""Reports, deadlines and export jobs of the API (API.md): thin views over `dossiers.queries`, `deadlines`, `exports`.

Choices: the pending-VA `results` use the standard pagination (`page`, `page_size`; `count`, `next`, `previous`
beside the summary, which always covers every matching dossier); its CSV and XLSX exports are separate routes
(`export.csv`, `export.xlsx`), since `?format=` is DRF's renderer switch. Platform staff (`is_staff`) see every
organisation in the reports and may filter on one (`organisation`); for members that filter only narrows
their own organisation's data.
"""
from __future__ import annotations

import tempfile
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, permissions, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from organisations.models import Organisation, Role
from organisations.permissions import token_allows, IsOrganisationMember, request_membership
from segurtrack.api.schema import FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, DetailSerializer

from .. import deadlines as dl, exports, outbox, queries, tasks
from ..models import Dossier, ExportJob, State
from segurtrack.api.errors import field_errors
from segurtrack.api.pagination import Pagination
from .schema import answers
from segurtrack.api.serializers import StrictMixin


def bad_input(errors: Any) -> Response:
    """The contract's 400: `{"errors": {field: [messages]}}`."""
    return Response({"errors": field_errors(errors)}, status=status.HTTP_400_BAD_REQUEST)


class ReportReader(permissions.BasePermission):
    """Members of an organisation, and platform staff (who see every organisation's reports)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if not token_allows(request, view):
            return False
        return bool(user.is_staff or request_membership(request) is not None)


class PassThroughNegotiation(BaseContentNegotiation):
    """File answers: whatever the client accepts, the view answers with its own content type."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# --- query parameters -------------------------------------------------------------------------------------------------

MAX_ID = 2**63 - 1


class ReportFilterSerializer(serializers.Serializer):
    dispositif = serializers.CharField(required=False, allow_blank=True, max_length=40,
                                       help_text=gettext_lazy("Code du dispositif."))
    couloir = serializers.CharField(required=False, allow_blank=True, max_length=30,
                                    help_text=gettext_lazy("Code du couloir."))
    # Ids are 64-bit: a larger number is bad input, not a database error.
    solution = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                        help_text=gettext_lazy("Id de la solution."))
    organisation = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID,
        help_text=gettext_lazy("Id de l'organisation (personnel de la plateforme : toutes par défaut)."))


REPORT_PARAMETERS = [
    OpenApiParameter("dispositif", str, description="Code du dispositif."),
    OpenApiParameter("couloir", str, description="Code du couloir."),
    OpenApiParameter("solution", int, description="Id de la solution."),
    OpenApiParameter("organisation", int, description="Id de l'organisation (personnel de la plateforme : toutes "
                                                      "par défaut ; pour un membre, ne fait que restreindre)."),
]
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Numéro de page."),
    OpenApiParameter("page_size", int, description="Taille de page (500 au plus)."),
]


def report_filters(request: Request) -> tuple[dict[str, Any] | None, Response | None]:
    params = ReportFilterSerializer(data=request.query_params)
    if not params.is_valid():
        return None, bad_input(params.errors)
    return {k: v for k, v in params.validated_data.items() if v not in (None, "")}, None


def report_scope(request: Request) -> Organisation | int | None:
    """Staff: every organisation (None); a member: their organisation."""
    if request.user.is_staff:
        return None
    return request_membership(request).organisation_id


# --- pending VA -------------------------------------------------------------------------------------------------------

class MoneyField(serializers.DecimalField):
    def __init__(self, **kwargs: Any):
        super().__init__(max_digits=14, decimal_places=2, coerce_to_string=True, **kwargs)


class BucketSerializer(serializers.Serializer):
    label = serializers.ChoiceField(choices=[label for label, _l, _h in queries.PENDING_VA_BUCKETS])
    count = serializers.IntegerField()


class DispositifCountSerializer(serializers.Serializer):
    dispositif = serializers.CharField()
    count = serializers.IntegerField()
    overdue = serializers.IntegerField()


class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PendingVaClientSerializer(PartySerializer):
    finess_geo = serializers.CharField()
    siret = serializers.CharField()


class PendingVaSolutionSerializer(PartySerializer):
    version = serializers.CharField()


class PendingVaRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    organisation = serializers.IntegerField()
    client = PendingVaClientSerializer()
    solution = PendingVaSolutionSerializer()
    dispositif = serializers.CharField()
    couloir = serializers.CharField()
    deployed_on = serializers.DateField()
    age_days = serializers.IntegerField(help_text=gettext_lazy("Aujourd'hui (Europe/Paris) moins deployed_on."))
    overdue = serializers.BooleanField(help_text=gettext_lazy("Âge supérieur au délai de VA de l'organisation."))
    declared_amount = MoneyField(allow_null=True, help_text=gettext_lazy("Montant déclaré en vigueur (avenants inclus)."))
    avance_paid_total = MoneyField(help_text=gettext_lazy("Avance payée, avenants payés inclus."))
    amount_at_stake = MoneyField()
    url = serializers.CharField()


class PendingVaReportSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()
    amount_at_stake = MoneyField(help_text=gettext_lazy("Somme de (montant déclaré en vigueur − avance payée)."))
    buckets = BucketSerializer(many=True)
    by_dispositif = DispositifCountSerializer(many=True)
    count = serializers.IntegerField(help_text=gettext_lazy("Nombre de lignes de `results`, toutes pages."))
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = PendingVaRowSerializer(many=True)


def pending_va_item(item: queries.PendingVa) -> dict[str, Any]:
    row = item.row
    return {
        "id": row["id"], "reference": row["reference"], "organisation": row["organisation_id"],
        "client": {"id": row["client_id"], "name": row["client__name"], "finess_geo": row["client__finess_geo"],
                   "siret": row["client__siret"]},
        "solution": {"id": row["solution_id"], "name": row["solution__name"], "version": row["solution__version"]},
        "dispositif": row["dispositif__code"], "couloir": row["dispositif__couloir_id"],
        "deployed_on": row["deployed_on"], "age_days": item.age_days, "overdue": item.overdue,
        "declared_amount": row["declared_amount"], "avance_paid_total": row["avance_paid_total"],
        "amount_at_stake": item.amount_at_stake, "url": reverse("api:dossier-detail", args=[row["id"]]),
    }


class PendingVaReport(generics.GenericAPIView):
    queryset = Dossier.objects.none()  # the schema generator asks for a model; rows come from `queries`
    permission_classes = [ReportReader]
    pagination_class = Pagination
    serializer_class = PendingVaReportSerializer

    @extend_schema(summary="VA en attente (dossiers déployés) : totaux, tranches d'âge, par dispositif, dossiers",
                   parameters=REPORT_PARAMETERS + PAGE_PARAMETERS,
                   responses=answers({200: PendingVaReportSerializer}, bad_input=True, not_found=True))
    def get(self, request: Request) -> Response:
        filters, error = report_filters(request)
        if error:
            return error
        today = timezone.localdate()
        queryset = queries.pending_va_queryset(report_scope(request), **filters)
        summary = queries.pending_va_summary(queryset, today)
        page = self.paginate_queryset(queries.KnownCount(queries.pending_va_rows(queryset), summary["total"]))
        body = {
            **summary,
            "count": self.paginator.page.paginator.count,
            "next": self.paginator.get_next_link(), "previous": self.paginator.get_previous_link(),
            "results": [pending_va_item(queries.PendingVa(row, today)) for row in page],
        }
        from ..extensions import pending_va_figures

        # Figures other apps registered (dossiers.extensions), as top-level fields beside the summary.
        return Response({**PendingVaReportSerializer(body).data,
                         **pending_va_figures(report_scope(request), filters, queryset)})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_ANSWERS = {(200, "text/csv"): OpenApiTypes.BINARY, (200, XLSX): OpenApiTypes.BINARY}


def file_answer(columns: list[exports.Column], rows: Any, *, fmt: str, stem: str, title: str):
    filename = f"{stem}-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(exports.csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        handle = tempfile.TemporaryFile()
        exports.write_xlsx(columns, rows, handle, title=title)
        handle.seek(0)
        response = FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX)
    response["X-Content-Type-Options"] = "nosniff"
    return response


class PendingVaExport(APIView):
    permission_classes = [ReportReader]
    content_negotiation_class = PassThroughNegotiation

    @extend_schema(summary="VA en attente : export CSV ou XLSX des mêmes lignes (en-têtes en français)",
                   parameters=REPORT_PARAMETERS, responses=answers(FILE_ANSWERS, bad_input=True, not_found=True))
    def get(self, request: Request, fmt: str):
        filters, error = report_filters(request)
        if error:
            return error
        source = exports.pending_va_source(report_scope(request), **filters)
        return file_answer(source.columns, source.rows(), fmt=fmt, stem="va-en-attente", title=_("VA en attente"))


# --- pipeline ---------------------------------------------------------------------------------------------------------

class PipelineStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=State.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()
    declared_amount = MoneyField(help_text=gettext_lazy("Montant déclaré en vigueur (avenants inclus)."))
    avance_paid = MoneyField(help_text=gettext_lazy("Avance payée, avenants payés inclus."))
    solde_paid = MoneyField()


class PipelineTotalSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    declared_amount = MoneyField()
    avance_paid = MoneyField()
    solde_paid = MoneyField()


class PipelineSerializer(serializers.Serializer):
    states = PipelineStateSerializer(many=True)
    totals = PipelineTotalSerializer()


class PipelineReport(APIView):
    permission_classes = [ReportReader]

    @extend_schema(summary="Pipeline : nombre et montants par état (tous les états, zéros compris)",
                   parameters=REPORT_PARAMETERS, responses=answers({200: PipelineSerializer}, bad_input=True))
    def get(self, request: Request) -> Response:
        filters, error = report_filters(request)
        if error:
            return error
        states = queries.pipeline(report_scope(request), **filters)
        totals = {key: sum((row[key] for row in states), start=queries.ZERO if key != "count" else 0)
                  for key in ("count", "declared_amount", "avance_paid", "solde_paid")}
        return Response(PipelineSerializer({"states": states, "totals": totals}).data)


class PipelineExport(APIView):
    permission_classes = [ReportReader]
    content_negotiation_class = PassThroughNegotiation

    @extend_schema(summary="Pipeline : export CSV ou XLSX (un état par ligne, puis le total ; en-têtes en français)",
                   parameters=REPORT_PARAMETERS, responses=answers(FILE_ANSWERS, bad_input=True, not_found=True))
    def get(self, request: Request, fmt: str):
        filters, error = report_filters(request)
        if error:
            return error
        rows = exports.pipeline_rows(report_scope(request), **filters)
        return file_answer(exports.PIPELINE_COLUMNS, rows, fmt=fmt, stem="pipeline", title=_("Pipeline"))


# --- deadlines --------------------------------------------------------------------------------------------------------

@extend_schema_field(OpenApiTypes.STR)
class DueField(serializers.Field):
    """A date (`YYYY-MM-DD`), or a datetime with its offset for deadlines set to the minute (avance filing)."""

    def to_representation(self, value: date | datetime) -> str:
        return value.isoformat()


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(k, dl.LABELS[k]) for k in dl.KINDS])
    label = serializers.CharField()
    due = DueField(help_text=gettext_lazy("Date, ou date et heure (Europe/Paris) pour l'avance."))
    overdue = serializers.BooleanField()
    days_left = serializers.IntegerField(help_text=gettext_lazy("Négatif en cas de retard."))
    dossier = serializers.IntegerField(allow_null=True)
    reference = serializers.CharField(allow_null=True)
    client_id = serializers.IntegerField(allow_null=True)
    client = serializers.CharField(allow_null=True)
    solution_id = serializers.IntegerField(allow_null=True)
    solution = serializers.CharField(allow_null=True)
    object_id = serializers.IntegerField(allow_null=True, help_text=gettext_lazy(
        "Id de la demande de portabilité ou de la modification de solution concernée."))
    url = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, required=False,
                                      help_text=gettext_lazy("Reste dû pour un ordre de recouvrement, sinon null."))


class DeadlineFilterSerializer(serializers.Serializer):
    due_before = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    kind = serializers.MultipleChoiceField(choices=dl.KINDS, required=False)


class DeadlineList(generics.GenericAPIView):
    queryset = Dossier.objects.none()  # the schema generator asks for a model; rows come from `deadlines`
    permission_classes = [IsOrganisationMember]
    pagination_class = Pagination
    serializer_class = DeadlineSerializer

    @extend_schema(summary="Échéances de l'organisation, à venir et en retard, la plus proche d'abord",
                   parameters=[OpenApiParameter("due_before", OpenApiTypes.DATE, description=(
                       "Échéances au plus tard ce jour-là (AAAA-MM-JJ), retards compris.")),
                       OpenApiParameter("kind", str, many=True, enum=dl.KINDS, description=(
                           "Types d'échéance (répétable) ; maintenance_end : fins de couverture de maintenance.")),
                       *PAGE_PARAMETERS],
                   responses=answers({200: DeadlineSerializer(many=True)}, bad_input=True, not_found=True))
    def get(self, request: Request) -> Response:
        params = DeadlineFilterSerializer(data=request.query_params)
        if not params.is_valid():
            return bad_input(params.errors)
        organisation = request_membership(request).organisation
        today, now = timezone.localdate(), timezone.now()
        rows = dl.deadline_queryset(organisation, due_before=params.validated_data.get("due_before"), today=today,
                                    kinds=params.validated_data.get("kind") or None)
        page = self.paginate_queryset(rows)
        items = [dl.as_deadline(row, today=today, now=now) for row in page]
        return self.get_paginated_response(DeadlineSerializer(items, many=True).data)


# --- export jobs ------------------------------------------------------------------------------------------------------

class ExportJobSerializer(serializers.ModelSerializer):
    # Plain text here: the choice set is documented once, on the request (one enum name in the schema).
    kind = serializers.CharField(read_only=True, help_text=gettext_lazy("pending_va ou dossiers."))
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = ["id", "kind", "format", "params", "status", "progress", "row_count", "created_at", "finished_at",
                  "error", "url", "download_url"]
        read_only_fields = fields

    def get_url(self, job: ExportJob) -> str:
        return reverse("reports:export-detail", args=[job.pk])

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, job: ExportJob) -> str | None:
        return reverse("reports:export-download", args=[job.pk]) if job.status == ExportJob.Status.DONE else None


class ExportJobCreateSerializer(StrictMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExportJob.Kind.choices)
    format = serializers.ChoiceField(choices=ExportJob.Format.choices, default=ExportJob.Format.CSV)
    state = serializers.ChoiceField(choices=State.choices, required=False, help_text=gettext_lazy(
        "Export des dossiers uniquement."))
    dispositif = serializers.CharField(required=False, allow_blank=True, max_length=40)
    couloir = serializers.CharField(required=False, allow_blank=True, max_length=30)
    solution = serializers.IntegerField(required=False, min_value=1)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text=gettext_lazy(
        "Export des dossiers uniquement : nom du client, FINESS, SIRET ou référence."))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == ExportJob.Kind.PENDING_VA:
            extra = sorted({"state", "q"} & set(attrs))
            if extra:
                raise serializers.ValidationError({name: [_("Filtre sans objet pour les VA en attente.")]
                                                   for name in extra})
        return attrs


class ExportJobList(generics.ListAPIView):
    permission_classes = [IsOrganisationMember]
    serializer_class = ExportJobSerializer
    # Exporting only reads: a viewer may ask for one.
    write_role = Role.VIEWER
    read_scope_posts = True  # requesting an export reads the data: a read-only token may do it

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no organisation
            return ExportJob.objects.none()
        return ExportJob.objects.filter(organisation_id=request_membership(self.request).organisation_id)

    @extend_schema(summary="Exports de l'organisation, du plus récent au plus ancien",
                   parameters=PAGE_PARAMETERS,
                   responses=answers({200: ExportJobSerializer(many=True)}, bad_input=True, not_found=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Lancer un export (tâche de fond) : 202 avec la tâche, suivie par son url",
                   request=ExportJobCreateSerializer,
                   responses=answers({202: ExportJobSerializer}, bad_input=True))
    def post(self, request: Request) -> Response:
        data = ExportJobCreateSerializer(data=request.data)
        if not data.is_valid():
            return bad_input(data.errors)
        params = {k: v for k, v in data.validated_data.items() if k not in ("kind", "format") and v not in (None, "")}
        membership = request_membership(request)
        with transaction.atomic():
            job = ExportJob.objects.create(organisation_id=membership.organisation_id, user=request.user,
                                           kind=data.validated_data["kind"], format=data.validated_data["format"],
                                           params=params)
            outbox.enqueue(tasks.run_export, [job.pk])
        job.refresh_from_db()
        body = ExportJobSerializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class ExportJobMixin:
    permission_classes = [IsOrganisationMember]

    def get_job(self, request: Request, export_id: int) -> ExportJob:
        return get_object_or_404(ExportJob, pk=export_id, organisation_id=request_membership(request).organisation_id)


class ExportJobDetail(ExportJobMixin, APIView):
    @extend_schema(summary="Un export : statut et avancement (0-100)",
                   responses=answers({200: ExportJobSerializer}, not_found=True))
    def get(self, request: Request, export_id: int) -> Response:
        return Response(ExportJobSerializer(self.get_job(request, export_id)).data)


class ExportJobDownload(ExportJobMixin, APIView):
    content_negotiation_class = PassThroughNegotiation

    @extend_schema(summary="Télécharger le fichier d'un export terminé", responses={
        **FILE_ANSWERS, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND,
        409: OpenApiResponse(DetailSerializer, description="L'export n'est pas (encore) terminé.")})
    def get(self, request: Request, export_id: int):
        job = self.get_job(request, export_id)
        if job.status != ExportJob.Status.DONE or not job.file:
            return Response({"detail": _("L'export n'est pas terminé (statut : %(status)s).") % {
                "status": job.get_status_display()}}, status=status.HTTP_409_CONFLICT)
        try:
            handle = job.file.open("rb")
        except FileNotFoundError:
            raise Http404
        filename = f"{job.kind.replace('_', '-')}-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.{job.format}"
        response = FileResponse(handle, as_attachment=True, filename=filename,
                                content_type=XLSX if job.format == ExportJob.Format.XLSX else "text/csv; charset=utf-8")
        response["X-Content-Type-Options"] = "nosniff"
        return response

