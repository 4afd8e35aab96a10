"""Hardening: login throttling, CSRF on every form, security headers, database sessions, and
who did what (admin LogEntry, movement users). `check --deploy` is tests/test_settings.py."""

import importlib

import pytest
from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.sessions.models import Session
from django.test import Client

from inventory.models import HoldChange, Movement
from tests.factories import UserFactory
from tests.security.conftest import (
    api_client_headers,
    assert_ledger_ok,
    client_as,
    site_writes,
    snapshot,
)

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
MSG_LOCKED = "This account is locked for 15 minutes after 5 failed logins from this address."


def log_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_five_failed_logins_lock_the_account_with_a_clear_message():
    UserFactory(username="victim", password="right-password")
    client = Client()
    for _ in range(4):
        response = log_in(client, "victim", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    locked = log_in(client, "victim", "wrong")
    assert locked.status_code == 429
    assert MSG_LOCKED in locked.content.decode()

    # Even the right password is refused while locked out.
    still = log_in(client, "victim", "right-password")
    assert still.status_code == 429
    assert MSG_LOCKED in still.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_resets_the_failure_count():
    UserFactory(username="forgetful", password="right-password")
    client = Client()
    for _ in range(4):
        log_in(client, "forgetful", "wrong")

    assert log_in(client, "forgetful", "right-password").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert log_in(client, "forgetful", "wrong").status_code == 200
    assert log_in(client, "forgetful", "right-password").status_code == 302


def test_a_lockout_is_per_username_so_colleagues_behind_the_same_address_still_log_in():
    UserFactory(username="colleague", password="right-password")
    client = Client()
    for _ in range(5):
        log_in(client, "someone-else", "wrong")

    assert log_in(Client(), "colleague", "right-password").status_code == 302


def test_the_admin_login_is_throttled_too():
    UserFactory(username="boss", password="right-password", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "boss", "password": "wrong"})

    assert response.status_code == 429
    assert MSG_LOCKED in response.content.decode()


def test_sessions_live_in_the_database():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    UserFactory(username="in-db", password="right-password")

    log_in(Client(), "in-db", "right-password")

    assert Session.objects.count() == 1


@pytest.mark.parametrize("path", ["/inventory/", "/accounts/login/", "/admin/", "/movements/"])
def test_security_headers_on_pages(path, admin_user):
    response = client_as(admin_user).get(path)

    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-hashes'" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def test_security_headers_on_exports_and_the_api(admin_user):
    client = client_as(admin_user)
    for path in ("/inventory/export.csv", "/movements/export.csv", "/api/v1/inventory"):
        response = client.get(path)
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["X-Frame-Options"] == "DENY", path
        assert "default-src 'self'" in response["Content-Security-Policy"], path


def test_the_session_and_csrf_cookies_are_not_readable_by_scripts_and_secure_in_production(
    monkeypatch,
):
    monkeypatch.setenv("SECRET_KEY", "x" * 60)
    monkeypatch.setenv("ALLOWED_HOSTS", "stockroom.example.com")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/unused.sqlite3")
    production = importlib.import_module("config.settings.production")

    assert settings.SESSION_COOKIE_HTTPONLY
    assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE


def test_an_admin_change_is_recorded_with_its_author(admin_user, world):
    client = client_as(admin_user)
    warehouse = world.a.warehouse
    response = client.post(
        f"/admin/warehouses/warehouse/{warehouse.pk}/change/",
        {
            "code": warehouse.code,
            "name": "Renamed",
            "address": "",
            "is_active": "on",
            "assigned_staff": [],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.get(object_id=str(warehouse.pk), action_flag=CHANGE)
    assert entry.user == admin_user

    client.post("/admin/catalog/category/add/", {"name": "Logged category", "description": ""})
    assert LogEntry.objects.filter(action_flag=ADDITION, user=admin_user).exists()


def test_every_movement_and_hold_made_through_the_app_records_who_made_it(merchant, world):
    client = client_as(merchant)
    movements, holds = Movement.objects.count(), HoldChange.objects.count()
    headers = api_client_headers(merchant)
    body = {
        "reference": "API-WHO",
        "warehouse": "SEC-A",
        "lines": [{"sku": "SEC-1", "quantity": "1"}],
    }
    created = client.post("/api/v1/orders", body, content_type="application/json", headers=headers)
    assert created.status_code == 201
    for stage in ("confirmed", "shipped"):
        staged = client.post(
            "/api/v1/orders/API-WHO/stage",
            {"stage": stage},
            content_type="application/json",
            headers=headers,
        )
        assert staged.status_code == 200, staged.content
    for label, path, data in site_writes(world, world.a):
        response = client.post(path, data)
        assert response.status_code in {200, 302}, label

    made = Movement.objects.order_by("pk")[movements:]
    held = HoldChange.objects.order_by("pk")[holds:]
    assert len(made) >= 6 and len(held) >= 2  # adjust, transfer, reception, count, orders
    assert {movement.created_by for movement in made} == {merchant}
    assert {hold.created_by for hold in held} == {merchant}
    assert_ledger_ok()


def test_every_form_refuses_a_post_without_its_csrf_token(merchant, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(merchant)
    before = snapshot()
    posts = [(path, data) for _, path, data in site_writes(world, world.a)] + [
        ("/admin/catalog/category/add/", {"name": "No token"}),
        (f"/admin/warehouses/warehouse/{world.a.warehouse.pk}/delete/", {"post": "yes"}),
        ("/admin/catalog/variant/import/", {}),
        ("/accounts/logout/", {}),
    ]
    for path, data in posts:
        response = client.post(path, data)
        assert response.status_code == 403, path
        assert "CSRF" in response.content.decode(), path
    assert snapshot() == before
    assert (
        Client(enforce_csrf_checks=True).post(LOGIN, {"username": "x", "password": "y"}).status_code
        == 403
    )
