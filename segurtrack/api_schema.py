"""OpenAPI declarations of the error answers every app's API gives (the contract's shapes, shared/spec/API.md)."""
from __future__ import annotations

from typing import Any

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
