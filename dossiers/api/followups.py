"""API v1 additions: a client's portability requests, a solution's changes, and the audit of both (read-only)."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from .. import audit, followups
from ..models import AuditEntry, Client, PortabilityRequest, Solution, SolutionChange
from segurtrack.api.schema import page_answers
from .schema import answers
from segurtrack.api.serializers import StrictMixin
from .views import ApiView


class PortabilityRequestSerializer(StrictMixin, serializers.ModelSerializer):
    due_on = serializers.DateField(read_only=True, help_text=_("requested_on + 15 jours calendaires"))

    class Meta:
        model = PortabilityRequest
        fields = ["id", "client", "requested_on", "channel", "fulfilled_on", "notes", "due_on", "created_at"]
        read_only_fields = ["client", "created_at"]
        extra_kwargs = {"channel": {"required": True}, "notes": {"allow_null": True}}


class SolutionChangeSerializer(StrictMixin, serializers.ModelSerializer):
    ans_notice_due_on = serializers.DateField(read_only=True, allow_null=True)
    rereferencing_due_on = serializers.DateField(read_only=True, allow_null=True)

    class Meta:
        model = SolutionChange
        fields = ["id", "solution", "changed_on", "description", "affects_conformity", "ans_notified_on",
                  "ans_notice_due_on", "rereferencing_requested_on", "rereferencing_due_on", "rereferencing_filed_on",
                  "created_at"]
        read_only_fields = ["solution", "created_at"]
        extra_kwargs = {"affects_conformity": {"required": True}}


class AuditChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    before_display = serializers.CharField()
    after_display = serializers.CharField()


class AuditEntrySerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()
    action_label = serializers.CharField(source="get_action_display", read_only=True)
    changes = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "user", "action", "action_label", "changes"]
        read_only_fields = fields

    def get_user(self, entry: AuditEntry) -> str | None:
        return entry.user.get_username() if entry.user_id else None

    @extend_schema_field(AuditChangeSerializer(many=True))
    def get_changes(self, entry: AuditEntry) -> list[dict[str, Any]]:
        return AuditChangeSerializer(audit.describe(entry), many=True).data


# --- views --------------------------------------------------------------------------------------------------------

class ClientScoped:
    @cached_property
    def client(self) -> Client:
        return get_object_or_404(Client, pk=self.kwargs["client_id"], organisation=self.organisation)


class SolutionScoped:
    @cached_property
    def solution(self) -> Solution:
        return get_object_or_404(Solution, pk=self.kwargs["solution_id"], organisation=self.organisation)


def _write(serializer_class: type[serializers.Serializer], request: Request, *, partial: bool) -> dict[str, Any]:
    """The body's fields, shape-checked (types, choices, unknown fields); the service judges the rest."""
    body = serializer_class(data=request.data, partial=partial)
    body.is_valid(raise_exception=True)
    return {name: body.validated_data[name] for name in body.validated_data}


@extend_schema_view(
    get=extend_schema(summary="Demandes de portabilité d'un client",
                      responses=page_answers(PortabilityRequestSerializer)),
    post=extend_schema(summary="Enregistrer une demande de portabilité", request=PortabilityRequestSerializer,
                       responses=answers({201: PortabilityRequestSerializer}, bad_input=True, not_found=True)),
)
class PortabilityRequestList(ClientScoped, ApiView, generics.ListAPIView):
    serializer_class = PortabilityRequestSerializer

    def get_queryset(self) -> QuerySet[PortabilityRequest]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no URL kwargs
            return PortabilityRequest.objects.none()
        return self.client.portability_requests.order_by("-requested_on", "-id")

    def post(self, request: Request, client_id: int) -> Response:
        client = self.client
        saved = followups.save_portability_request(
            client, by=request.user, changes=_write(PortabilityRequestSerializer, request, partial=False))
        return Response(PortabilityRequestSerializer(saved).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="Une demande de portabilité",
                      responses=answers({200: PortabilityRequestSerializer}, not_found=True)),
    patch=extend_schema(summary="Modifier une demande de portabilité (dont sa date de satisfaction)",
                        request=PortabilityRequestSerializer,
                        responses=answers({200: PortabilityRequestSerializer}, bad_input=True, not_found=True)),
)
class PortabilityRequestDetail(ClientScoped, ApiView, generics.RetrieveAPIView):
    serializer_class = PortabilityRequestSerializer
    lookup_url_kwarg = "portability_request_id"

    def get_queryset(self) -> QuerySet[PortabilityRequest]:
        if getattr(self, "swagger_fake_view", False):
            return PortabilityRequest.objects.none()
        return PortabilityRequest.objects.filter(client=self.client)

    def patch(self, request: Request, client_id: int, portability_request_id: int) -> Response:
        existing = self.get_object()
        saved = followups.save_portability_request(
            self.client, by=request.user, request=existing,
            changes=_write(PortabilityRequestSerializer, request, partial=True))
        return Response(PortabilityRequestSerializer(saved).data)


