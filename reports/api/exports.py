"""Export jobs of the API (API.md), and the file answers of the reports' direct exports."""
from __future__ import annotations

from typing import Any

from django.http import Http404, FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dossiers.api.schema import answers
from organisations.models import Role
from organisations.permissions import IsOrganisationMember, request_membership
from segurtrack.api.schema import FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, DetailSerializer

from .. import services
from ..exports import FORMATTERS, XLSX, download
from ..generators import Report
from ..models import ExportJob
from .params import PAGE_PARAMETERS, ExportJobCreateSerializer, bad_input


class PassThroughNegotiation(BaseContentNegotiation):
    """File answers: whatever the client accepts, the view answers with its own content type."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


FILE_ANSWERS = {(200, "text/csv"): OpenApiTypes.BINARY, (200, XLSX): OpenApiTypes.BINARY}


def file_answer(report: Report, fmt: str) -> Any:
    """A report as a download: CSV (streamed) or XLSX, named after the report and today (Europe/Paris)."""
    return download(report, fmt, filename=f"{report.stem}-{timezone.localdate():%Y%m%d}.{fmt}")


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
        job = services.request_export(organisation_id=request_membership(request).organisation_id, user=request.user,
                                      validated=data.validated_data)
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
                                content_type=FORMATTERS[job.format].content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response
