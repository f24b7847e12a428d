"""Production settings for benchmarks over plain http on 127.0.0.1 only.

TLS-only cookies and redirects are switched off because the load generator
talks plain http on loopback; axes is off so that many logins of the demo users
do not lock them out. Everything else is production's.
"""

from config.settings.production import *  # noqa: F403
from config.settings.production import DATABASES, env

ROOT_URLCONF = "bench.urls"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
AXES_ENABLED = False
# collectstatic for the run goes outside the work tree (load.sh sets it).
STATIC_ROOT = env("BENCH_STATIC_ROOT")
# To measure persistent connections without changing production: unset keeps
# production's value.
if env("BENCH_CONN_MAX_AGE", default=""):
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("BENCH_CONN_MAX_AGE")
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
