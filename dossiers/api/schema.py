"""The dossier API's OpenAPI: the 409 of the rules, a typed operation per transition, solde.json's JSON Schema.

The answers every app shares, the schema class and the generic hook live in `segurtrack.api.schema`.
"""
from __future__ import annotations

from copy import deepcopy
from typing import Any

from drf_spectacular.utils import OpenApiResponse

from segurtrack.api.schema import answers as shared_answers

from .serializers import RulesFailedSerializer

RULES_FAILED = OpenApiResponse(RulesFailedSerializer, description="Refusé par les règles ou par l'état du dossier.")


def answers(ok: dict[int | tuple[int, str], Any], *, bad_input: bool = False, not_found: bool = False,
            rules_failed: bool = False) -> dict[int | tuple[int, str], Any]:
    """The shared error answers, plus 409 where prerequisite rules or the dossier's state may refuse."""
    return shared_answers(ok, bad_input=bad_input, not_found=not_found,
                          **({"status_409": RULES_FAILED} if rules_failed else {}))


TRANSITION_PATH = "/api/v1/dossiers/{dossier_id}/transitions/{name}/"
SOLDE_JSON_PATH = "/api/v1/dossiers/{dossier_id}/solde.json"


def transition_operations(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """One operation per transition, each with its own request body, beside the generic `{name}` one.

    The server routes them all through `transitions/<name>/`; a generated client gets one typed method per
    transition instead of a union it cannot tell apart. The generic operation's body becomes `anyOf`
    (a body may satisfy several payload shapes, which `oneOf` would refuse).
    """
    from ..payloads import PAYLOADS

    generic = result["paths"].get(TRANSITION_PATH, {}).get("post")
    if generic is None:
        return result
    union = generic["requestBody"]["content"]["application/json"]["schema"]
    component = result["components"]["schemas"][union["$ref"].rsplit("/", 1)[-1]]
    branches = component.pop("oneOf")
    component["anyOf"] = branches
    # The union lists each payload class once, in PAYLOADS' order (see views.TRANSITION_PAYLOAD).
    body_of = dict(zip(dict.fromkeys(PAYLOADS.values()), branches))
    for name, payload in PAYLOADS.items():
        operation = deepcopy(generic)
        operation["operationId"] = f"dossiers_transitions_{name}"
        operation["summary"] = f"Transition « {name} »"
        operation["description"] = (f"`POST /dossiers/{{dossier_id}}/transitions/{name}/` : le corps de cette transition. "
                                    + generic.get("description", ""))
        operation["parameters"] = [p for p in generic["parameters"] if p["name"] != "name"]
        operation["requestBody"] = {"content": {"application/json": {"schema": body_of[payload]}}, "required": True}
        result["paths"][TRANSITION_PATH.replace("{name}", name)] = {"post": operation}
    return result


def solde_request_schema(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """solde.json's answer described by the JSON Schema the project ships (dossiers/schemas/), as components."""
    from .. import solde_json

    operation = result["paths"].get(SOLDE_JSON_PATH, {}).get("get")
    if operation is None:
        return result
    shipped = deepcopy(solde_json.schema())  # cached: never change it in place
    definitions = shipped.pop("$defs", {})
    names = {name: f"Solde{name[:1].upper()}{name[1:]}" for name in definitions}

    def convert(node: Any) -> Any:
        # JSON Schema 2020-12 to OpenAPI 3.0: `const` is a one-value enum, local $defs become components.
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        converted = {key: convert(value) for key, value in node.items() if key not in ("$schema", "$id", "const")}
        if "const" in node:
            converted["enum"] = [node["const"]]
        if "$ref" in node and node["$ref"].startswith("#/$defs/"):
            converted["$ref"] = f"#/components/schemas/{names[node['$ref'].removeprefix('#/$defs/')]}"
        return converted

    schemas = result["components"]["schemas"]
    schemas.update({names[name]: convert(definition) for name, definition in definitions.items()})
    document = convert(shipped)
    document["description"] = (f"{shipped.get('description', '')} JSON Schema `{shipped['$id']}`, "
                               f"livré dans dossiers/schemas/{solde_json.SCHEMA_PATH.name}.").strip()
    schemas["SoldeRequestDocument"] = document
    operation["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/SoldeRequestDocument"}
    return result
