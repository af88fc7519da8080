"""The report parameters, defined once: the API validates and documents them, the pages validate with the same
definitions (a parameter the API refuses is refused on the page too)."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _, gettext_lazy
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from segurtrack.api.errors import field_errors
from dossiers.models import State
from organisations.models import Organisation
from organisations.permissions import request_membership
from segurtrack.api.serializers import StrictMixin

from .. import deadlines as dl
from ..models import ExportJob


def bad_input(errors: Any) -> Response:
    """The contract's 400: `{"errors": {field: [messages]}}`."""
    return Response({"errors": field_errors(errors)}, status=status.HTTP_400_BAD_REQUEST)


# --- the reports' filters ---------------------------------------------------------------------------------------------

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


# --- deadlines and export jobs ----------------------------------------------------------------------------------------

class DeadlineFilterSerializer(serializers.Serializer):
    due_before = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    kind = serializers.MultipleChoiceField(choices=dl.KINDS, required=False)


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
