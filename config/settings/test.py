"""Settings for the test suite (pytest-django)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env(
    "DJANGO_SECRET_KEY", default="test-only-not-secret-key-0123456789abcdef"
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# Threads of the live server and the concurrency tests must not keep
# connections open past a test (the test database is dropped at the end).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
AUDIT_HMAC_KEY = env(
    "AUDIT_HMAC_KEY", default="test-only-not-secret-audit-key-0123456789abcdef"
)
AUDIT_HMAC_KEY_ID = env("AUDIT_HMAC_KEY_ID", default="test")