@extend_schema_view(
    get=extend_schema(summary="Modifications d'une solution", responses=page_answers(SolutionChangeSerializer)),
    post=extend_schema(summary="Enregistrer une modification de la solution", request=SolutionChangeSerializer,
                       responses=answers({201: SolutionChangeSerializer}, bad_input=True, not_found=True)),
)
class SolutionChangeList(SolutionScoped, ApiView, generics.ListAPIView):
    serializer_class = SolutionChangeSerializer

    def get_queryset(self) -> QuerySet[SolutionChange]:
        if getattr(self, "swagger_fake_view", False):
            return SolutionChange.objects.none()
        return self.solution.changes.order_by("-changed_on", "-id")

    def post(self, request: Request, solution_id: int) -> Response:
        solution = self.solution
        saved = followups.save_solution_change(
            solution, by=request.user, changes=_write(SolutionChangeSerializer, request, partial=False))
        return Response(SolutionChangeSerializer(saved).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="Une modification de solution",
                      responses=answers({200: SolutionChangeSerializer}, not_found=True)),
    patch=extend_schema(summary="Suivre une modification (ANS informée, nouveau référencement)",
                        request=SolutionChangeSerializer,
                        responses=answers({200: SolutionChangeSerializer}, bad_input=True, not_found=True)),
)
class SolutionChangeDetail(SolutionScoped, ApiView, generics.RetrieveAPIView):
    serializer_class = SolutionChangeSerializer
    lookup_url_kwarg = "solution_change_id"

    def get_queryset(self) -> QuerySet[SolutionChange]:
        if getattr(self, "swagger_fake_view", False):
            return SolutionChange.objects.none()
        return SolutionChange.objects.filter(solution=self.solution)

    def patch(self, request: Request, solution_id: int, solution_change_id: int) -> Response:
        existing = self.get_object()
        saved = followups.save_solution_change(
            self.solution, by=request.user, change=existing,
            changes=_write(SolutionChangeSerializer, request, partial=True))
        return Response(SolutionChangeSerializer(saved).data)


@extend_schema_view(get=extend_schema(summary="Journal des modifications d'un client",
                                      responses=page_answers(AuditEntrySerializer)))
class ClientHistory(ClientScoped, ApiView, generics.ListAPIView):
    serializer_class = AuditEntrySerializer

    def get_queryset(self) -> QuerySet[AuditEntry]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEntry.objects.none()
        return AuditEntry.objects.filter(client=self.client).select_related("user").order_by("at", "id")


@extend_schema_view(get=extend_schema(summary="Journal des modifications d'une solution",
                                      responses=page_answers(AuditEntrySerializer)))
class SolutionHistory(SolutionScoped, ApiView, generics.ListAPIView):
    serializer_class = AuditEntrySerializer

    def get_queryset(self) -> QuerySet[AuditEntry]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEntry.objects.none()
        return AuditEntry.objects.filter(solution=self.solution).select_related("user").order_by("at", "id")
