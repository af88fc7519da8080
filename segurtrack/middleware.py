"""Requests carrying a NUL byte are refused with a 400 before any view: PostgreSQL text cannot hold one."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

NUL = "\x00"
API_PREFIX = "/api/"


def _nul_path(value: Any, path: str) -> str | None:
    """The dotted path of the first JSON string (key or value) holding a NUL, as the API names nested fields."""
    if isinstance(value, str):
        return path or "non_field_errors" if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return path or "non_field_errors"
            if (found := _nul_path(item, inner)) is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _nul_path(item, f"{path}.{index}" if path else str(index))) is not None:
                return found
    return None


def _nul_field(request: HttpRequest) -> str | None:
    """The name of the first parameter or form field whose name or value holds a NUL byte (None when clean)."""
    sources = [request.GET]
    content_type = request.content_type or ""
    writes = request.method not in ("GET", "HEAD", "OPTIONS")
    api = request.path.startswith(API_PREFIX)
    # Page forms are read here; the API's forms are parsed (and their NULs refused) by its own serializers.
    if writes and not api and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            sources.append(request.POST)
        except Exception:  # a malformed body: the view meets the same error and answers it as before
            pass
    for source in sources:
        for name, values in source.lists():
            if NUL in name:
                return name.replace(NUL, "") or "non_field_errors"
            if any(NUL in value for value in values):
                return name
    if writes and content_type.endswith("json") and b"\\u0000" in request.body:
        # PostgreSQL refuses the escaped NUL in text and in jsonb alike. (A raw one is malformed JSON: a 400 already.)
        try:
            return _nul_path(json.loads(request.body), "") or "non_field_errors"
        except ValueError:
            return None
    return None


class RejectNulBytesMiddleware:
    """A 400 in the contract's shape (API) or a French page, instead of the 500 PostgreSQL's refusal would give."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = _nul_field(request)
        if field is None:
            return self.get_response(request)
        message = _("Caractère nul interdit : retirez-le de la saisie.")
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"errors": {field: [message]}}, status=400)
        return render(request, "400.html", {"message": message}, status=400)
