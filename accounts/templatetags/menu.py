"""The top menu's marker of the page being shown."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_current(context, view_name: str, *section: str) -> str:
    """``aria-current="page"`` on the link to this page; ``"true"`` on the link
    whose section it belongs to (a record under the log, the sign page under
    the sign-off queue); nothing otherwise."""
    match = getattr(context.get("request"), "resolver_match", None)
    here = match.view_name if match else None
    if here == view_name:
        return mark_safe(' aria-current="page"')  # noqa: S308 (fixed text)
    if here in section:
        return mark_safe(' aria-current="true"')  # noqa: S308 (fixed text)
    return ""
