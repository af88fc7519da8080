"""API throttling per token (per user for the browser session).

Rates come from `settings.API_THROTTLE_RATES` when a request is made (so they are read from the environment in
production and can be raised in tests); the counts live in the default cache: Redis in production.
"""
from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """One budget per API token; a browser session's requests share their user's budget."""

    scope = "token"

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

