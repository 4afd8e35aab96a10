"""Production: only what differs from base.py.

Required in the environment (ImproperlyConfigured otherwise):
    SECRET_KEY     at least 50 random characters
    ALLOWED_HOSTS  comma-separated host names, e.g. "stock.example.com,www.example.com"
    DATABASE_URL   postgres://user:password@host:5432/name
Optional: CSRF_TRUSTED_ORIGINS (comma-separated https://... origins), DATABASE_POOL,
DATABASE_CONN_MAX_AGE (default 60 here), SECURE_SSL_REDIRECT (default on), SECURE_HSTS_SECONDS,
LOG_LEVEL. The app expects to be served over HTTPS behind a proxy that sets X-Forwarded-Proto.
"""

import copy
import os

from django.core.exceptions import ImproperlyConfigured

from .base import *


def required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required with "
            "DJANGO_SETTINGS_MODULE=config.settings.production "
            "(SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL must all be set)."
        )
    return value


def env_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


SECRET_KEY = required_env("SECRET_KEY")
ALLOWED_HOSTS = env_list(required_env("ALLOWED_HOSTS"))
CSRF_TRUSTED_ORIGINS = env_list(os.environ.get("CSRF_TRUSTED_ORIGINS", ""))
DATABASES = {
    "default": database_settings(required_env("DATABASE_URL"), default_conn_max_age=60),
}

# HTTPS only, behind a TLS-terminating proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Logs go to stdout, where the process manager (systemd, a container runtime) collects them.
LOGGING = copy.deepcopy(LOGGING)
LOGGING["handlers"]["console"]["stream"] = "ext://sys.stdout"
