"""`/health/`: database, cache, storage, Redis and the broker (when configured); 200 when all answer, else 503."""
from __future__ import annotations

import asyncio
import dataclasses
import datetime

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views import View
from health_check.base import HealthCheck
from health_check.checks import Cache, Database, Storage
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from kombu import Connection
from redis.asyncio import Redis as RedisClient


@dataclasses.dataclass
class Broker(HealthCheck):
    """Connect to the Celery broker and, for Redis, ping it (no worker needed: workers are watched elsewhere)."""

    url: str = dataclasses.field(repr=False, default="")
    seconds: float = dataclasses.field(repr=False, default=5)

    def run(self) -> None:
        try:
            with Connection(self.url, connect_timeout=self.seconds,
                            transport_options={"socket_timeout": self.seconds}) as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, timeout=self.seconds)
                client = getattr(connection.default_channel, "client", None)
                if client is not None:
                    client.ping()
        except Exception as exc:  # kombu and redis raise many types; none may leak the URL (it holds the password)
            raise ServiceUnavailable("Unable to connect to the broker.") from exc


def configured_checks() -> dict[str, HealthCheck]:
    """The parts this deployment uses, by the name the answer gives them, each within the same time budget."""
    seconds = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    budget = datetime.timedelta(seconds=seconds)
    checks: dict[str, HealthCheck] = {"database": Database(), "cache": Cache(timeout=budget), "storage": Storage()}
    if settings.REDIS_URL:
        url = settings.REDIS_URL
        checks["redis"] = Redis(client_factory=lambda: RedisClient.from_url(
            url, socket_connect_timeout=seconds, socket_timeout=seconds))
    if settings.CELERY_BROKER_URL:
        checks["broker"] = Broker(url=settings.CELERY_BROKER_URL, seconds=seconds)
    for check in checks.values():
        check.timeout = budget
    return checks


class HealthView(View):
    """Public and uncached; the answer names each part and its state, never a host, port or credential."""

    async def get(self, request):
        checks = configured_checks()
        results = await asyncio.gather(*(check.get_result() for check in checks.values()))
        parts = {name: ("ok" if result.error is None else str(result.error) or "unavailable")
                 for name, result in zip(checks, results)}
        down = [name for name, result in zip(checks, results) if result.error is not None]
        response = JsonResponse({"status": "down" if down else "ok", "down": down, "checks": parts},
                                status=503 if down else 200)
        add_never_cache_headers(response)
        return response
