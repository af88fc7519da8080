"""Requests carrying a NUL byte are refused with a 400 before any view: PostgreSQL text cannot hold one."""
from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

NUL = "\x00"
API_PREFIX = "/api/"


def _nul_field(request: HttpRequest) -> str | None:
    """The name of the first parameter or form field whose name or value holds a NUL byte (None when clean)."""
    sources = [request.GET]
    content_type = request.content_type or ""
    if request.method not in ("GET", "HEAD", "OPTIONS") and content_type in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.POST)
    for source in sources:
        for name, values in source.lists():
            if NUL in name:
                return name.replace(NUL, "") or "non_field_errors"
            if any(NUL in value for value in values):
                return name
    if content_type.endswith("json") and request.method not in ("GET", "HEAD", "OPTIONS"):
        body = request.body
        # Raw, or escaped in a JSON string: either reaches PostgreSQL as a NUL it refuses.
        if b"\x00" in body or b"\\u0000" in body:
            return "non_field_errors"
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
