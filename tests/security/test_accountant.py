"""The Accountant reads and exports everything; every write (page, admin, API) is a 403 and
changes nothing."""

import contextlib
import json

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from inventory.models import Movement
from tests.security.conftest import (
    api_client_headers,
    assert_ledger_ok,
    client_as,
    site_writes,
    snapshot,
)

pytestmark = pytest.mark.django_db


STAFF_SCREEN = "/inventory/receptions/", "/inventory/counts/"


def read_paths(world) -> list[str]:
    a = world.a
    sku = world.variant.sku
    return [
        "/inventory/",
        "/inventory/?status=low&ordering=-total",
        "/inventory/export.csv",
        f"/inventory/sku/{sku}/",
        "/inventory/at/?at=2030-01-01T00:00:00Z",
        "/inventory/at/export.csv?at=2030-01-01T00:00:00Z",
        "/movements/",
        "/movements/export.csv",
        "/movements/losses/",
        "/movements/losses/export.csv",
        "/orders/",
        f"/orders/{a.order.reference}/",
        "/inventory/receptions/",
        f"/inventory/receptions/{a.reception.pk}/",
        f"/inventory/receptions/expected/{a.expected.pk}/",
        "/inventory/counts/",
        f"/inventory/counts/{a.count.pk}/",
        f"/inventory/counts/{a.count.pk}/sheet/",
        f"/inventory/counts/{a.count.pk}/sheet.csv",
        f"/inventory/counts/{a.count.pk}/gaps/",
        "/admin/",
        "/admin/inventory/stockline/",
        "/admin/inventory/movement/",
        "/admin/catalog/variant/",
        "/admin/orders/order/",
    ]


def test_the_accountant_reads_and_exports_every_page(accountant, world):
    client = client_as(accountant)
    statuses = {path: client.get(path) for path in read_paths(world)}
    refused = {path: r.status_code for path, r in statuses.items() if r.status_code != 200}
    # Receptions and counts are the warehouse staff's working screens (behind receive_stock
    # and count_stock); the accountant sees what they moved in the journal and the admin.
    assert refused == {path: 403 for path in read_paths(world) if path.startswith(STAFF_SCREEN)}
    for path, response in statuses.items():
        if (path.endswith(".csv") or ".csv?" in path) and not path.startswith(STAFF_SCREEN):
            assert response["Content-Type"].startswith("text/csv"), path


def test_the_accountant_gets_403_on_every_write_form_and_nothing_changes(accountant, world):
    client = client_as(accountant)
    before = snapshot()
    for label, path, data in site_writes(world, world.a):
        response = client.post(path, data)
        assert response.status_code == 403, label
    assert snapshot() == before
    assert_ledger_ok()


def test_the_accountant_is_not_shown_the_write_forms(accountant, world):
    client = client_as(accountant)
    for path in ("/inventory/adjust/", "/inventory/transfers/new/", "/inventory/locks/new/"):
        assert client.get(path).status_code == 403, path
    assert client.get("/inventory/receptions/new/").status_code == 403
    html = client.get(f"/orders/{world.a.order.reference}/").content.decode()
    assert 'name="stage"' not in html


def admin_write_urls(world) -> list[tuple[str, str, dict]]:
    """Add, change, delete and import of every model registered in the admin."""
    urls = []
    for model in admin.site._registry:
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append((f"{base}_add", reverse(f"{base}_add"), {}))
        instance = model._default_manager.order_by("pk").first()
        if instance is not None:
            for action in ("change", "delete"):
                path = reverse(f"{base}_{action}", args=[instance.pk])
                urls.append((f"{base}_{action}", path, {"post": "yes"}))
        for action in ("import", "process_import"):
            with contextlib.suppress(NoReverseMatch):
                urls.append((f"{base}_{action}", reverse(f"{base}_{action}"), {}))
    return urls


def test_the_accountant_gets_403_on_every_admin_add_change_delete_and_import(accountant, world):
    accountant.is_staff = True
    accountant.save()
    client = client_as(accountant)
    before = snapshot()
    urls = admin_write_urls(world)
    wrong = [
        (name, response.status_code)
        for name, path, data in urls
        if (response := client.post(path, data)).status_code != 403
    ]
    assert wrong == []
    assert len(urls) > 40
    assert snapshot() == before


def test_admin_bulk_actions_change_nothing_for_the_accountant(accountant, world):
    accountant.is_staff = True
    accountant.save()
    client = client_as(accountant)
    before = snapshot()
    for model in admin.site._registry:
        opts = model._meta
        ids = list(model._default_manager.values_list("pk", flat=True)[:5])
        if not ids:
            continue
        path = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.post(
            path, {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
        )
        assert response.status_code in {200, 302, 403}, path
    assert snapshot() == before


def test_the_accountant_reads_the_api_but_every_api_write_is_a_403(accountant, world):
    from django.test import Client

    headers = api_client_headers(accountant)
    client = Client()
    assert client.get("/api/v1/inventory", headers=headers).status_code == 200
    assert (
        client.get(f"/api/v1/orders/{world.a.order.reference}", headers=headers).status_code == 200
    )
    before = snapshot()
    writes = [
        (
            "/api/v1/orders",
            {
                "reference": "API-SEC",
                "warehouse": "SEC-A",
                "lines": [{"sku": "SEC-1", "quantity": "1"}],
            },
        ),
        (f"/api/v1/orders/{world.a.order.reference}/stage", {"stage": "confirmed"}),
        (f"/api/v1/orders/{world.a.order.reference}/stage", {"stage": "cancelled"}),
    ]
    for path, body in writes:
        response = client.post(
            path, json.dumps(body), content_type="application/json", headers=headers
        )
        assert response.status_code == 403, path
        assert set(json.loads(response.content)) == {"error", "details"}
    assert snapshot() == before
    assert Movement.objects.filter(reference="API-SEC").count() == 0
