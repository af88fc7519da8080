"""Errors in the contract's shape: 400 `{"errors": {field: [messages]}}`, 403, 404, JSON everywhere.

The framework-free errors of `segurtrack.errors` are mapped here; an app whose service raises an error of its
own that the contract answers with its own status and body (dossiers' `RulesFailed`, a 409) registers it with
`register_error` from its `AppConfig.ready`, so this module imports no app.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from segurtrack.errors import InvalidInput, NotPermitted

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
# An app's own error → (status, body of the error): the answers `register_error` adds.
_REGISTERED: dict[type[Exception], tuple[int, Callable[[Any], Any]]] = {}


def register_error(error: type[Exception], status_code: int, body: Callable[[Any], Any]) -> None:
    """Answer `error` (and its subclasses) with `status_code` and `body(error)`; called from an AppConfig.ready."""
    _REGISTERED[error] = (status_code, body)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    for error, (status_code, body) in _REGISTERED.items():
        if isinstance(exc, error):
            return Response(body(exc), status=status_code)
    exc = as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = {"errors": field_errors(exc.detail)}
    return response


def as_api_exception(exc: Exception) -> Exception:
    """The service and Django exceptions as the DRF ones that carry their status code."""
    if isinstance(exc, InvalidInput):
        return exceptions.ValidationError(exc.errors)
    if isinstance(exc, exceptions.ParseError):
        # Malformed JSON is malformed input: the same 400 shape as any other.
        return exceptions.ValidationError({NON_FIELD: [_("Requête illisible : %(detail)s") % {"detail": exc.detail}]})
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(get_error_detail(exc))
    if isinstance(exc, NotPermitted):
        return exceptions.PermissionDenied(str(exc))
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        # One message whatever the query: a missing object and another organisation's read the same.
        return exceptions.NotFound()
    return exc


def field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF error details to {field: [messages]}; nested fields are named `parent.child`."""
    if isinstance(detail, dict):
        errors: dict[str, list[str]] = {}
        for key, value in detail.items():
            errors.update(field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return errors
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        errors = {}
        for index, item in enumerate(detail):
            errors.update(field_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return errors
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or NON_FIELD: [str(message) for message in messages]} if messages else {}


@csrf_exempt  # whatever the method and cookies: a 404, never the CSRF failure page
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under /api/v1/: a JSON 404 like the API's own, not Django's HTML page."""
    return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=status.HTTP_404_NOT_FOUND)
