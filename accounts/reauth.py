"""Re-authentication before a signature: the one path every signing form takes.

The password goes through Django's ``authenticate()`` with the request, as a
login does: a wrong one is a failed login (an access event, counted by
django-axes towards the lockout), never a private answer. The access event
names what was being signed and in which trial (``reauth_detail``), so that a
monitor's audit-trail review finds a trial's failed re-authentications.
"""

from django.contrib.auth import authenticate
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# What is signed after a re-authentication (fixed words of the access event).
SIGNATURE = "signature"
VERSION_ACTIVATION = "version activation"
AUDIT_REVIEW = "audit review"
PURPOSES = (SIGNATURE, VERSION_ACTIVATION, AUDIT_REVIEW)
# Every failed re-authentication's detail starts so.
DETAIL_PREFIX = "re-authentication "


def reauth_detail(trial_slug: str, purpose: str) -> str:
    """The failed login's detail: ``re-authentication <trial>: <purpose>``."""
    return f"{DETAIL_PREFIX}{trial_slug}: {purpose}"


def reauth_detail_prefix(trial_slug: str) -> str:
    """What every failed re-authentication in the trial's detail starts with.

    A slug holds no space or colon, so no other trial's detail starts so.
    """
    return f"{DETAIL_PREFIX}{trial_slug}: "


def reauth_parts(detail: str) -> tuple[str, str] | None:
    """(trial slug, purpose) of a failed re-authentication's detail, else None."""
    if not detail.startswith(DETAIL_PREFIX) or ": " not in detail:
        return None
    slug, _sep, purpose = detail[len(DETAIL_PREFIX) :].partition(": ")
    return (slug, purpose) if purpose in PURPOSES else None


def reauthenticate(
    request: HttpRequest | None,
    user: AbstractBaseUser,
    password: str,
    *,
    trial_slug: str,
    purpose: str,
) -> None:
    """Raise ``ValidationError`` on the password field unless it is ``user``'s.

    Without a request (a management command), from this host.
    """
    if request is None:
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
    # Read by the failed-login receiver (accounts/signals.py).
    request.reauthentication = reauth_detail(trial_slug, purpose)
    try:
        authenticated = authenticate(
            request, username=user.get_username(), password=password
        )
    finally:
        del request.reauthentication
    if authenticated is None or authenticated.pk != user.pk:
        raise ValidationError(
            {
                "password": ValidationError(
                    _("The password is not correct."), code="bad_password"
                )
            }
        )
