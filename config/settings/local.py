"""Development on a workstation: `make run`. Never used in production."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY", default="local-development-only-not-secret-key-0123456789"
)
# Not secret: a workstation's ledger proves nothing.
AUDIT_HMAC_KEY = env(
    "AUDIT_HMAC_KEY", default="local-development-only-not-secret-audit-key-0123"
)
AUDIT_HMAC_KEY_ID = env("AUDIT_HMAC_KEY_ID", default="local")
