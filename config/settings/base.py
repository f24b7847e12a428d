"""Settings shared by every environment, read from the environment (django-environ)."""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

APP_VERSION = env("APP_VERSION", default="0.1.0")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "simple_history",
    "axes",
    # Before the project's apps: screening/admin.py takes the task table's admin off.
    "django_tasks",
    "django_tasks_db",
    "trials",
    "screening",
    "accounts",
    "screening.ledger",
    "ninja",
    "screening.api",
    "screening.labs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "accounts.middleware.NoStoreMiddleware",
    "screening.decisions.drafts.ScreeningDraftMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The server and the jobs' worker share the file: in WAL mode pages read
    # while a job writes, writers wait for each other (up to 20 s) instead of
    # failing with "database is locked", and a write transaction takes its lock
    # when it begins, so two never deadlock upgrading a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL;",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the pages' queries are short and indexed, and at a
    # million records the planner's cost estimates pass the JIT threshold, so
    # a 60 ms query spent 140 ms compiling itself (bench/README.md, pages).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
# Keep connections between requests (a new PostgreSQL connection per request
# costs more than a screening's queries); checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 minutes without activity.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_IDLE_SECONDS", default=30 * 60)
# Activity extends the session, written at most once a minute (not on every page).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = env.int("DJANGO_SESSION_REFRESH_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A failed CSRF check shows the site's page in the user's language.
CSRF_FAILURE_VIEW = "accounts.errors.csrf_failure"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address for lockout and the access log (accounts/client.py):
# the peer itself, or behind TRUSTED_PROXY_COUNT reverse proxies the address
# that the outermost trusted proxy appended to X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "accounts.client.client_address"
TRUSTED_PROXY_COUNT = 0

# The audit ledger (README, "Audit ledger"): each audited row is sealed with an
# HMAC under this key, which lives in the environment and never in the database.
# Earlier keys stay for verification: AUDIT_HMAC_OLD_KEYS="id:key,id:key".
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY", default="")
AUDIT_HMAC_KEY_ID = env("AUDIT_HMAC_KEY_ID", default="k1")
AUDIT_HMAC_OLD_KEYS = env("AUDIT_HMAC_OLD_KEYS", default="")
# Where `audit_anchor` appends the chains' heads: outside the database.
AUDIT_ANCHOR_FILE = env(
    "AUDIT_ANCHOR_FILE", default=str(BASE_DIR / "audit-anchors.jsonl")
)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Bulk pre-screening uploads are parsed in memory up to this size.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A 100,000-row export with several TBil results per row is about 22 MiB.
PRESCREEN_MAX_UPLOAD_BYTES = env.int("PRESCREEN_MAX_UPLOAD_BYTES", default=40 * 2**20)
# Rows of one pre-screening upload; a larger file is refused with this number.
PRESCREEN_MAX_ROWS = env.int("PRESCREEN_MAX_ROWS", default=100_000)
# A file with more rows than this is evaluated as a background job (README,
# "Background jobs"); smaller ones while the page waits.
PRESCREEN_JOB_ROWS = env.int("PRESCREEN_JOB_ROWS", default=2000)
# Worker processes that evaluate a job's rows (one per core by default); the
# job's own process stores them.
PRESCREEN_JOB_PROCESSES = env.int(
    "PRESCREEN_JOB_PROCESSES", default=os.cpu_count() or 1
)
# A lab message larger than this, uploaded on the lab inbox's page, is read and
# checked by a background job (README, "Lab inbox"); smaller ones while the
# page waits.
LAB_JOB_BYTES = env.int("LAB_JOB_BYTES", default=256 * 2**10)

# Background jobs (django-tasks). "database": the jobs table of the app's own
# database and `manage.py db_worker`, no other service (the default, SQLite or
# PostgreSQL); "rq": RQ on Redis at REDIS_URL and `manage.py rqworker`.
TASKS_BACKEND = env("DJANGO_TASKS_BACKEND", default="database")
if TASKS_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    RQ_QUEUES = {
        "default": {
            "URL": env("REDIS_URL", default="redis://127.0.0.1:6379/0"),
            # A 100,000-row upload takes minutes on a busy machine.
            "DEFAULT_TIMEOUT": env.int("RQ_JOB_TIMEOUT", default=3600),
        }
    }
elif TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    raise ImproperlyConfigured("DJANGO_TASKS_BACKEND must be 'database' or 'rq'")
# Rows evaluated and committed together by a job; a job whose worker has not
# reported for this many seconds is taken over by the next (jobs_recover).
JOBS_CHUNK_ROWS = env.int("JOBS_CHUNK_ROWS", default=2000)
JOBS_STALE_SECONDS = env.int("JOBS_STALE_SECONDS", default=120)
# A running job reports (one chunk committed) at least this often; it must stay
# well under JOBS_STALE_SECONDS, after which a job is handed to a new run.
JOBS_CHUNK_SECONDS = env.int("JOBS_CHUNK_SECONDS", default=10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Request bodies and template contexts can hold patient values: never log them.
        "django.request": {"level": "ERROR", "propagate": True},
        "django.security": {"level": "WARNING", "propagate": True},
        "axes": {"level": "WARNING", "propagate": True},
    },
}
FORMAT_MODULE_PATH = ["config.formats"]

# The JSON API (django-ninja): requests per personal token, per fixed window
# ("count/s", "count/min", "count/h", "count/d"), counted in the default cache.
API_TOKEN_RATE = env("API_TOKEN_RATE", default="120/min")
