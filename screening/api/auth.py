"""Bearer tokens and their rate limit.

Each request acts as the token's user, with that user's memberships (scope):
the API has no accounts of its own and no shared service account.
"""

import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from screening.api.models import ApiToken
from screening.api.tokens import api_token_authenticate

_PERIODS = {"s": 1, "min": 60, "h": 3600, "d": 86400}


class TokenAuth(HttpBearer):
    """``Authorization: Bearer msc_...``: an active token of an active user."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_token_authenticate(token)
        if found is not None:
            request.api_user = found.user
        return found


def api_rate() -> tuple[int, int]:
    """Requests allowed per token and the window in seconds ("120/min")."""
    count, _sep, period = settings.API_TOKEN_RATE.partition("/")
    return int(count), _PERIODS[period]


class TokenThrottle(BaseThrottle):
    """A fixed window per token, counted in the cache (shared between workers
    when the cache is: configure a shared cache in production)."""

    _local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        token = getattr(request, "auth", None)
        if token is None:
            return True
        limit, window = api_rate()
        now = time.time()
        start = int(now // window) * window
        key = f"api-throttle:{token.pk}:{start}"
        cache.add(key, 0, timeout=window + 1)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window + 1)
            used = 1
        self._local.wait = start + window - now
        return used <= limit

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)
