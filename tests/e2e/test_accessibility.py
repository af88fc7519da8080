"""Every page a member can open, checked with axe-core (vendored in axe-playwright-python) in Chromium: zero serious or
critical violations.

The pages are read from the URLconf, so a page added later is checked without being listed here; a route taking an
argument this module cannot fill fails the sweep until ARGS says what to pass. Routes that answer something other
than an HTML page to a GET (POST-only writes, downloads, JSON, htmx fragments) are recognised as such and left out.
"""
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dossiers.models import State
from faqref.models import Entry
from imports.models import ImportJob
from varequests import services as va_services
from webhooks.models import Endpoint

from ..imports.conftest import csv_file, rows
from ..pages.conftest import signed_in
from ..pages.test_access import OBJECT_OF, OTHER_ARGS, QUERY, world  # noqa: F401 (world: a fixture used here)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SERIOUS = {"serious", "critical"}
# Namespaces and routes outside the pages: the API (its docs page is checked in test_api_docs), the admin.
OUTSIDE = ("admin:", "api:", "api_", "imports_api:", "va_api:", "reports:", "faq-", "token-list", "token-detail",
           "webhook-")
# Fragments htmx swaps into a page (checked inside their page), a feed, and the probes' JSON.
FRAGMENTS = {"notifications-unread", "client-identifier-check", "report-export-status", "imports:status",
             "calendar-feed", "health"}
# Objects of the other apps' routes, beside those of tests.pages.test_access (OBJECT_OF).
EXTRA_OBJECTS = {"faqref:entry": "faq_entry", "imports:detail": "import_job", "imports:report": "import_job",
                 "imports:confirm": "import_job", "imports:status": "import_job",
                 "webhooks:endpoint": "endpoint", "webhooks:endpoint-delete": "endpoint",
                 "webhooks:endpoint-rotate": "endpoint", "webhooks:redeliver": "endpoint",
                 "varequests:request-create": "dossier", "varequests:request-revoke": "va_request"}


def page_routes():
    """(name, pattern) of every named route of the root URLconf outside the API and the admin."""
    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, namespace + (f"{entry.namespace}:" if entry.namespace else ""))
            elif isinstance(entry, URLPattern) and entry.name:
                yield namespace + entry.name, entry
    for name, pattern in walk(get_resolver().url_patterns):
        if not name.startswith(OUTSIDE) and name not in FRAGMENTS and not str(pattern.pattern).startswith("api/"):
            yield name, pattern


def url_for(name: str, pattern: URLPattern, objects: dict) -> str:
    kwargs = {}
    for arg, converter in pattern.pattern.converters.items():
        if converter.regex == "[0-9]+":
            kind = OBJECT_OF.get(name) or EXTRA_OBJECTS.get(name)
            assert kind, f"{name}: say which object its id names (EXTRA_OBJECTS)"
            kwargs[arg] = objects[kind].pk
        elif name == "varequests:sign":
            kwargs[arg] = objects["va_token"]
        else:
            assert arg in OTHER_ARGS, f"{name}: say what to pass as {arg}"
            kwargs[arg] = OTHER_ARGS[arg]
    return reverse(name, kwargs=kwargs) + QUERY.get(name, "")


@pytest.fixture
def objects(world, organisation, manager_membership):  # noqa: F811 (the fixture imported above)
    deployed = walk_to_deployed(manager_membership)
    va_request = va_services.request_va(deployed.pk, by=manager_membership.user, email="jeanne@clinique.example",
                                        name="Dr Jeanne Martin")
    signed_in(manager_membership).post(reverse("imports:index"), {"file": csv_file(rows(3))})
    entry = Entry.objects.create(slug="guide", derived_title="Guide du programme", text="Les règles du programme.",
                                 fingerprint="0" * 64)
    endpoint = Endpoint.objects.create(organisation=organisation, url="http://127.0.0.1:9/hook", events=["*"])
    return {**world, "faq_entry": entry, "import_job": ImportJob.objects.latest("pk"), "endpoint": endpoint,
            "va_request": va_request, "va_token": va_request.token}


def walk_to_deployed(membership):
    from ..factories import walk_to

    return walk_to(State.DEPLOYED, membership=membership)


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in SERIOUS]


def sweep(page, live_server, client, routes, objects) -> tuple[dict[str, list[str]], list[str]]:
    """axe on each route that answers an HTML page to a GET: {url: violations}, and the names checked."""
    found, checked = {}, []
    for name, pattern in routes:
        url = url_for(name, pattern, objects)
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue  # a write (405), a download, a page this role may not open (403), or a redirect
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        checked.append(name)
        if problems := serious_violations(page):
            found[url] = problems
    return found, checked


def test_every_page_a_manager_opens_has_no_serious_accessibility_violation(page, live_server, sign_in, objects,
                                                                            manager_membership):
    sign_in("manon")
    found, checked = sweep(page, live_server, signed_in(manager_membership), list(page_routes()), objects)
    assert found == {}
    assert {"home", "dossier-list", "dossier-detail", "dossier-solde", "dossier-create", "client-list",
            "client-edit", "solution-detail", "deadlines", "calendar", "report-pending-va", "report-pipeline",
            "notifications", "faqref:index", "faqref:entry", "imports:index", "imports:detail", "tokens",
            "password_change", "organisation-switch", "dossier-bulk", "varequests:sign"} <= set(checked)


def test_the_admin_pages_have_no_serious_accessibility_violation(page, live_server, sign_in, objects,
                                                                admin_membership):
    sign_in("adele")
    admin_only = [(name, pattern) for name, pattern in page_routes()
                  if name in {"members", "webhooks:endpoints", "webhooks:endpoint"}]
    found, checked = sweep(page, live_server, signed_in(admin_membership), admin_only, objects)
    assert found == {}
    assert set(checked) == {"members", "webhooks:endpoints", "webhooks:endpoint"}


def test_a_signed_out_page_and_a_failed_form_have_no_serious_violation(page, live_server, sign_in, objects):
    page.goto(f"{live_server.url}{reverse('login')}")
    assert serious_violations(page) == []
    # The check sees a violation when there is one: an image without a text alternative is critical.
    page.evaluate("document.body.appendChild(Object.assign(document.createElement('img'), {src: '/x.png'}))")
    assert [problem for problem in serious_violations(page) if problem.startswith("image-alt (critical)")]
    page.reload()
    page.get_by_label("Identifiant").fill("manon")
    page.get_by_label("Mot de passe").fill("faux")
    page.get_by_role("button", name="Se connecter").click()
    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    # The summary took the focus, so a screen reader reads it first.
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert serious_violations(page) == []

    sign_in("manon")
    page.goto(f"{live_server.url}{reverse('deadlines')}?due_before=demain")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    page.locator("[data-error-summary] a").first.click()
    assert page.evaluate("document.activeElement.id") == "id_due_before"
    assert serious_violations(page) == []
