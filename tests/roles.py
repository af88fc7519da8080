"""Fixtures made per role: the same client (API or browser) built from another role's membership."""
from collections.abc import Callable
from typing import Any

import pytest


def membership_fixture(name: str, membership: str, make: Callable[[Any], Any], doc: str = "") -> Any:
    """The fixture `name`: what `make` builds from the fixture `membership` (e.g. `viewer_membership`)."""
    def fixture(request):
        return make(request.getfixturevalue(membership))
    fixture.__doc__ = doc or None
    return pytest.fixture(name=name)(fixture)
