"""Production settings pass Django's deployment checks with the documented environment, and
keep every piece of state where all app servers share it: the database."""

import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from django.contrib import admin
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from import_export.tmp_storages import CacheStorage

from catalog.models import Variant
from config.settings.base import database_settings

ROOT = Path(__file__).resolve().parent.parent


def run_manage(command: list[str], env_overrides: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # Set by the browser tests for their own process; a deployment never has it.
        "DJANGO_ALLOW_ASYNC_UNSAFE": None,
        **env_overrides,
    }
    env = {name: value for name, value in env.items() if value is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_check(env_overrides: dict, tmp_path) -> subprocess.CompletedProcess:
    return run_manage(["check", "--deploy"], env_overrides, tmp_path)


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    secret_key = secrets.token_urlsafe(45)
    assert len(secret_key) == 60

    done = run_check({"SECRET_KEY": secret_key, "ALLOWED_HOSTS": "stockroom.example.com"}, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stdout + done.stderr


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    done = run_check({"SECRET_KEY": None, "ALLOWED_HOSTS": "stockroom.example.com"}, tmp_path)

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "SECRET_KEY" in done.stderr


def test_migrate_alone_creates_the_cache_table_in_production(tmp_path):
    database = tmp_path / "fresh.sqlite3"
    env = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "stockroom.example.com",
        "DATABASE_URL": f"sqlite:///{database}",
    }

    done = run_manage(["migrate", "--noinput"], env, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(database) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "stockroom_cache" in tables


def test_app_servers_share_sessions_cache_import_uploads_and_lockouts_in_the_database(settings):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert isinstance(caches["default"], DatabaseCache)
    assert caches["default"]._table == "stockroom_cache"
    # The admin import's file between preview and confirmation: in that cache, not on disk.
    assert admin.site._registry[Variant].get_tmp_storage_class() is CacheStorage
    assert isinstance(AxesProxyHandler.get_implementation(force=True), AxesDatabaseHandler)
    # Flash messages travel in a signed cookie, or in the session when too long for one.
    assert settings.MESSAGE_STORAGE == "django.contrib.messages.storage.fallback.FallbackStorage"


def test_behind_pgbouncer_django_reads_no_server_side_cursor_of_its_own(monkeypatch):
    url = "postgres://stockroom:secret@pgbouncer.internal:6432/stockroom"
    assert not database_settings(url)["DISABLE_SERVER_SIDE_CURSORS"]

    monkeypatch.setenv("DATABASE_PGBOUNCER", "1")

    # Form choices and the admin's export read client-side; the app's own streams keep their
    # cursor inside a transaction (tests/core/test_streaming.py).
    assert database_settings(url)["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert not database_settings("sqlite:///demo.sqlite3").get("DISABLE_SERVER_SIDE_CURSORS")
