"""OpenAPI details shared by the views: closed request bodies and the documented error answers."""
from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from segurtrack.api_schema import BAD_INPUT, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, page_answers
from segurtrack.api_schema import answers as shared_answers

from .serializers import RulesFailedSerializer

__all__ = ["BAD_INPUT", "FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED", "ApiSchema", "answers", "page_answers"]


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


RULES_FAILED = OpenApiResponse(RulesFailedSerializer, description="Refusé par les règles ou par l'état du dossier.")


def answers(ok: dict[int | tuple[int, str], Any], *, bad_input: bool = False, not_found: bool = False,
            rules_failed: bool = False) -> dict[int | tuple[int, str], Any]:
    """The shared error answers, plus 409 where prerequisite rules or the dossier's state may refuse."""
    return shared_answers(ok, bad_input=bad_input, not_found=not_found,
                          **({"status_409": RULES_FAILED} if rules_failed else {}))
