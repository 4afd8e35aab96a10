"""Development on one machine: `make run`, `python manage.py ...` (the default in manage.py)."""

from .base import *

DEBUG = True

# Known to everyone: never use it outside a development machine.
SECRET_KEY = "django-insecure-local-development-only-do-not-use-in-production"

ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
