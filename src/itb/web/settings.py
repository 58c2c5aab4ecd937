"""Django settings, driven by environment variables (see docs/deployment.md).

ITB_DATA_DIR      data directory: SQLite file, generated secret key (default ./itb-data)
DATABASE_URL      e.g. postgresql://user@host:5432/db; default SQLite in ITB_DATA_DIR
ITB_SECRET_KEY    secret key; default: generated once into ITB_DATA_DIR/secret_key (0600)
ITB_DEBUG         "1" for debug pages (never in production); default off
ITB_ALLOWED_HOSTS comma-separated host names; default localhost,127.0.0.1
ITB_SESSION_IDLE_MINUTES  sign out after this many idle minutes (default 30)
ITB_SECURE_COOKIES "1" when served over HTTPS (secure cookies, HSTS)
ITB_REPORT_BACKGROUND "0" computes a missing report inside the request instead of in a
                  background thread (default on; the tests turn it off)
ITB_FOLLOW_UP_DATE YYYY-MM-DD the follow-up pages compute for instead of today (`itb demo`
                  sets its data's cut-off, so the demo's board shows what its data was made for)
"""

from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path

import dj_database_url


class ConfigError(RuntimeError):
    """A setting has a value we cannot use; said loudly at start-up."""


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r}: use 1 or 0")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: not a whole number") from None


def _date(name: str) -> date | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: not a date (YYYY-MM-DD)") from None


def _secret_key(data_dir: Path) -> str:
    if key := os.environ.get("ITB_SECRET_KEY"):
        return key
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Created owner-only from the start: the key never exists with wider permissions.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ITB_DATA_DIR", "itb-data")).resolve()
SECRET_KEY = _secret_key(DATA_DIR)
DEBUG = _flag("ITB_DEBUG")
FOLLOW_UP_DATE = _date("ITB_FOLLOW_UP_DATE")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get(
    "ITB_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "auditlog",
    "axes",
    "itb.web.registry",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "itb.web.registry.middleware.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "itb.web.registry.middleware.UserLanguageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "itb.web.urls"
WSGI_APPLICATION = "itb.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)
    if os.environ.get("DATABASE_URL")
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "registry.sqlite3",
          # WAL lets readers work while one writer writes; a busy writer waits, not fails.
          "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                      "timeout": 20, "transaction_mode": "IMMEDIATE"},
          # Kept open between requests, as on PostgreSQL: opening one (Django's functions,
          # the pragmas) cost 1.5 ms of CPU on every page view.
          "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "itb.web.registry.backends.RegistryModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "registry:patient_list"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a user name + address after 5 failures for 15 min.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registry/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password"]

# Sessions end after inactivity: a request renews the expiry, writing the session at most
# once a minute (SessionRenewalMiddleware), not on every page view.
SESSION_COOKIE_AGE = _int("ITB_SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE = _flag("ITB_SECURE_COOKIES")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: our own files only, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "et"
LANGUAGES = [("et", "Eesti"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Tallinn"
USE_TZ = True

STATIC_URL = "static/"
# No collected copy: WhiteNoise serves the files from the installed package (below).
STATIC_ROOT = None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Straight from the app directories: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The rendered reports, in the registry's own database: one copy for every worker and process
# (a per-process cache made each gunicorn worker compute its own), whatever the host, never
# mixed with another registry's; its table is made by `bootstrap.migrate`. Its atomic `add`
# lets one worker at a time compute a report (views/report.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                      "LOCATION": "itb_cache", "OPTIONS": {"MAX_ENTRIES": 1000}}}
# Compute a missing report in a thread and answer at once (off: in the request, as tests do).
ITB_REPORT_BACKGROUND = _flag("ITB_REPORT_BACKGROUND", default=True)

# Logs never carry request bodies or personal values: only what Django logs by default
# (method, path, status), and the paths hold pseudonymous ids only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

AUDITLOG_INCLUDE_ALL_MODELS = False
