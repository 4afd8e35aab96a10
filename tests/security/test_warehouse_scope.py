"""Warehouse staff assigned to warehouse A see and change only A: not one row of B leaks, on any
surface (pages, exports, admin, counts, receptions, transfers, orders, API).

Every object of B carries "SEC-B" in its code or reference, so one needle finds any leak.
"""

import csv
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.security.conftest import (
    api_client_headers,
    assert_ledger_ok,
    client_as,
    site_writes,
    snapshot,
    transfer_data,
)

pytestmark = pytest.mark.django_db

LEAK = "SEC-B"
#: 55 in A and 55 in B: a total over both warehouses would read 110.
BOTH_TOTAL = "110"


@pytest.fixture
def merchant_a(world):
    """A merchant assigned to A: every permission, A's scope (orders and the API included)."""
    user = UserFactory(username="sec-merchant-a", role="Merchant", is_staff=True)
    world.a.warehouse.assigned_staff.add(user)
    return user


def page_paths(world) -> list[str]:
    a = world.a
    return [
        "/inventory/",
        "/inventory/?warehouse=SEC-B",
        "/inventory/?q=SEC",
        f"/inventory/sku/{world.variant.sku}/",
        f"/inventory/sku/{world.variant.sku}/?warehouse=SEC-B",
        "/inventory/at/?at=2030-01-01T00:00:00Z",
        "/inventory/at/?at=2030-01-01T00:00:00Z&warehouse=SEC-B",
        "/movements/",
        "/movements/?warehouse=SEC-B",
        "/movements/?reference=DN-SEC-B",
        "/movements/losses/",
        "/orders/",
        "/orders/?warehouse=SEC-B",
        "/inventory/receptions/",
        "/inventory/counts/",
        f"/inventory/counts/{a.count.pk}/",
        f"/inventory/receptions/{a.reception.pk}/",
        "/inventory/adjust/",
        "/inventory/transfers/new/",
        "/inventory/locks/new/",
        "/inventory/receptions/new/",
        "/inventory/receptions/expected/new/",
        f"/inventory/adjust/?sku={world.only_b.sku}&warehouse=SEC-B",
        "/admin/inventory/stockline/",
        "/admin/inventory/stockline/?q=SEC",
        "/admin/inventory/movement/",
        "/admin/inventory/holdchange/",
        "/admin/inventory/reception/",
        "/admin/inventory/expectedreception/",
        "/admin/inventory/countsession/",
        "/admin/orders/order/",
        "/admin/warehouses/warehouse/",
    ]


def export_paths() -> list[str]:
    return [
        "/inventory/export.csv",
        "/inventory/export.csv?warehouse=SEC-B",
        "/inventory/at/export.csv?at=2030-01-01T00:00:00Z",
        "/inventory/at/export.csv?at=2030-01-01T00:00:00Z&warehouse=SEC-B",
        "/movements/export.csv",
        "/movements/export.csv?warehouse=SEC-B",
    ]


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_no_page_or_admin_changelist_shows_a_row_of_another_warehouse(staff_a, world):
    client = client_as(staff_a)
    leaks = {}
    for path in page_paths(world):
        response = client.get(path)
        assert response.status_code in {200, 400}, (path, response.status_code)
        # The page's own links repeat the query string it was asked with: not a leak.
        text = body(response)
        for value in parse_qs(urlsplit(path).query).values():
            text = text.replace(value[0], "")
        if LEAK in text:
            leaks[path] = text[max(text.index(LEAK) - 200, 0) : text.index(LEAK) + 100]
    assert leaks == {}


def test_the_sku_page_totals_only_the_assigned_warehouses(staff_a, world):
    text = client_as(staff_a).get(f"/inventory/sku/{world.variant.sku}/").content.decode()

    assert "SEC-A" in text and "55" in text
    assert BOTH_TOTAL not in text


def test_a_sku_stocked_only_in_another_warehouse_is_not_found(staff_a, world):
    response = client_as(staff_a).get(f"/inventory/sku/{world.only_b.sku}/")

    assert response.status_code == 404 or LEAK not in response.content.decode()


def test_every_export_lists_only_the_assigned_warehouses(merchant_a, world):
    client = client_as(merchant_a)
    for path in export_paths():
        response = client.get(path)
        assert response.status_code in {200, 400}, path
        if response.status_code == 400:
            continue
        rows = list(csv.DictReader(io.StringIO(body(response))))
        warehouses = {row["Warehouse"] for row in rows if row.get("SKU", "-")}  # not the totals row
        assert warehouses <= {"SEC-A"}, path
        if "warehouse=" not in path and "losses" not in path:
            assert warehouses == {"SEC-A"}, path


def test_admin_exports_list_only_the_assigned_warehouses(merchant_a, world):
    client = client_as(merchant_a)
    for model in ("inventory/stockline", "inventory/movement"):
        page = client.get(f"/admin/{model}/export/")
        assert page.status_code == 200, model
        response = client.post(
            f"/admin/{model}/export/", {"format": "0", "export_items": [], "resource": "0"}
        )
        text = body(response)
        assert response.status_code in {200, 302}, (model, text[:500])
        assert LEAK not in text, model


