"""Integration test fixtures: the page tests' signed-in browsers."""
from ..pages.conftest import as_admin, as_manager, as_outsider, as_viewer  # noqa: F401 (fixtures)
