"""Production settings pass Django's deployment checks with the documented environment."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(env_overrides: dict, tmp_path) -> subprocess.CompletedProcess:
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
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


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
