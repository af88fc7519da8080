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
