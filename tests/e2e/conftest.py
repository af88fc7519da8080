"""Browser-test fixtures: Debian's Chromium for Playwright, a live server, signed-in pages."""
import os

import pytest
from django.test.utils import override_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--lang=fr-FR"]
PASSWORD = "segur-test-pw"  # tests.factories.UserFactory's


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests run last, after pytest-django's own ordering. Once started, Playwright's sync API leaves an
    event loop marked running in the test thread for the rest of the session (Django then refuses ORM calls
    unless DJANGO_ALLOW_ASYNC_UNSAFE is set), and each transactional test ends by emptying every table."""
    browser_tests = [item for item in items if item.get_closest_marker("e2e")]
    if browser_tests:
        items[:] = [item for item in items if not item.get_closest_marker("e2e")] + browser_tests


@pytest.fixture(scope="session", autouse=True)
def _orm_beside_the_browser():
    """The ORM calls of the browser tests (and the flush that ends them) run beside Playwright's event loop.
    Set from the first browser test to the end of the session, which they close (see above)."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def reference_data(transactional_db):
    """The couloirs and dispositifs a data migration ships. Transactional tests end with a flush that empties
    every table, so each browser test loads them again (the same idempotent function as the migration)."""
    from importlib import import_module

    from django.apps import apps

    import_module("dossiers.migrations.0002_reference_data").load(apps, None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fr-FR", "viewport": {"width": 1280, "height": 900},
            "accept_downloads": True}


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, started while MEDIA_URL has a value: Django's live server thread wraps the
    site in a media handler built from it, and this project sets none (documents have no public URL)."""
    from pytest_django.live_server_helper import LiveServer

    with override_settings(MEDIA_URL="/_no-media/"):
        server = LiveServer(os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost")
    yield server
    server.stop()


@pytest.fixture
def sign_in(page, live_server):
    """Sign a user in through the login page; returns the page on the home page."""
    def go(username: str, password: str = PASSWORD):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Identifiant").fill(username)
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(f"{live_server.url}/")
        return page
    return go


@pytest.fixture
def pdf_file(tmp_path):
    """Write a small PDF to a temp file (for set_input_files)."""
    from ..factories import PDF

    def write(name: str) -> str:
        path = tmp_path / name
        path.write_bytes(PDF)
        return str(path)
    return write
