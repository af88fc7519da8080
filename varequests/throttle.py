"""Upload attempts per link and hour, counted in the cache (VA_UPLOAD_ATTEMPTS_PER_HOUR)."""
from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 3600


def attempt(token_digest: str) -> bool:
    """Count one upload attempt on the link; False once the hour's allowance is spent."""
    key = f"varequests:upload:{token_digest}"
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        count = 1
    return count <= settings.VA_UPLOAD_ATTEMPTS_PER_HOUR
