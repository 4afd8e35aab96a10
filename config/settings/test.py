"""The test suite (pytest, see [tool.pytest.ini_options] in pyproject.toml).

SQLite in memory unless DATABASE_URL is set; `make test` runs the suite on a throwaway
PostgreSQL through scripts/with_postgres.py.
"""

from .base import *

DEBUG = False

SECRET_KEY = "test-only-secret-key-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

# Fast hashing: tests create many users; the real hashers are tested by Django itself.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Serve static files through the finders: no collectstatic before the tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
