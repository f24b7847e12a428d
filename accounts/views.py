from datetime import datetime, time
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from screening.reports.audit import AuditFilterForm
from trials.models import Trial

from . import reauth
from .roles import ROLE_LABELS
from .scope import SCREEN, SIGN, VIEW, VIEW_ACCESS, scope_for
from .selectors import access_events_visible

# Account changes are recorded in fixed English words (signals.py); pages show
# them in their language.
_ACCOUNT_WORDS = {
    "created": _("account created"),
    "password": _("password changed"),
    "username": _("user name"),
    "is_superuser": _("superuser"),
    "is_staff": _("staff"),
    "is_active": _("active"),
    "permission added": _("permission added"),
    "permission removed": _("permission removed"),
    "True": _("yes"),
    "False": _("no"),
}
_ROLE_WORD = _("role")
_MEMBERSHIP_WORD = _("trial membership")
# API token events ("api token created: <name>", screening/api/tokens.py): the
# token's name is shown as it was given.
_TOKEN_WORDS = {
    "api token created": _("API token created:"),
    "api token revoked": _("API token revoked:"),
}
# A failed re-authentication names what was being signed (accounts/reauth.py).
_REAUTH_PURPOSES = {
    reauth.SIGNATURE: _("signing a decision"),
    reauth.VERSION_ACTIVATION: _("activating a criteria version"),
    reauth.AUDIT_REVIEW: _("signing an audit-trail review"),
}


def home(request):
    """Send each user to their work; a user without a role sees only that."""
    user = request.user
    scope = scope_for(user)
    trials = Trial.objects.order_by("slug")
    if not user.is_superuser:
        trials = trials.filter(pk__in=scope.trials(VIEW))
    trials = list(trials)
    if len(trials) == 1:
        return redirect(_work_of(scope, trials[0]))
    if trials:
        return render(request, "accounts/trials.html", {"trials": trials})
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "accounts/no_role.html", status=403)


def _work_of(scope, trial):
    """An investigator's work is the sign-off queue, a coordinator's the worklist;
    everyone else reads the log."""
    from django.urls import reverse

    if not scope.everything and scope.can(SIGN, trial.pk):
        return reverse("screening:sign_queue", args=[trial.slug])
    if not scope.everything and scope.can(SCREEN, trial.pk):
        return reverse("screening:worklist", args=[trial.slug])
    return trial.get_absolute_url()


def access_log(request):
    """Access events of the users of the trials the reader monitors."""
    scope = scope_for(request.user)
    if not scope.everything and not scope.trials(VIEW_ACCESS):
        raise PermissionDenied
    events = access_events_visible(scope).select_related("actor").order_by("-at", "-id")
    form = AuditFilterForm(request.GET or None)
    period = form.cleaned_data if form.is_bound and form.is_valid() else {}
    zone = ZoneInfo(settings.TIME_ZONE)
    if period.get("date_from"):
        start = datetime.combine(period["date_from"], time.min, tzinfo=zone)
        events = events.filter(at__gte=start)
    if period.get("date_to"):
        end = datetime.combine(period["date_to"], time.max, tzinfo=zone)
        events = events.filter(at__lte=end)
    if who := (period.get("user") or "").strip():
        events = events.filter(username__icontains=who)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    for event in page:
        event.detail_label, event.detail_code = detail_label(event.detail)
        # A role's own events name the role where a user name would stand.
        event.who = (
            ROLE_LABELS.get(event.username, event.username)
            if event.user_id is None and event.detail.startswith("role ")
            else event.username
        )
    query = urlencode({k: v for k, v in request.GET.items() if k != "page"})
    return render(
        request,
        "accounts/access_log.html",
        {"page": page, "form": form, "query": query},
    )


def detail_label(detail: str) -> tuple[str, str]:
    """An access event's detail in the page's language, and a code it names.

    The code (a permission's "app.codename") is shown as it is, marked as code.
    """
    if detail in ROLE_LABELS:
        return str(ROLE_LABELS[detail]), ""
    if parts := reauth.reauth_parts(detail):
        # "re-authentication <trial>: <purpose>": the trial as a code.
        slug, purpose = parts
        label = _("Re-authentication while %(purpose)s, trial:") % {
            "purpose": _REAUTH_PURPOSES[purpose]
        }
        return str(label), slug
    if detail in _ACCOUNT_WORDS:
        return str(_ACCOUNT_WORDS[detail]), ""
    if detail.startswith("membership ") and ": " in detail:
        # "membership ROLE: trial-slug[/site]": the trial and site as codes.
        name, _sep, where = detail[len("membership ") :].partition(": ")
        return f"{_MEMBERSHIP_WORD} {ROLE_LABELS.get(name, name)}:", where
    role = ""
    if detail.startswith("role ") and ": " in detail:
        name, _sep, detail = detail[5:].partition(": ")
        role = f"{_ROLE_WORD} {ROLE_LABELS.get(name, name)}: "
    field, sep, change = detail.partition(": ")
    if sep and not role and field in _TOKEN_WORDS:
        return str(_TOKEN_WORDS[field]), change
    if sep and field in ("permission added", "permission removed"):
        return f"{role}{_ACCOUNT_WORDS[field]}:", change
    if sep and field in _ACCOUNT_WORDS:
        old, arrow, new = change.partition(" -> ")
        if arrow:
            change = f"{_ACCOUNT_WORDS.get(old, old)} → {_ACCOUNT_WORDS.get(new, new)}"
        return f"{role}{_ACCOUNT_WORDS[field]}: {change}", ""
    return role + detail, ""
