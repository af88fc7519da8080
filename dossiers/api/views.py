"""API v1 views of the dossiers (the parties and reference data are in `parties.py`): thin. Every query is scoped
to the requesting organisation (another one's object is a 404); every write goes through `dossiers.services`."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_fsm import can_proceed
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema,
)
from rest_framework import exceptions, generics, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from organisations.models import Organisation
from organisations.permissions import request_membership

from .. import services, solde_json
from ..checklist import checklist_for
from ..models import Amendment, Document, Dossier
from ..payloads import PAYLOADS, TRANSITIONS
from . import idempotency, serializers as s
from .filters import DossierFilter
from .guidance import rules_failed_body, with_faq
from segurtrack.api.schema import ApiSchema, page_answers
from .schema import answers

DOSSIER_RELATED = ("client", "solution", "dispositif")
FILE_ANSWERS = {(200, "application/pdf"): OpenApiTypes.BINARY, (200, "application/octet-stream"): OpenApiTypes.BINARY}


class ApiView(APIView):
    """JSON in; the requesting membership's organisation at hand."""

    schema = ApiSchema()
    parser_classes = [JSONParser]

    @cached_property
    def organisation(self) -> Organisation:
        return request_membership(self.request).organisation


class UploadView(ApiView):
    parser_classes = [MultiPartParser]


def file_response(field: FieldFile, filename: str, content_type: str) -> FileResponse:
    """The stored file as an attachment the browser will not sniff or run (as the download pages do)."""
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise exceptions.NotFound()
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def assign(instance: Any, data: dict[str, Any]) -> Any:
    for field, value in data.items():
        setattr(instance, field, value)
    return instance


# --- dossiers -----------------------------------------------------------------------------------------------------------

class DossierMixin:
    """Views under /dossiers/{dossier_id}/: the dossier, or 404 when it is missing or another organisation's."""

    @cached_property
    def dossier(self) -> Dossier:
        return get_object_or_404(Dossier.objects.select_related(*DOSSIER_RELATED), pk=self.kwargs["dossier_id"],
                                 organisation=self.organisation)


class DossierList(ApiView, generics.ListAPIView):
    queryset = Dossier.objects.select_related(*DOSSIER_RELATED)
    serializer_class = s.DossierSerializer
    filterset_class = DossierFilter

    def get_queryset(self) -> QuerySet[Dossier]:
        return super().get_queryset().filter(organisation=self.organisation)

    @extend_schema(summary="Dossiers de l'organisation", responses=page_answers(s.DossierSerializer))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Créer un dossier (brouillon)", request=s.DossierCreateSerializer,
                   responses=answers({201: s.DossierSerializer}, bad_input=True))
    def post(self, request: Request) -> Response:
        data = s.DossierCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        dossier = services.create_dossier(organisation=self.organisation, by=request.user, **data.validated_data)
        return Response(self.get_serializer(dossier).data, status=status.HTTP_201_CREATED)


class DossierDetail(DossierMixin, ApiView):
    @extend_schema(summary="Un dossier", responses=answers({200: s.DossierSerializer}, not_found=True))
    def get(self, request: Request, dossier_id: int) -> Response:
        return Response(s.DossierSerializer(self.dossier).data)

    @extend_schema(summary="Modifier le scénario, la référence ou le brouillon de solde",
                   request=s.DossierUpdateSerializer,
                   responses=answers({200: s.DossierSerializer}, bad_input=True, not_found=True))
    def patch(self, request: Request, dossier_id: int) -> Response:
        dossier_id = self.dossier.pk
        changes = s.DossierUpdateSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        dossier = services.update_dossier(dossier_id, by=request.user, changes=changes.validated_data)
        return Response(s.DossierSerializer(dossier).data)


