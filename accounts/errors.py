"""The page shown when a form's CSRF check fails, in the site's layout."""

from django.shortcuts import render


def csrf_failure(request, reason=""):
    """403 with the site's menu and language; the reason is logged by Django only.

    Rendered with the request (unlike Django's own view), so the page has the
    user's menu and a fresh CSRF token for the next form sent.
    """
    return render(request, "403_csrf.html", status=403)
