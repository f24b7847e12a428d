"""Template filters for names: ``{{ user|display_name }}``, ``{{ s|signer_name }}``."""

from django import template

from accounts import names

register = template.Library()


@register.filter
def display_name(user) -> str:
    """The user's name in the page's language (accounts/names.py)."""
    return names.display_name(user)


@register.filter
def signer_name(signature) -> str:
    """Who signed, for a list (accounts/names.py)."""
    return names.signer_name(signature)


@register.filter
def signed_name(signature) -> str:
    """A signature's printed name, with the Chinese name on Chinese pages."""
    return names.signed_name(signature)
