"""Settings shared by every environment; local, test and production extend this module.

Environment variables read here:
    DATABASE_URL           database to use, e.g. postgres://user:password@host:5432/name
                           (default: SQLite in BASE_DIR / "db.sqlite3")
    DATABASE_POOL=1        PostgreSQL only: use psycopg's connection pool (one pool per process).
                           The pool requires CONN_MAX_AGE=0, so DATABASE_CONN_MAX_AGE is ignored.
    DATABASE_POOL_MIN_SIZE, DATABASE_POOL_MAX_SIZE
                           pool bounds per process (default 2 and 10)
    DATABASE_CONN_MAX_AGE  seconds a connection is kept between requests without the pool
                           (default 0: one connection per request)
    DATABASE_PGBOUNCER=1   PostgreSQL reached through pgbouncer in transaction pooling mode:
                           no server-side cursor outlives its transaction (Django's
                           DISABLE_SERVER_SIDE_CURSORS; the app's streamed reads keep theirs,
                           inside a transaction: core/streaming.py).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None


def database_settings(url: str, *, default_conn_max_age: int = 0) -> dict:
    """The DATABASES["default"] entry for a database URL."""
    db = dj_database_url.parse(url)
    db.setdefault("OPTIONS", {})
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["OPTIONS"].update(
            {
                "timeout": 20,
                # BEGIN IMMEDIATE: a writing transaction takes the write lock when it starts,
                # so concurrent writers wait (up to `timeout`) instead of failing mid-way.
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    if db["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_PGBOUNCER"):
        # Django's own iterator() calls (form choices, the admin's export) run outside any
        # transaction: behind transaction pooling their cursor's next FETCH may reach another
        # server connection. They read client-side instead.
        db["DISABLE_SERVER_SIDE_CURSORS"] = True
    if db["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL"):
        db["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with the pool
        db["OPTIONS"]["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
            "timeout": 10,
        }
    else:
        db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", default_conn_max_age)
        db["CONN_HEALTH_CHECKS"] = True
    return db


# Secrets and hosts are set by local.py, test.py and production.py.
DEBUG = False
ALLOWED_HOSTS: list[str] = []

DATABASES = {
    "default": database_settings(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
# Services own their transactions (transaction.atomic() in inventory/services.py).
ATOMIC_REQUESTS = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "axes",
    "catalog",
    "warehouses",
    "inventory",
    "orders",
    "api",
    "core",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
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
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/inventory/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Login throttling (django-axes): AxesStandaloneBackend refuses a locked-out login before the
# password is checked; ModelBackend then authenticates. Axes needs `request` in authenticate():
# tests log in with force_login() or through the login form, never Client.login().
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.auth.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
#: One username from one address: a shared office IP does not lock its colleagues out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = 0.25  # hours: 15 minutes, said on the lockout page
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_VERBOSE = False
#: Failures and lockouts in the database, which every app server shares (axes' default, stated:
#: a per-process or per-machine store would let an attacker spread guesses over the servers).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# Sessions live in the database (the default engine): app servers keep no state of their own.
SESSION_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_ENGINE = "django.contrib.sessions.backends.db"  # shared by every app server
# The cache lives in the database too, so that every app server sees the same one. Its table is
# created by `migrate` (core/migrations/0001_cache_table.py). django-import-export keeps an
# uploaded file there between the import's preview and its confirmation, which a load balancer
# may send to another server (its default, a temporary file, stays on the first server's disk).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "stockroom_cache",
    },
}
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
# Uploads: small ones in memory, the rest in temporary files; forms refuse files over their limit.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB (Django's default), stated for the upload forms
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # the non-file part of a request body

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    # Project modules log with logging.getLogger(__name__) and reach the root handler.
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"level": "INFO"},  # propagates to the root handler
        "axes": {"level": "WARNING"},  # lockouts, not a line per login
    },
}

SILENCED_SYSTEM_CHECKS = [
    # The movement index INCLUDEs balance_after (a covering index for stock-at-date on
    # PostgreSQL); SQLite has no covering indexes and simply builds a plain one.
    "models.W040",
]
