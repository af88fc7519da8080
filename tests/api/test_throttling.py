"""API throttling: one budget per token (the answer beyond it is a 429 `{"detail"}` with Retry-After), another
token or user keeps theirs; the counts are kept in the configured cache."""
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from organisations.throttling import TokenRateThrottle

from ..factories import token_for
from .conftest import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    cache.clear()
    settings.API_THROTTLE_RATES = {"token": "3/minute"}
    yield
    cache.clear()


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_past_its_rate_gets_429_and_another_token_does_not(low_rates, manager_membership):
    first = with_token(token_for(manager_membership))
    assert [first.get(url("client-list")).status_code for _ in range(3)] == [200, 200, 200]
    refused = first.get(url("client-list"))
    assert refused.status_code == 429
    assert set(refused.json()) == {"detail"} and "Retry-After" in refused.headers
    assert refused.json()["detail"].startswith("Requête ralentie")
    assert with_token(token_for(manager_membership)).get(url("client-list")).status_code == 200


def test_a_signed_in_browser_has_its_users_budget(low_rates, manager_membership):
    browser = APIClient()
    browser.force_login(manager_membership.user)
    assert [browser.get(url("client-list")).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_default_rates_leave_ordinary_use_alone(manager_membership):
    cache.clear()
    client = with_token(token_for(manager_membership))
    assert {client.get(url("client-list")).status_code for _ in range(50)} == {200}
    throttle = TokenRateThrottle()  # the default rate, as a request reads it
    assert throttle.num_requests / throttle.duration >= 100


@pytest.mark.slow
def test_production_keeps_the_counts_in_redis_when_configured():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.CACHES['default']['BACKEND'])")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "segurtrack.settings", "REDIS_URL": "redis://127.0.0.1:6379/1"}
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                          timeout=60).stdout.strip() == "django.core.cache.backends.redis.RedisCache"
    env.pop("REDIS_URL")
    env.pop("CACHE_URL", None)
    assert subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                          timeout=60).stdout.strip() == "django.core.cache.backends.locmem.LocMemCache"