class DossierHistory(DossierMixin, ApiView):
    @extend_schema(summary="Historique du dossier, du plus ancien au plus récent",
                   responses=answers({200: s.HistoryEntrySerializer(many=True)}, not_found=True))
    def get(self, request: Request, dossier_id: int) -> Response:
        entries = self.dossier.history.order_by("seq")
        return Response(s.HistoryEntrySerializer(entries, many=True).data)


class DocumentList(DossierMixin, UploadView, generics.ListAPIView):
    serializer_class = s.DocumentSerializer
    queryset = Document.objects.select_related("uploaded_by")

    def get_queryset(self) -> QuerySet[Document]:
        return super().get_queryset().filter(dossier=self.dossier)

    @extend_schema(summary="Documents du dossier", responses=page_answers(s.DocumentSerializer))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Joindre un document", request=s.DocumentUploadSerializer,
                   responses=answers({201: s.DocumentSerializer}, bad_input=True, not_found=True))
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier_id = self.dossier.pk
        upload = s.DocumentUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        document = services.add_document(dossier_id, by=request.user, kind=upload.validated_data["kind"],
                                         upload=upload.validated_data["file"])
        return Response(s.DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class DocumentDownload(DossierMixin, ApiView):
    @extend_schema(summary="Télécharger un document", responses=answers(FILE_ANSWERS, not_found=True))
    def get(self, request: Request, dossier_id: int, document_id: int) -> FileResponse:
        document = get_object_or_404(Document, pk=document_id, dossier=self.dossier)
        return file_response(document.file, document.filename, document.content_type)


class AmendmentMixin(DossierMixin):
    queryset = Amendment.objects.all()
    lookup_url_kwarg = "amendment_id"

    def get_queryset(self) -> QuerySet[Amendment]:
        return super().get_queryset().filter(dossier=self.dossier)


class AmendmentList(AmendmentMixin, ApiView, generics.ListAPIView):
    serializer_class = s.AmendmentSerializer

    @extend_schema(summary="Avenants de l'avance", responses=page_answers(s.AmendmentSerializer))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Déposer un avenant", request=s.AmendmentCreateSerializer, responses=answers(
        {201: s.AmendmentSerializer}, bad_input=True, not_found=True, rules_failed=True))
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier_id = self.dossier.pk
        data = s.AmendmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        amendment = services.add_amendment(dossier_id, by=request.user, **data.validated_data)
        return Response(s.AmendmentSerializer(amendment).data, status=status.HTTP_201_CREATED)


class AmendmentDetail(AmendmentMixin, ApiView, generics.RetrieveAPIView):
    serializer_class = s.AmendmentSerializer

    @extend_schema(summary="Un avenant", responses=answers({200: s.AmendmentSerializer}, not_found=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Avenant validé ou payé", request=s.AmendmentUpdateSerializer, responses=answers(
        {200: s.AmendmentSerializer}, bad_input=True, not_found=True, rules_failed=True))
    def patch(self, request: Request, dossier_id: int, amendment_id: int) -> Response:
        amendment = self.get_object()
        data = s.AmendmentUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "status" in data.validated_data:
            amendment = services.update_amendment(amendment.pk, by=request.user, **data.validated_data)
        return Response(s.AmendmentSerializer(amendment).data)


TRANSITION_PAYLOAD = PolymorphicProxySerializer(
    component_name="TransitionPayload", resource_type_field_name=None,
    serializers=list(dict.fromkeys(PAYLOADS.values())),
)


