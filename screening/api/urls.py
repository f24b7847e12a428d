"""The API under /api/v1/ and the token page under /api/tokens/.

The API's routes answer for themselves: a request without a valid token gets a
401 problem, not the login page, so they are exempt from the site's login
redirect (LoginRequiredMiddleware).
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from screening.api import views
from screening.api.api import api
from screening.api.problems import not_found


def _token_answered(urls):
    patterns, app_name, namespace = urls
    for pattern in patterns:
        login_not_required(pattern.callback)
    return patterns, app_name, namespace


urlpatterns = [
    path("v1/", _token_answered(api.urls)),
    re_path(r"^v1/", login_not_required(csrf_exempt(not_found)), name="api_not_found"),
    path("tokens/", views.tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
]
