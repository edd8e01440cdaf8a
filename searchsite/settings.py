"""Settings for searchsite, read from the environment here and nowhere else.

Without DATABASE_URL the project uses the embedded PostgreSQL server
(searchsite/embedded_postgres.py). See .env.example for every variable.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from searchsite import embedded_postgres
from searchsite.routers import REPLICA

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("DEBUG", "0") == "1"

# A developer's checkout, never a deployment: DEBUG is on, the embedded server
# is used (no DATABASE_URL), or the test suite runs.
local_checkout = DEBUG or not os.environ.get("DATABASE_URL") or "pytest" in sys.modules
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not local_checkout:
        # One line, like manage.py's own errors: a traceback would bury the fix.
        sys.exit("searchsite: SECRET_KEY is not set; set it to a long random string (or DEBUG=1 to develop)")
    SECRET_KEY = "django-insecure-local-checkout-only"
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")

INSTALLED_APPS = [
    # First, so that its migrate/makemigrations combine pgviews' and pgtrigger's.
    "catalog",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "django_pgviews",
    "pgtrigger",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the session or the database with the request's values.
    "catalog.middleware.RejectNullCharactersMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "catalog.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "searchsite.urls"
WSGI_APPLICATION = "searchsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Connections are kept between requests (checked before reuse): a new one costs
# a backend process with cold caches and the search statement parsed again.
if database_url := os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(database_url, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {**embedded_postgres.database_settings(), "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}  # type: ignore[typeddict-item]
    }
# A streaming replica of the primary: searches read it (searchsite/routers.py);
# writes, triggers and refreshes stay on the primary. The test suite runs without
# one (tests/test_replica.py makes its own).
if replica_url := os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES[REPLICA] = dj_database_url.parse(replica_url, conn_max_age=60, conn_health_checks=True)
    DATABASE_ROUTERS = ["searchsite.routers.SearchReplicaRouter"]
# Prepared statements, which Django turns off for poolers' sake: the search
# statement is planned once per connection (catalog/search/query.py, PLANNING).
# Django's own queries bind on the client, and psycopg never prepares those.
for database in DATABASES.values():
    database.setdefault("OPTIONS", {})["prepare_threshold"] = 5
# pgviews rebuilds changed views after every migrate, under an exclusive lock;
# a deployment can make that a step of its own (`sync_pgviews --force`, see docs/extending.md).
MATERIALIZED_VIEWS_DISABLE_SYNC_ON_MIGRATE = os.environ.get("MATERIALIZED_VIEWS_DISABLE_SYNC_ON_MIGRATE", "0") == "1"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# A deployment collects static files to STATIC_ROOT (the Dockerfile does, at build)
# and whitenoise serves them compressed, with hashed names cached forever; a
# checkout serves static/ as it is.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
if STATIC_ROOT:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
else:
    WHITENOISE_USE_FINDERS = True

# No inline scripts or styles anywhere: htmx is configured through
# <meta name="htmx-config"> with allowEval off and its indicator styles in site.css.
# While developing, violations are reported (in the browser console) rather than
# enforced, so that Django's debug pages keep their inline styles.
content_security_policy = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if DEBUG:
    SECURE_CSP_REPORT_ONLY = content_security_policy
else:
    SECURE_CSP = content_security_policy
    # Cookies only over HTTPS; browsers treat http://localhost as secure too.
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Sent on HTTPS responses only. TLS ends at a proxy in front, which redirects
    # plain HTTP; with BEHIND_TLS_PROXY=1 its X-Forwarded-Proto says a request came
    # over HTTPS (set it only if that proxy always sets or strips the header).
    SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    if os.environ.get("BEHIND_TLS_PROXY", "0") == "1":
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# `check --deploy`: redirecting plain HTTP is the proxy's job (W008); HSTS for
# subdomains and the browsers' preload list are the domain owner's choices (W005, W021).
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W008", "security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "catalog": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        # A 500's traceback. Django's default prints it only with DEBUG on (and
        # otherwise mails ADMINS, which a deployment here does not set); not
        # propagated, so that DEBUG's console does not print it twice.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# The search refresher (catalog/conf.py says what each means).
SEARCH_REFRESH_QUIET_SECONDS = float(os.environ.get("SEARCH_REFRESH_QUIET_SECONDS", "1"))
SEARCH_REFRESH_MAX_WAIT_SECONDS = float(os.environ.get("SEARCH_REFRESH_MAX_WAIT_SECONDS", "30"))
SEARCH_REFRESH_POLL_SECONDS = float(os.environ.get("SEARCH_REFRESH_POLL_SECONDS", "60"))
SEARCH_TIMEOUT_MS = int(os.environ.get("SEARCH_TIMEOUT_MS", "2000"))
SEARCH_COMPACTION_SHARE = float(os.environ.get("SEARCH_COMPACTION_SHARE", "0.01"))
SEARCH_SEMANTIC = os.environ.get("SEARCH_SEMANTIC", "1") == "1"