def test_objects_of_another_warehouse_are_not_found(staff_a, world):
    client = client_as(staff_a)
    b = world.b
    paths = [
        f"/inventory/counts/{b.count.pk}/",
        f"/inventory/counts/{b.count.pk}/sheet/",
        f"/inventory/counts/{b.count.pk}/sheet.csv",
        f"/inventory/counts/{b.count.pk}/gaps/",
        f"/inventory/receptions/{b.reception.pk}/",
        f"/inventory/receptions/expected/{b.expected.pk}/",
        f"/admin/inventory/stockline/{b.warehouse.stock_lines.first().pk}/change/",
        f"/admin/inventory/countsession/{b.count.pk}/change/",
        f"/admin/inventory/reception/{b.reception.pk}/change/",
        f"/admin/warehouses/warehouse/{b.warehouse.pk}/change/",
    ]
    for path in paths:
        response = client.get(path)
        # The admin answers a missing object with a redirect to its index and a message.
        assert response.status_code in {302, 404}, (path, response.status_code)
        assert LEAK not in body(response), path


def test_the_order_of_another_warehouse_is_not_found(merchant_a, world):
    response = client_as(merchant_a).get(f"/orders/{world.b.order.reference}/")

    assert response.status_code == 404


def test_no_write_reaches_another_warehouse(merchant_a, world):
    client = client_as(merchant_a)
    before = snapshot()
    for label, path, data in site_writes(world, world.b):
        response = client.post(path, data)
        assert response.status_code in {200, 400, 403, 404}, (label, response.status_code)
    # Into B from A, too.
    into_b = transfer_data("SEC-A", "SEC-B", (world.variant.sku, "1"))
    assert client.post("/inventory/transfers/new/", into_b).status_code in {200, 400}
    assert snapshot() == before
    assert_ledger_ok()


def test_the_staff_changes_their_own_warehouse(staff_a, world):
    """The scope limits, it does not block: the same writes on A go through."""
    client = client_as(staff_a)
    before = snapshot()
    for label, path, data in site_writes(world, world.a)[:5]:
        if label == "transfer out":
            continue  # B is out of their reach: test_no_write_reaches_another_warehouse
        response = client.post(path, data)
        assert response.status_code == 302, label
    assert snapshot()["movements"] > before["movements"]
    assert_ledger_ok()


def test_the_api_lists_and_changes_only_the_assigned_warehouses(merchant_a, world):
    client = Client()
    headers = api_client_headers(merchant_a)
    listing = json.loads(client.get("/api/v1/inventory", headers=headers).content)
    assert {row["warehouse"] for row in listing["results"]} == {"SEC-A"}
    for query in ({"warehouse": "SEC-B"}, {"sku": world.only_b.sku}):
        response = client.get("/api/v1/inventory", query, headers=headers)
        assert response.status_code in {200, 403}
        if response.status_code == 200:  # (a 403 repeats the code it was asked for)
            assert json.loads(response.content)["results"] == []

    refused = client.get(f"/api/v1/orders/{world.b.order.reference}", headers=headers)
    assert refused.status_code in {403, 404}
    assert set(json.loads(refused.content)) == {"error", "details"}
    before = snapshot()
    order = {
        "reference": "API-B",
        "warehouse": "SEC-B",
        "lines": [{"sku": "SEC-1", "quantity": "1"}],
    }
    created = client.post("/api/v1/orders", order, content_type="application/json", headers=headers)
    assert created.status_code in {400, 403, 404}
    assert LEAK not in created.content.decode() or created.status_code == 403
    staged = client.post(
        f"/api/v1/orders/{world.b.order.reference}/stage",
        {"stage": "confirmed"},
        content_type="application/json",
        headers=headers,
    )
    assert staged.status_code in {403, 404}
    assert snapshot() == before


def test_warehouse_staff_export_nothing_and_change_no_order(staff_a, world):
    """Exports need inventory.export_stock and stage changes orders.change_order: staff have
    neither (the Merchant and the Accountant export; the Merchant moves orders)."""
    client = client_as(staff_a)
    statuses = {path: client.get(path).status_code for path in export_paths()}
    assert set(statuses.values()) == {403}, statuses
    before = snapshot()
    response = client.post(f"/orders/{world.a.order.reference}/", {"stage": "confirmed"})
    assert response.status_code == 403
    headers = api_client_headers(staff_a)
    order = {
        "reference": "API-S",
        "warehouse": "SEC-A",
        "lines": [{"sku": "SEC-1", "quantity": "1"}],
    }
    created = Client().post(
        "/api/v1/orders", order, content_type="application/json", headers=headers
    )
    assert created.status_code == 403
    assert snapshot() == before
