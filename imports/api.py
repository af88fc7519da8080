"""API v1 of imports (API.md "Imports"): thin views over `imports.services`, scoped to the organisation."""
from __future__ import annotations

import io
import itertools
from typing import Any

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from segurtrack.api.errors import field_errors
from organisations.permissions import request_membership
from segurtrack.api.schema import DetailSerializer, answers, page_answers

from . import report, services
from .models import ImportJob
from .reading import FileError


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class CreatedSerializer(serializers.Serializer):
    clients = serializers.IntegerField()
    solutions = serializers.IntegerField()
    dossiers = serializers.IntegerField()


class ImportJobSerializer(serializers.ModelSerializer):
    created = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()
    user = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = ["id", "status", "dry_run", "progress", "rows", "created", "unchanged", "errors", "filename",
                  "size", "sha256", "format", "user", "created_at", "finished_at", "url", "report_url"]
        read_only_fields = fields

    @extend_schema_field(CreatedSerializer)
    def get_created(self, job: ImportJob) -> dict[str, int]:
        return {"clients": job.created_clients, "solutions": job.created_solutions, "dossiers": job.created_dossiers}

    @extend_schema_field(ErrorSerializer(many=True))
    def get_errors(self, job: ImportJob) -> list[dict[str, Any]]:
        return job.errors or []

    def get_user(self, job: ImportJob) -> str:
        return job.user.get_username() if job.user_id else ""

    def get_url(self, job: ImportJob) -> str:
        return reverse("imports_api:import-detail", args=[job.pk])

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_report_url(self, job: ImportJob) -> str | None:
        return reverse("imports_api:import-report", args=[job.pk]) if job.errors and job.status != "running" else None


class ImportJobCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("CSV (; ou ,), UTF-8 avec ou sans BOM, ou XLSX."))
    dry_run = serializers.BooleanField(default=True, help_text=gettext_lazy(
        "true (défaut) : simulation, rien n'est enregistré ; false : import réel, tout ou rien."))

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Champ inconnu.")] for name in unknown})
        return super().to_internal_value(data)


class OrganisationJobs:
    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.objects.none()
        return ImportJob.objects.filter(
            organisation_id=request_membership(self.request).organisation_id).select_related("user")


class ImportJobList(OrganisationJobs, generics.ListAPIView):
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser]

    @extend_schema(summary="Imports de l'organisation, du plus récent au plus ancien",
                   responses=page_answers(ImportJobSerializer))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Importer des clients, solutions et dossiers (CSV ou XLSX)",
                   description="201 : la tâche d'import. Les petits fichiers sont traités dans la requête, les "
                               "grands en arrière-plan (`status` running, `progress` 0-100, suivre `url`).",
                   request={"multipart/form-data": ImportJobCreateSerializer},
                   responses=answers({201: ImportJobSerializer}, bad_input=True))
    def post(self, request: Request) -> Response:
        data = ImportJobCreateSerializer(data=request.data)
        if not data.is_valid():
            return Response({"errors": field_errors(data.errors)}, status=status.HTTP_400_BAD_REQUEST)
        membership = request_membership(request)
        job = services.start_import(organisation=membership.organisation, by=request.user,
                                    upload=data.validated_data["file"], dry_run=data.validated_data["dry_run"])
        body = ImportJobSerializer(job).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})


class ImportJobDetail(OrganisationJobs, generics.RetrieveAPIView):
    serializer_class = ImportJobSerializer
    lookup_url_kwarg = "import_id"

    @extend_schema(summary="Un import : statut, avancement, comptes et erreurs",
                   responses=answers({200: ImportJobSerializer}, not_found=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def report_response(job: ImportJob):
    """The error report as a download (the caller has checked the organisation).

    Raises FileError when the stored file cannot be read back (no header, not a workbook).
    """
    filename = report.report_filename(job)
    try:
        if job.format == "xlsx":
            buffer = io.BytesIO()
            report.write_xlsx(job, buffer)
            buffer.seek(0)
            response = FileResponse(buffer, as_attachment=True, filename=filename, content_type=XLSX)
        else:
            lines = report.csv_lines(job)
            first = next(lines)     # the header, read now: an unreadable file is an answer, not a broken stream
            response = StreamingHttpResponse(itertools.chain([first], lines), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
    except FileNotFoundError:
        raise Http404
    response["X-Content-Type-Options"] = "nosniff"
    return response


class ImportJobReport(OrganisationJobs, APIView):
    @extend_schema(summary="Rapport d'erreurs : le fichier importé avec une colonne « problème »",
                   responses={(200, "text/csv"): OpenApiTypes.BINARY, (200, XLSX): OpenApiTypes.BINARY,
                              **answers({}, not_found=True),
                              409: OpenApiResponse(DetailSerializer, description="Fichier illisible.")})
    def get(self, request: Request, import_id: int):
        job = get_object_or_404(self.get_queryset(), pk=import_id)
        try:
            return report_response(job)
        except FileError as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
