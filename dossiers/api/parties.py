"""API v1 views of the parties and reference data: dispositifs, solutions and their PV pilotes, clients. Thin, as
the dossier views: every query scoped to the requesting organisation, every write through `dossiers.services`."""
from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from .. import services
from ..models import Client, Dispositif, PvPilote, Solution
from . import serializers as s
from segurtrack.api.schema import page_answers

from .schema import answers
from .views import FILE_ANSWERS, ApiView, UploadView, assign, file_response


# --- reference data ------------------------------------------------------------------------------------------------

@extend_schema_view(get=extend_schema(summary="Dispositifs (données de référence)",
                                      responses=page_answers(s.DispositifSerializer)))
class DispositifList(ApiView, generics.ListAPIView):
    queryset = Dispositif.objects.all()
    serializer_class = s.DispositifSerializer


# --- solutions and PV pilotes ---------------------------------------------------------------------------------------

class PartyMixin:
    """Solutions and clients: the organisation's own, created and changed through their service (`save`)."""

    save: Callable[..., Any]

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().filter(organisation=self.organisation)

    def perform_create(self, serializer: Serializer) -> None:
        instance = self.get_queryset().model(organisation=self.organisation, **serializer.validated_data)
        serializer.instance = self.save(instance, by=self.request.user)

    def perform_update(self, serializer: Serializer) -> None:
        self.save(assign(serializer.instance, serializer.validated_data), by=self.request.user)


def documented(serializer: type[Serializer], *, listed: str, add: str, one: str, change: str) -> tuple[Any, Any]:
    """The schema of a party's list (GET, POST) and of one of them (GET, PATCH)."""
    return (
        extend_schema_view(get=extend_schema(summary=listed, responses=page_answers(serializer)),
                           post=extend_schema(summary=add, responses=answers({201: serializer}, bad_input=True))),
        extend_schema_view(get=extend_schema(summary=one, responses=answers({200: serializer}, not_found=True)),
                           patch=extend_schema(summary=change, responses=answers(
                               {200: serializer}, bad_input=True, not_found=True))),
    )


class SolutionMixin(PartyMixin):
    queryset = Solution.objects.select_related("dispositif")
    serializer_class = s.SolutionSerializer
    lookup_url_kwarg = "solution_id"
    save = staticmethod(services.save_solution)


SOLUTIONS, SOLUTION = documented(s.SolutionSerializer, listed="Solutions de l'organisation",
                                 add="Ajouter une solution", one="Une solution", change="Modifier une solution")


@SOLUTIONS
class SolutionList(SolutionMixin, ApiView, generics.ListCreateAPIView):
    pass


@SOLUTION
class SolutionDetail(SolutionMixin, ApiView, generics.RetrieveUpdateAPIView):
    http_method_names = ["get", "patch", "head", "options"]


class PvPiloteMixin:
    queryset = PvPilote.objects.all()
    lookup_url_kwarg = "pv_pilote_id"

    @cached_property
    def solution(self) -> Solution:
        return get_object_or_404(Solution, pk=self.kwargs["solution_id"], organisation=self.organisation)

    def get_queryset(self) -> QuerySet[PvPilote]:
        return super().get_queryset().filter(solution=self.solution)


@extend_schema_view(get=extend_schema(summary="PV pilotes d'une solution",
                                      responses=page_answers(s.PvPiloteSerializer)))
class PvPiloteList(PvPiloteMixin, UploadView, generics.ListAPIView):
    serializer_class = s.PvPiloteSerializer

    @extend_schema(summary="Joindre un PV pilote (PDF)", request=s.PvPiloteUploadSerializer,
                   responses=answers({201: s.PvPiloteSerializer}, bad_input=True, not_found=True))
    def post(self, request: Request, solution_id: int) -> Response:
        solution = self.solution
        upload = s.PvPiloteUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        pv = services.add_pv_pilote(solution, by=request.user, signed_on=upload.validated_data["signed_on"],
                                    status=upload.validated_data["status"], upload=upload.validated_data["file"])
        return Response(s.PvPiloteSerializer(pv).data, status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(summary="Un PV pilote",
                                      responses=answers({200: s.PvPiloteSerializer}, not_found=True)))
class PvPiloteDetail(PvPiloteMixin, ApiView, generics.RetrieveAPIView):
    serializer_class = s.PvPiloteSerializer

    @extend_schema(summary="Changer le statut d'un PV pilote", request=s.PvPiloteStatusSerializer,
                   responses=answers({200: s.PvPiloteSerializer}, bad_input=True, not_found=True))
    def patch(self, request: Request, solution_id: int, pv_pilote_id: int) -> Response:
        pv = self.get_object()
        change = s.PvPiloteStatusSerializer(data=request.data, partial=True)
        change.is_valid(raise_exception=True)
        if "status" in change.validated_data:
            pv = services.set_pv_pilote_status(pv, by=request.user, status=change.validated_data["status"])
        return Response(s.PvPiloteSerializer(pv).data)


class PvPiloteDownload(PvPiloteMixin, ApiView, generics.GenericAPIView):
    @extend_schema(summary="Télécharger un PV pilote", responses=answers(FILE_ANSWERS, not_found=True))
    def get(self, request: Request, solution_id: int, pv_pilote_id: int) -> FileResponse:
        pv = self.get_object()
        return file_response(pv.file, pv.filename, "application/pdf")


# --- clients ---------------------------------------------------------------------------------------------------------

class ClientMixin(PartyMixin):
    queryset = Client.objects.all()
    serializer_class = s.ClientSerializer
    lookup_url_kwarg = "client_id"
    save = staticmethod(services.save_client)


CLIENTS, CLIENT = documented(s.ClientSerializer, listed="Clients de l'organisation", add="Ajouter un client",
                             one="Un client", change="Modifier un client")


@CLIENTS
class ClientList(ClientMixin, ApiView, generics.ListCreateAPIView):
    pass


@CLIENT
class ClientDetail(ClientMixin, ApiView, generics.RetrieveUpdateAPIView):
    http_method_names = ["get", "patch", "head", "options"]
