"""Integration test fixtures: the page tests' signed-in browsers; eager webhook attempts run inline."""
import pytest

from ..pages.conftest import as_admin, as_manager, as_outsider, as_viewer  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _inline_webhook_attempts(settings):
    # A test's uncommitted rows are invisible to another thread: attempts run where the test drives them.
    settings.WEBHOOK_EAGER_THREADS = False
