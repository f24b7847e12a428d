"""Production: behind a TLS-terminating reverse proxy, run by gunicorn (README)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
# No default: a missing secret must stop the server at start.
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# No default either: production never falls back to SQLite.
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"].update(
    ATOMIC_REQUESTS=False,
    CONN_MAX_AGE=env.int("DJANGO_CONN_MAX_AGE", default=60),
    CONN_HEALTH_CHECKS=True,
)
# No default: without the audit ledger's key the server does not start (README,
# "Audit ledger"); AUDIT_HMAC_KEY_ID names it, AUDIT_HMAC_OLD_KEYS keeps old ones.
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# The number of trusted reverse proxies in front of gunicorn (README).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
