"""Deployment checks (`manage.py check --deploy`): what would break with several web processes."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register

PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}
# Files on one machine's disk (a cache-only session engine is fine on the shared Redis cache, W001 covers the rest).
PROCESS_LOCAL_SESSIONS = {"django.contrib.sessions.backends.file"}


@register(Tags.caches, deploy=True)
def shared_cache(app_configs=None, **kwargs) -> list[Warning]:
    """The cache holds the API throttle counts, the VA upload limit and cached sessions: it must be shared."""
    return [Warning(f"The cache '{alias}' lives in one process ({config['BACKEND']}): with several web processes "
                    "each one counts the API throttle and the VA upload limit on its own.",
                    hint="Set REDIS_URL (or CACHE_URL) so every process shares a Redis cache.",
                    id="segurtrack.W001")
            for alias, config in settings.CACHES.items() if config["BACKEND"] in PROCESS_LOCAL_CACHES]


@register(Tags.security, deploy=True)
def shared_sessions(app_configs=None, **kwargs) -> list[Warning]:
    if settings.SESSION_ENGINE not in PROCESS_LOCAL_SESSIONS:
        return []
    return [Warning(f"Sessions are kept by {settings.SESSION_ENGINE}: a user signed in through one web process "
                    "may be unknown to another.",
                    hint="Keep the database sessions the settings choose (db, or cached_db with a Redis cache).",
                    id="segurtrack.W002")]
