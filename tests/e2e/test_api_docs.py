"""In a real browser, under a Content Security Policy that forbids inline scripts: the API docs render every operation."""
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What a production CSP allows: this site's own scripts only (Swagger UI sets inline styles on its elements).
CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"


def test_the_api_docs_render_the_operations_under_a_csp_without_inline_scripts(page: Page, live_server):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(live_server.url) else None)

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    page.route(re.compile(r".*/api/v1/docs/.*"), with_csp)

    page.goto(f"{live_server.url}/api/v1/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("segurtrack API")
    transition = page.locator(".opblock-post", has_text="/api/v1/dossiers/{dossier_id}/transitions/{name}/")
    expect(transition.first).to_be_visible()
    assert page.locator(".opblock").count() >= 40
    expect(page.locator(".opblock-get", has_text="/api/v1/dossiers/{dossier_id}/solde.json").first).to_be_visible()
    transition.first.locator(".opblock-summary").click()
    expect(transition.first.locator(".opblock-body")).to_be_visible()
    assert violations == [] and outside == []
