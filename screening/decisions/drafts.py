"""No lost work: a screening form posted after the session expired is kept.

``LoginRequiredMiddleware`` would send the browser to the login page and the
typed values would be gone. This middleware, placed before it, keeps the posted
fields in the new (anonymous) session; login keeps the session's data, and the
form opens again with everything that was typed and a message saying why.

A draft belongs to the user who typed it: each signed-in response carries a
signed cookie naming the user, the draft records that user, and only that user,
signed in again within an hour, gets it back. Anyone else's login drops it.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _

DRAFT_KEY = "screening_draft"
USER_COOKIE = "screening_user"
_SALT = "screening.decisions.drafts"
DRAFT_MAX_AGE = 3600
# The views whose POST is a screening form.
DRAFT_VIEWS = frozenset({"screening:screen", "screening:correct"})
_MAX_FIELDS = 500


class ScreeningDraftMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.set_signed_cookie(
                USER_COOKIE,
                str(user.pk),
                salt=_SALT,
                max_age=settings.SESSION_COOKIE_AGE + DRAFT_MAX_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method != "POST"
            or request.user.is_authenticated
            or request.resolver_match is None
            or request.resolver_match.view_name not in DRAFT_VIEWS
        ):
            return None
        owner = request.get_signed_cookie(USER_COOKIE, default=None, salt=_SALT)
        if owner is None:
            return None  # nobody to keep it for: the login page, as before
        fields = {
            key: request.POST.getlist(key)
            for key in list(request.POST)[:_MAX_FIELDS]
            if key != "csrfmiddlewaretoken"
        }
        request.session[DRAFT_KEY] = {
            "path": request.path,
            "fields": fields,
            "user": owner,
            "saved_at": time.time(),
        }
        return redirect_to_login(request.get_full_path())


def draft_take(request) -> dict | None:
    """The fields kept for this page, once; tells the user why they are back."""
    draft = request.session.get(DRAFT_KEY)
    if not isinstance(draft, dict):
        return None
    if (
        draft.get("user") != str(request.user.pk)
        or time.time() - float(draft.get("saved_at") or 0) > DRAFT_MAX_AGE
    ):
        del request.session[DRAFT_KEY]  # another user's, or too old: gone
        return None
    if draft.get("path") != request.path:
        return None
    del request.session[DRAFT_KEY]
    messages.warning(
        request,
        _(
            "Your session had expired, so nothing was recorded. What you typed is "
            "below: check it and submit again."
        ),
    )
    fields = draft.get("fields")
    return fields if isinstance(fields, dict) else None
