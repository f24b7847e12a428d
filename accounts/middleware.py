"""Pages seen after login carry patient data: no browser or proxy may keep them."""

import time

from django.conf import settings
from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response


class IdleSessionMiddleware:
    """Sessions end after SESSION_COOKIE_AGE without activity.

    A signed-in user's session is saved with a new expiry at most once every
    SESSION_REFRESH_SECONDS instead of on every request (SESSION_SAVE_EVERY_REQUEST
    would write a row per page): the idle limit holds to within that interval.
    """

    TOUCHED = "_touched"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if (
            session is not None
            and user is not None
            and user.is_authenticated
            and not session.is_empty()
        ):
            if (
                int(time.time()) - session.get(self.TOUCHED, 0)
                >= settings.SESSION_REFRESH_SECONDS
            ):
                self.touch(session)
        return response

    @classmethod
    def touch(cls, session) -> None:
        """Mark the session active now (it is then saved with a new expiry)."""
        session[cls.TOUCHED] = int(time.time())
