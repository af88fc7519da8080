"""POST /api/v1/dossiers/bulk-transitions/: one transition on many dossiers (JSON items, or a CSV statement)."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from organisations.permissions import request_membership

from .. import bulk_transitions as bulk
from ..payloads import TRANSITIONS
from segurtrack.api.errors import field_errors
from .guidance import rules_failed_body, with_faq
from .schema import answers
from .views import ApiView


class BulkItemSerializer(serializers.Serializer):
    dossier = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    data = serializers.DictField(required=False, default=dict)


def known_transition(name: str) -> str:
    if name not in TRANSITIONS:
        raise serializers.ValidationError(_("Transition inconnue : %(name)s.") % {"name": name})
    return name


# Plain text checked against the transitions (a ChoiceField would name the same choice set twice in the schema).
class BulkRequestSerializer(serializers.Serializer):
    transition = serializers.CharField(validators=[known_transition], help_text=gettext_lazy(
        "Nom de la transition (voir POST /api/v1/dossiers/{id}/transitions/{name}/)."))
    dry_run = serializers.BooleanField(default=False)
    items = BulkItemSerializer(many=True)

    def validate_items(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not items:
            raise serializers.ValidationError(_("Au moins un élément est attendu."))
        if len(items) > bulk.MAX_ITEMS:
            raise serializers.ValidationError(_("%(max)d éléments au plus par appel (%(n)d reçus).") % {
                "max": bulk.MAX_ITEMS, "n": len(items)})
        return items


class BulkCsvSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy(
        "CSV : colonnes reference, transition (sinon le champ transition), puis celles de la transition."))
    transition = serializers.CharField(required=False, validators=[known_transition])
    dry_run = serializers.BooleanField(default=False)


class BulkResultSerializer(serializers.Serializer):
    dossier = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=[200, 400, 404, 409])
    errors = serializers.JSONField()
    warnings = serializers.ListField(child=serializers.DictField())
    state = serializers.CharField(required=False)
    row = serializers.IntegerField(required=False)
    reference = serializers.CharField(required=False)


class BulkAnswerSerializer(serializers.Serializer):
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


def result_body(result: bulk.Result) -> dict[str, Any]:
    body: dict[str, Any] = {"dossier": result.item.dossier, "status": result.status, "errors": [], "warnings": []}
    if result.status == 200:
        body["warnings"] = with_faq([w.as_dict() for w in result.outcome.warnings])
        body["state"] = result.outcome.dossier.state
    elif result.status == 409:
        body.update(rules_failed_body(result.refused))
    elif result.status == 400:
        body["errors"] = result.invalid
    else:
        body["errors"] = {"dossier": [_("Dossier introuvable.")]}
    if result.item.row is not None:
        body.update(row=result.item.row, reference=result.item.reference)
    return body


def answer(results: list[bulk.Result]) -> Response:
    succeeded = sum(1 for r in results if r.status == 200)
    return Response({"succeeded": succeeded, "failed": len(results) - succeeded,
                     "results": [result_body(r) for r in results]})


class BulkTransitions(ApiView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        summary="Une transition sur plusieurs dossiers (au plus 1 000)",
        description="Chaque élément passe par le même service, dans sa propre transaction : un refus n'annule "
                    "jamais un autre. `dry_run` évalue données et règles sans rien enregistrer. Variante CSV "
                    "(multipart `file`) : un relevé de l'ASP avec les colonnes `reference`, `transition` et celles "
                    "de la transition ; chaque résultat porte alors sa `row` et sa `reference`.",
        request={"application/json": BulkRequestSerializer, "multipart/form-data": BulkCsvSerializer},
        responses=answers({200: BulkAnswerSerializer}, bad_input=True),
    )
    def post(self, request: Request) -> Response:
        membership = request_membership(request)
        if request.content_type.startswith("multipart/"):
            data = BulkCsvSerializer(data=request.data)
            if not data.is_valid():
                return Response({"errors": field_errors(data.errors)}, status=status.HTTP_400_BAD_REQUEST)
            items = bulk.items_from_csv(data.validated_data["file"], transition=data.validated_data.get("transition", ""))
        else:
            data = BulkRequestSerializer(data=request.data)
            if not data.is_valid():
                return Response({"errors": field_errors(data.errors)}, status=status.HTTP_400_BAD_REQUEST)
            items = [bulk.Item(item["dossier"], data.validated_data["transition"], item.get("data") or {})
                     for item in data.validated_data["items"]]
        results = bulk.run_bulk(organisation_id=membership.organisation_id, by=request.user, items=items,
                                dry_run=data.validated_data["dry_run"])
        return answer(results)