class DossierTransition(DossierMixin, ApiView):
    @extend_schema(
        summary="Faire passer le dossier à l'étape suivante",
        description="Corps : les données propres à la transition (voir TransitionPayload). 409 : règles non remplies ou transition "
                    "impossible depuis l'état actuel (`state.transition_not_allowed`).",
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(TRANSITIONS)),
            OpenApiParameter(idempotency.HEADER, {"type": "string", "minLength": 1, "pattern": r"\S",
                                                  "maxLength": idempotency.MAX_KEY_LENGTH},
                             OpenApiParameter.HEADER, required=False,
                             description="Rejouer une requête avec la même clé renvoie la même réponse "
                                         "(200 ou 409) sans rien refaire."),
        ],
        request=TRANSITION_PAYLOAD,
        responses=answers({200: s.TransitionResultSerializer}, bad_input=True, not_found=True, rules_failed=True),
    )
    def post(self, request: Request, dossier_id: int, name: str) -> Response:
        key = request.headers.get(idempotency.HEADER)
        if key is None and name in TRANSITIONS:
            # No read of the dossier beforehand: the service's lock is scoped to the organisation, and another
            # organisation's dossier or a missing one is the same 404 (Dossier.DoesNotExist) as below. A body that
            # does not parse still answers 404 for such a dossier, as when the dossier was read first.
            try:
                request.data
            except exceptions.APIException:
                self.dossier
                raise
            status_code, body = self.run(dossier_id, name)
            return Response(body, status=status_code)
        dossier_id = self.dossier.pk
        if name not in TRANSITIONS:
            raise exceptions.NotFound(_("Transition inconnue : %(name)s.") % {"name": name})
        (status_code, body), replayed = idempotency.replay_or_run(
            self.organisation, key, dossier_id=dossier_id, name=name, body=request.data,
            run=lambda: self.run(dossier_id, name))
        return Response(body, status=status_code, headers={"Idempotent-Replayed": "true"} if replayed else None)

    def run(self, dossier_id: int, name: str) -> idempotency.Answer:
        try:
            outcome = services.run_transition(dossier_id, name, by=self.request.user, data=self.request.data,
                                              organisation_id=self.organisation.pk)
        except services.RulesFailed as refused:
            return status.HTTP_409_CONFLICT, rules_failed_body(refused)
        warnings = with_faq([warning.as_dict() for warning in outcome.warnings])
        return status.HTTP_200_OK, {**s.dossier_data(outcome.dossier), "warnings": warnings}


class DossierChecklist(DossierMixin, ApiView):
    @extend_schema(
        summary="Liste de contrôle avant le dépôt du solde",
        description="Chaque règle de file_solde évaluée sur le dossier et son brouillon de solde (`pending` : données "
                    "pas encore saisies ; ce qui peut déjà être jugé l'est). `ready` est vrai exactement quand "
                    "`GET …/solde.json` répond 200 : aucun élément bloquant `failed` ni `pending`, et un état qui a "
                    "une demande de solde (un élément `state.transition_not_allowed` le dit sinon).",
        responses=answers({200: s.ChecklistSerializer}, not_found=True),
    )
    def get(self, request: Request, dossier_id: int) -> Response:
        dossier = self.dossier
        checklist = checklist_for(dossier)
        refused = checklist.state_failure
        items = [{"rule": refused.rule, "title": _("État du dossier"), "severity": refused.severity.value,
                  "status": "failed", "message": refused.message}] if refused is not None else []
        items += [
            {"rule": item.rule.code, "title": str(item.rule.title), "severity": item.rule.severity.value,
             "status": item.status, "message": item.message}
            for item in checklist.items
        ]
        return Response({"ready": checklist.ready, "state_allows_filing": can_proceed(dossier.file_solde),
                         "items": with_faq(items)})


class DossierSoldeJson(DossierMixin, ApiView):
    @extend_schema(
        summary="La demande de solde au format JSON",
        description="Format propre à segurtrack, validé par son schéma JSON. 409 tant que le dossier n'est pas prêt.",
        operation_id="dossiers_solde_json_retrieve",
        responses=answers({200: OpenApiResponse(OpenApiTypes.OBJECT, description="La demande de solde.")},
                          not_found=True, rules_failed=True),
    )
    def get(self, request: Request, dossier_id: int) -> Response:
        return Response(solde_json.build(self.dossier))  # RulesFailed (a 409) while the dossier is not ready
