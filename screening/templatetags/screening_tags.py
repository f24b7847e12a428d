"""Display helpers for screening pages."""

from decimal import Decimal, InvalidOperation

from django import template

from screening.domain.engine import format_number

register = template.Library()


@register.filter
def clinical_number(value):
    """A stored decimal string shown plainly, at most 3 decimal places."""
    if value is None or value == "":
        return "—"
    try:
        return format_number(Decimal(str(value)))
    except InvalidOperation:
        return value


_ACTIONS = {
    "view": "screening.view_eligibilitydecision",
    "screen": "screening.add_eligibilitydecision",
    "sign": "screening.sign_eligibilitydecision",
    "prescreen": "screening.prescreen_eligibilitydecision",
    "audit": "screening.view_audit_trail",
    "administer": "trials.change_criterion",
}


@register.simple_tag(takes_context=True)
def trial_can(context, trial, action: str) -> bool:
    """Whether the page's user may ``action`` in ``trial`` (their memberships)."""
    from accounts.scope import scope_for

    request = context.get("request")
    if request is None or trial is None or not hasattr(trial, "pk"):
        return False
    return scope_for(request.user).can(_ACTIONS[action], trial.pk)


@register.simple_tag(takes_context=True)
def sign_queue_size(context, trial) -> dict:
    """Decisions waiting for the page's user to sign them in ``trial``: the
    count (0 for none), and whether there are more than the menu counts."""
    from screening.reports.worklists import QUEUE_COUNT_CAP, sign_queue_count

    request = context.get("request")
    if request is None or trial is None or not hasattr(trial, "pk"):
        return {"count": 0}
    count = sign_queue_count(user=request.user, trial=trial)
    if count > QUEUE_COUNT_CAP:
        return {"count": QUEUE_COUNT_CAP, "more": True}
    return {"count": count, "more": False}
