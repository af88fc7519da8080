"""The OpenAPI 3 schema carries the contract's paths in a shape generated clients can use; the docs page is
Swagger UI from local assets (no CDN)."""
import os
import re

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# API.md's paths this issue implements (FAQ, reports and deadlines come with their own issues).
CONTRACT = {
    ("get", "/api/v1/dispositifs/"), ("get", "/api/v1/solutions/"), ("post", "/api/v1/solutions/"),
    ("get", "/api/v1/solutions/{}/"), ("patch", "/api/v1/solutions/{}/"), ("post", "/api/v1/solutions/{}/pv-pilotes/"),
    ("get", "/api/v1/clients/"), ("post", "/api/v1/clients/"), ("get", "/api/v1/clients/{}/"),
    ("patch", "/api/v1/clients/{}/"), ("get", "/api/v1/dossiers/"), ("post", "/api/v1/dossiers/"),
    ("get", "/api/v1/dossiers/{}/"), ("patch", "/api/v1/dossiers/{}/"), ("get", "/api/v1/dossiers/{}/history/"),
    ("get", "/api/v1/dossiers/{}/documents/"), ("post", "/api/v1/dossiers/{}/documents/"),
    ("post", "/api/v1/dossiers/{}/amendments/"), ("patch", "/api/v1/dossiers/{}/amendments/{}/"),
    ("post", "/api/v1/dossiers/{}/transitions/{}/"), ("get", "/api/v1/dossiers/{}/checklist/"),
    ("get", "/api/v1/dossiers/{}/solde.json"),
}


def operations(schema: dict) -> set[tuple[str, str]]:
    return {(method, re.sub(r"\{[^}]+\}", "{}", path)) for path, item in schema["paths"].items() for method in item}


@pytest.mark.slow
def test_the_schema_is_openapi_3_with_every_path_of_the_contract(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert CONTRACT <= operations(schema)


@pytest.mark.slow
def test_refusals_are_documented_with_the_contracts_bodies(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    transition = schema["paths"]["/api/v1/dossiers/{dossier_id}/transitions/{name}/"]["post"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(transition["responses"])
    assert transition["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/RulesFailed")
    assert schema["components"]["schemas"]["ClientRequest"]["additionalProperties"] is False


def test_the_schema_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def test_the_docs_page_is_swagger_ui_from_local_assets_with_no_inline_script(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert not re.findall(r"(?:https?:)?//[^\s\"'<>]+", html)
    assert "<style" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert len(scripts) == 3 and all('src="' in attributes and not body.strip() for attributes, body in scripts)
    sources = [re.search(r'src="([^"]+)"', attributes)[1].replace("&amp;", "&") for attributes, _ in scripts]
    assert sources[0] == "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"

    init = client.get(sources[2])
    assert init.status_code == 200 and init["Content-Type"].startswith("application/javascript")
    assert '"/api/v1/schema/"' in init.content.decode() and "SwaggerUIBundle" in init.content.decode()


def test_the_swagger_ui_assets_are_shipped_by_the_sidecar_package():
    from django.contrib.staticfiles import finders

    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "favicon-32x32.png"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{asset}"), asset


@pytest.fixture
def served(client) -> dict:
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_served_schema_passes_openapi_spec_validator(served):
    from openapi_spec_validator import validate

    validate(served)


def test_each_transition_has_its_own_operation_and_request_body(served):
    from dossiers.payloads import PAYLOADS

    generic = served["paths"]["/api/v1/dossiers/{dossier_id}/transitions/{name}/"]["post"]
    union = served["components"]["schemas"]["TransitionPayloadRequest"]
    assert "oneOf" not in union and len(union["anyOf"]) == len(set(PAYLOADS.values()))
    assert generic["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/TransitionPayloadRequest")
    for name, payload in PAYLOADS.items():
        operation = served["paths"][f"/api/v1/dossiers/{{dossier_id}}/transitions/{name}/"]["post"]
        assert operation["operationId"] == f"dossiers_transitions_{name}"
        assert [p["name"] for p in operation["parameters"] if p["in"] == "path"] == ["dossier_id"]
        body = operation["requestBody"]
        assert body["required"] is True and list(body["content"]) == ["application/json"]
        assert body["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{payload.__name__}Request"}


def test_ids_are_ascii_bodies_single_and_error_answers_declared(served):
    for path, item in served["paths"].items():
        for method, operation in item.items():
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", operation["operationId"]), operation["operationId"]
            assert "405" in operation["responses"], (method, path)
            body = operation.get("requestBody", {}).get("content", {})
            assert len(body) <= 1, (method, path, list(body))
            assert ("415" in operation["responses"]) == bool(body), (method, path)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"]["type"] == "integer":
                    assert parameter["schema"]["minimum"] == 1, (path, parameter["name"])
                if parameter["name"] in ("page", "page_size"):
                    assert parameter["schema"]["minimum"] == 1, (path, parameter["name"])
    assert served["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey", "in": "header", "name": "Authorization", "description": "Token <key>"}
    assert served["components"]["schemas"]["LabelEnum"]["x-enum-varnames"] == [
        "VALUE_0_30", "VALUE_31_60", "VALUE_61_90", "VALUE_90_PLUS"]


def test_downloads_declare_their_exact_content_types(served):
    ok = served["paths"]["/api/v1/exports/{export_id}/download/"]["get"]["responses"]["200"]["content"]
    assert ok == {"text/csv": {"schema": {"type": "string", "description": "CSV (UTF-8, séparateur « ; »)"}},
                  XLSX: {"schema": {"type": "string", "format": "binary"}}}


@pytest.mark.parametrize(("amount", "accepted"), [
    ("10000", True), ("10000.5", True), ("0.05", True), ("9999999999.99", True),
    ("-1.00", False), ("1.005", False), ("", False), ("12345678901", False)])
def test_request_amount_patterns_match_what_the_server_accepts(served, amount, accepted):
    from dossiers.payloads import validate_payload
    from segurtrack.errors import InvalidInput

    pattern = served["components"]["schemas"]["PaymentRequest"]["properties"]["amount"]["pattern"]
    try:
        validate_payload("record_avance_payment", {"paid_on": "2024-05-02", "amount": amount})
        server = True
    except InvalidInput:
        server = False
    assert (bool(re.search(pattern, amount)), server) == (accepted, accepted)


def test_solde_json_is_described_by_the_shipped_json_schema(served):
    from dossiers import solde_json

    answer = served["paths"]["/api/v1/dossiers/{dossier_id}/solde.json"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/SoldeRequestDocument"}
    document = served["components"]["schemas"]["SoldeRequestDocument"]
    shipped = solde_json.schema()
    assert document["required"] == shipped["required"] and set(document["properties"]) == set(shipped["properties"])
    assert document["properties"]["format"]["enum"] == [shipped["properties"]["format"]["const"]]
    assert document["properties"]["prestation_segur"] == {"$ref": "#/components/schemas/SoldeAmount"}
    assert "solde_request.schema.json" in document["description"]
