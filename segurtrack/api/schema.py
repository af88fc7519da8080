"""OpenAPI for every app's API: the error answers it gives (the contract's shapes, shared/spec/API.md), the
schema class that closes request bodies, and the hook that makes the schema usable by generated clients."""
from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ValidationErrorSerializer(serializers.Serializer):
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


BAD_INPUT = OpenApiResponse(ValidationErrorSerializer, description="Saisie invalide : `{\"errors\": {champ: [messages]}}`.")
UNAUTHENTICATED = OpenApiResponse(DetailSerializer, description="Non authentifié.")
FORBIDDEN = OpenApiResponse(DetailSerializer, description="Rôle insuffisant (lecteur) ou pas membre d'une organisation.")
NOT_FOUND = OpenApiResponse(DetailSerializer, description="Inexistant ou d'une autre organisation.")
UNSUPPORTED_MEDIA = OpenApiResponse(DetailSerializer, description="Type de contenu non pris en charge.")


def answers(ok: dict[int | tuple[int, str], Any], *, bad_input: bool = False, not_found: bool = False,
            **extra: Any) -> dict[int | tuple[int, str], Any]:
    """The success answers plus 401 and 403, and whichever of 400 and 404 the operation can give."""
    responses: dict[int | tuple[int, str], Any] = {**ok, 401: UNAUTHENTICATED, 403: FORBIDDEN}
    if bad_input:
        responses[400] = BAD_INPUT
    if not_found:
        responses[404] = NOT_FOUND
    responses.update({int(code.removeprefix("status_")): answer for code, answer in extra.items()})
    return responses


def page_answers(serializer: type[serializers.Serializer]) -> dict[int | tuple[int, str], Any]:
    """A paginated list: 400 for a malformed `page` or `page_size` (or filter), 404 past the last page."""
    return answers({200: serializer(many=True)}, bad_input=True, not_found=True)


class ApiSchema(AutoSchema):
    """Request bodies are closed (`additionalProperties: false`): the API refuses fields it does not take.

    Descriptions come from `extend_schema` only: class docstrings speak to developers, not API clients.
    """

    def get_description(self) -> str:
        return ""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema["pattern"] = decimal_pattern(field)  # what the field takes: no sign when it refuses negatives
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        schema.pop("description", None)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The strings a DecimalField takes: its integer and decimal digits, a sign only when negatives are allowed."""
    whole = (field.max_digits or 30) - (field.decimal_places or 0)
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    decimals = rf"(?:\.\d{{1,{field.decimal_places}}})?" if field.decimal_places else ""
    return rf"^{sign}\d{{1,{whole}}}{decimals}$"


METHOD_NOT_ALLOWED = "Méthode non autorisée à cette adresse (l'en-tête Allow liste celles qui le sont)."
TOO_MANY_REQUESTS = "Trop de requêtes pour ce jeton : réessayez après le délai de l'en-tête Retry-After."
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")


def _detail_answer(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}}


def _enum_names(values: list[Any]) -> list[str] | None:
    """Identifier names for enum values that are not identifiers themselves ("90+", "0-30", ""), else None."""
    if all(isinstance(value, str) and value.isidentifier() and value.isascii() for value in values):
        return None
    names = []
    for value in values:
        text = str(value).replace("+", "_plus")
        name = _NOT_IDENTIFIER.sub("_", text).strip("_").upper() or "BLANK"
        names.append(name if name[0].isalpha() else f"VALUE_{name}")
    return names if len(set(names)) == len(names) else None


def usable_by_generated_clients(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: the schema as client generators (openapi-python-client) need it.

    ASCII identifiers for operation ids and enum members; one JSON body where several encodings are
    accepted (a generator cannot tell identical bodies apart); the 400, 405, 415 and 429 answers; ids that start at 1;
    CSV downloads as text; the `Token <key>` scheme described as the server reads it.
    """
    for path, item in result["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operation["operationId"] = _NOT_IDENTIFIER.sub("_", operation["operationId"]).strip("_")
            responses = operation["responses"]
            responses.setdefault("405", _detail_answer(METHOD_NOT_ALLOWED))
            responses.setdefault("429", _detail_answer(TOO_MANY_REQUESTS))
            # A NUL byte in any query parameter or body is refused before the view (segurtrack/middleware.py).
            responses.setdefault("400", {
                "description": str(BAD_INPUT.description),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationError"}}}})
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content and len(content) > 1:
                operation["requestBody"]["content"] = {"application/json": content["application/json"]}
            if content:
                responses.setdefault("415", _detail_answer(str(UNSUPPORTED_MEDIA.description)))
            for parameter in operation.get("parameters", []):
                paging = parameter["in"] == "query" and parameter["name"] in ("page", "page_size")
                if (parameter["in"] == "path" or paging) and parameter["schema"].get("type") == "integer":
                    parameter["schema"]["minimum"] = 1
            for answer in responses.values():
                csv = answer.get("content", {}).get("text/csv")
                if csv is not None:
                    csv["schema"] = {"type": "string", "description": "CSV (UTF-8, séparateur « ; »)"}

    def name_enums(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("enum"), list) and "x-enum-varnames" not in node:
                names = _enum_names([value for value in node["enum"] if value is not None])
                if names:
                    node["x-enum-varnames"] = names
            for value in node.values():
                name_enums(value)
        elif isinstance(node, list):
            for value in node:
                name_enums(value)

    name_enums(result.get("components", {}))
    name_enums(result["paths"])
    token = result.get("components", {}).get("securitySchemes", {}).get("tokenAuth")
    if token is not None:
        token["description"] = "Token <key>"
    return result
