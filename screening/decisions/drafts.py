"""No lost work: a screening form posted after the session expired is kept.

``LoginRequiredMiddleware`` would send the browser to the login page and the
typed values would be gone. This middleware, placed before it, keeps the posted
fields in the new (anonymous) session; login keeps the session's data, and the
form opens again with everything that was typed and a message saying why.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _

DRAFT_KEY = "screening_draft"
# The views whose POST is a screening form.
DRAFT_VIEWS = frozenset({"screening:screen", "screening:correct"})
_MAX_FIELDS = 500


class ScreeningDraftMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method != "POST"
            or request.user.is_authenticated
            or request.resolver_match is None
            or request.resolver_match.view_name not in DRAFT_VIEWS
        ):
            return None
        fields = {
            key: request.POST.getlist(key)
            for key in list(request.POST)[:_MAX_FIELDS]
            if key != "csrfmiddlewaretoken"
        }
        request.session[DRAFT_KEY] = {"path": request.path, "fields": fields}
        return redirect_to_login(request.get_full_path())


def draft_take(request) -> dict | None:
    """The fields kept for this page, once; tells the user why they are back."""
    draft = request.session.get(DRAFT_KEY)
    if not isinstance(draft, dict) or draft.get("path") != request.path:
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
