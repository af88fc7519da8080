"""Browsable API docs rendered from the OpenAPI schema on the server, self-contained.

Swagger UI and ReDoc load their JavaScript from a CDN (the sidecar package that would serve them locally
is not a dependency), and this project allows no external request: the page lists every operation and
component of the same schema `/api/v1/schema/` serves, as plain HTML with no script.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine, Template
from django.urls import reverse
from django.views.decorators.http import require_safe
from drf_spectacular.generators import SchemaGenerator

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@cache
def template() -> Template:
    return Engine.get_default().from_string((Path(__file__).parent / "docs.html").read_text(encoding="utf-8"))


def describe(schema: dict[str, Any]) -> str:
    """A short type description: a component's name, `[item]` for arrays, alternatives joined by `|`."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for combiner in ("oneOf", "anyOf", "allOf"):
        if combiner in schema:
            return " | ".join(describe(part) for part in schema[combiner])
    if schema.get("type") == "array":
        return f"[{describe(schema.get('items', {}))}]"
    kind = schema.get("type", "object")
    if "format" in schema:
        kind = f"{kind} ({schema['format']})"
    if "enum" in schema:
        kind = f"{kind}: {', '.join(str(value) for value in schema['enum'] if value not in ('', None))}"
    return kind


def operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for path, item in schema.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation = item[method]
            body = operation.get("requestBody", {}).get("content", {})
            rows.append({
                "method": method.upper(), "path": path, "id": operation.get("operationId", ""),
                "summary": operation.get("summary", ""), "description": operation.get("description", ""),
                "parameters": [
                    {"name": p["name"], "in": p["in"], "required": p.get("required", False),
                     "type": describe(p.get("schema", {})), "description": p.get("description", "")}
                    for p in operation.get("parameters", [])
                ],
                "body": [{"media_type": media, "type": describe(content.get("schema", {}))}
                         for media, content in body.items()],
                "responses": [
                    {"code": code, "description": answer.get("description", ""),
                     "types": ", ".join(f"{describe(c.get('schema', {}))} ({media})"
                                        for media, c in answer.get("content", {}).items())}
                    for code, answer in operation.get("responses", {}).items()
                ],
            })
    return rows


def components(schema: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        required = set(component.get("required", []))
        rows.append({"name": name, "type": describe({k: v for k, v in component.items() if k != "properties"}),
                     "description": component.get("description", ""), "fields": [
            {"name": field, "type": describe(spec), "required": field in required,
             "read_only": spec.get("readOnly", False), "description": spec.get("description", "")}
            for field, spec in component.get("properties", {}).items()
        ]})
    return rows


@require_safe
def api_docs(request: HttpRequest) -> HttpResponse:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    html = template().render(Context({"info": schema.get("info", {}), "schema_url": reverse("api:schema"),
                                      "operations": operations(schema), "components": components(schema)}))
    return HttpResponse(html)
