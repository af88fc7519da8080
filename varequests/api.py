"""API v1 of VA requests (API.md "VA requests"): thin views over `varequests.services`, scoped to the organisation."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from dossiers.api.schema import answers
from segurtrack.api.schema import page_answers
from segurtrack.api.serializers import StrictMixin
from dossiers.api.views import ApiView, DossierMixin

from . import services
from .models import VaRequest
from .services import MESSAGE_MAX, NAME_MAX


class VaRequestSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=VaRequest.Status.choices, source="current_status", read_only=True)
    url = serializers.SerializerMethodField()
    dossier = serializers.IntegerField(source="dossier_id", read_only=True)

    class Meta:
        model = VaRequest
        fields = ["id", "dossier", "email", "name", "message", "status", "url", "expires_at", "created_at",
                  "opened_at", "returned_at", "revoked_at"]
        read_only_fields = fields

    def get_url(self, va_request: VaRequest) -> str:
        """The signatory's page (`/va/<token>/`), absolute."""
        path = reverse("varequests:sign", args=[va_request.token])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class VaRequestCreateSerializer(StrictMixin, serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=NAME_MAX)
    message = serializers.CharField(max_length=MESSAGE_MAX, required=False, allow_blank=True)


class VaRequestList(DossierMixin, ApiView, generics.ListAPIView):
    serializer_class = VaRequestSerializer
    queryset = VaRequest.objects.none()  # the schema generator asks for a model; rows come from get_queryset

    def get_queryset(self) -> QuerySet[VaRequest]:
        return VaRequest.objects.filter(dossier=self.dossier).order_by("-created_at", "-id")

    @extend_schema(summary="Demandes de VA du dossier, la plus récente d'abord",
                   responses=page_answers(VaRequestSerializer))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Demander la VA signée au signataire du client (dossier déployé)",
                   description="Le signataire reçoit par e-mail un lien vers sa page (`url`), valable 30 jours. "
                               "409 `state.transition_not_allowed` si le dossier n'est pas déployé.",
                   request=VaRequestCreateSerializer,
                   responses=answers({201: VaRequestSerializer}, bad_input=True, not_found=True, rules_failed=True))
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier_id = self.dossier.pk
        data = VaRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        va_request = services.request_va(dossier_id, by=request.user, **data.validated_data)
        return Response(self.get_serializer(va_request).data, status=status.HTTP_201_CREATED)


class VaRequestDetail(DossierMixin, ApiView):
    def va_request(self) -> VaRequest:
        return get_object_or_404(VaRequest, pk=self.kwargs["va_request_id"], dossier=self.dossier)

    @extend_schema(summary="Une demande de VA", responses=answers({200: VaRequestSerializer}, not_found=True))
    def get(self, request: Request, dossier_id: int, va_request_id: int) -> Response:
        return Response(VaRequestSerializer(self.va_request(), context={"request": request}).data)


class VaRequestRevoke(VaRequestDetail):
    http_method_names = ["post", "options"]

    @extend_schema(summary="Révoquer le lien d'une demande de VA", request=None,
                   responses=answers({200: VaRequestSerializer}, not_found=True, rules_failed=True))
    def post(self, request: Request, dossier_id: int, va_request_id: int) -> Response:
        va_request = services.revoke(self.va_request().pk, by=request.user)
        return Response(VaRequestSerializer(va_request, context={"request": request}).data)
