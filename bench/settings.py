"""Settings of the benchmark's server processes and of the harness itself: production's,
served over plain HTTP on the loopback, plus a query counter and an empty view to compare with.

The harness passes SECRET_KEY and DATABASE_URL to every process it starts, so that two server
processes share sessions like two app servers behind a load balancer.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
# Plain HTTP on the loopback: no TLS proxy in front.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# Outermost, so that the session and user queries of every request are counted too.
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]  # noqa: F405
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# No collectstatic before a run: plain static storage (static files are not measured).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The test suite runs the harness in its own process (config.settings.test), which stores the
# demo users' passwords with the fast MD5 hasher: let the servers check those too.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]
