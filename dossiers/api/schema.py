"""OpenAPI details shared by the views: closed request bodies and the documented error answers."""
from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.serializers import Serializer

from .serializers import DetailSerializer, RulesFailedSerializer, ValidationErrorSerializer


class ApiSchema(AutoSchema):
    """Request bodies are closed (`additionalProperties: false`): the API refuses fields it does not take.

    Descriptions come from `extend_schema` only: class docstrings speak to developers, not API clients.
    """

    def get_description(self) -> str:
        return ""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        schema.pop("description", None)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


BAD_INPUT = OpenApiResponse(ValidationErrorSerializer, description="Saisie invalide : `{\"errors\": {champ: [messages]}}`.")
UNAUTHENTICATED = OpenApiResponse(DetailSerializer, description="Non authentifié.")
FORBIDDEN = OpenApiResponse(DetailSerializer, description="Rôle insuffisant (lecteur) ou pas membre d'une organisation.")
NOT_FOUND = OpenApiResponse(DetailSerializer, description="Inexistant ou d'une autre organisation.")
RULES_FAILED = OpenApiResponse(RulesFailedSerializer, description="Refusé par les règles ou par l'état du dossier.")


def answers(ok: dict[int | tuple[int, str], Any], *, bad_input: bool = False, not_found: bool = False,
            rules_failed: bool = False) -> dict[int | tuple[int, str], Any]:
    """The success answers plus 401 and 403, and whichever of 400, 404 and 409 the operation can give."""
    responses: dict[int | tuple[int, str], Any] = {**ok, 401: UNAUTHENTICATED, 403: FORBIDDEN}
    if bad_input:
        responses[400] = BAD_INPUT
    if not_found:
        responses[404] = NOT_FOUND
    if rules_failed:
        responses[409] = RULES_FAILED
    return responses


def page_answers(serializer: type[Serializer]) -> dict[int | tuple[int, str], Any]:
    """A paginated list: 400 for a malformed `page` or `page_size` (or filter), 404 past the last page."""
    return answers({200: serializer(many=True)}, bad_input=True, not_found=True)
