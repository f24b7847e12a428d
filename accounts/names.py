"""The one place that decides how a person's name is shown.

English pages show the account's full name; Chinese pages show the person's
Chinese name (``Profile.display_name_zh``) where they have one. A user name is
shown only when the account has no full name. Pages that list many rows fetch
``<user>__profile`` with ``select_related`` so that no row costs a query.
"""

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import get_language


def _chinese(language: str | None) -> bool:
    return (language or get_language() or settings.LANGUAGE_CODE).startswith("zh")


def chinese_name(user) -> str:
    """The user's Chinese name, or "" when they have none."""
    try:
        profile = user.profile
    except ObjectDoesNotExist:
        return ""
    return profile.display_name_zh.strip() if profile else ""


def display_name(user, language: str | None = None) -> str:
    """The name shown for ``user`` in ``language`` (default: the active one)."""
    if user is None:
        return ""
    if _chinese(language):
        name = chinese_name(user)
        if name:
            return name
    return user.get_full_name().strip() or user.get_username()


def signer_name(signature, language: str | None = None) -> str:
    """Who signed, for a list: the Chinese name on Chinese pages, else as signed."""
    if signature is None:
        return ""
    if _chinese(language):
        name = chinese_name(signature.signer)
        if name:
            return name
    return signature.signer_full_name


def signed_name(signature, language: str | None = None) -> str:
    """A signature's printed name as signed; on Chinese pages the Chinese name too.

    The name stored with the signature is what the signer signed with and is
    always shown; a Chinese name added later never replaces it.
    """
    if signature is None:
        return ""
    signed = signature.signer_full_name
    if _chinese(language):
        name = chinese_name(signature.signer)
        if name and name != signed:
            return f"{name}（{signed}）"
    return signed
