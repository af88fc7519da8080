"""The OpenAPI 3 schema carries the contract's paths; the docs page is self-contained (no CDN)."""
import os
import re

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

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


def test_the_schema_is_openapi_3_with_every_path_of_the_contract(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert CONTRACT <= operations(schema)


def test_refusals_are_documented_with_the_contracts_bodies(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    transition = schema["paths"]["/api/v1/dossiers/{dossier_id}/transitions/{name}/"]["post"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(transition["responses"])
    assert transition["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/RulesFailed")
    assert schema["components"]["schemas"]["ClientRequest"]["additionalProperties"] is False


def test_the_schema_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def test_the_docs_page_is_html_listing_every_operation_with_no_external_address(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert not re.findall(r"(?:https?:)?//[^\s\"'<>]+", html)
    assert "<script" not in html
    for method, path in CONTRACT:
        assert path.split("{")[0] in html
    assert "POST</span> <span class=\"path\">/api/v1/dossiers/{dossier_id}/transitions/{name}/" in html
