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
