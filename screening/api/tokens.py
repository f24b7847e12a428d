"""Writes and reads of personal API tokens; creation and revocation are access events.

A token is ``msc_`` followed by 43 URL-safe characters (256 random bits), so
its SHA-256 is all that needs keeping: nobody can guess a token from it, and a
copy of the database gives no way into the API.
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.client import client_address
from accounts.models import AccessEvent
from screening.api.models import ApiToken

TOKEN_PREFIX = "msc_"  # noqa: S105 - not a secret: every token starts so
# Shown to tell tokens apart: "msc_" and four random characters.
SHOWN_CHARS = 8
# The time of last use is written at most this often per token.
LAST_USED_EVERY = timedelta(minutes=1)
MAX_ACTIVE_TOKENS = 10


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _event(*, user, detail: str, request: HttpRequest | None) -> None:
    AccessEvent.objects.create(
        action=AccessEvent.Action.ACCOUNT_CHANGED,
        user=user,
        username=user.get_username(),
        actor=user,
        detail=detail[:200],
        ip_address=client_address(request) if request is not None else None,
    )


def api_token_create(
    *, user: AbstractBaseUser, name: str, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the token (shown once)."""
    name = name.strip()
    if user.api_tokens.filter(revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            _("You have %(max)s active tokens: revoke one first."),
            code="too_many_tokens",
            params={"max": MAX_ACTIVE_TOKENS},
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name, prefix=secret[:SHOWN_CHARS], digest=token_digest(secret)
    )
    token.full_clean(validate_constraints=False, validate_unique=False)
    try:
        with transaction.atomic():
            token.save(force_insert=True)
            _event(user=user, detail=f"api token created: {name}", request=request)
    except IntegrityError:
        raise ValidationError(
            {
                "name": ValidationError(
                    _("You already have an active token of this name."),
                    code="token_name_taken",
                )
            }
        ) from None
    return token, secret


def api_token_revoke(
    *, user: AbstractBaseUser, token_id: int, request: HttpRequest | None = None
) -> ApiToken:
    """Revoke one of the user's own active tokens (another's "does not exist")."""
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update()
            .filter(user=user, revoked_at__isnull=True)
            .get(pk=token_id)
        )
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _event(user=user, detail=f"api token revoked: {token.name}", request=request)
    return token


def api_token_authenticate(secret: str) -> ApiToken | None:
    """The active token of an active user that ``secret`` is, or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_tokens_of(*, user: AbstractBaseUser) -> list[ApiToken]:
    """Active tokens first (newest first), then the revoked ones."""
    return list(
        user.api_tokens.order_by(
            F("revoked_at").asc(nulls_first=True), "-created_at", "-id"
        )
    )
