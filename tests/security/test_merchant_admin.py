"""The Merchant and the administrator do everything: every page, export and write, through real
permissions (the Merchant is no superuser: only the group's permissions let them in)."""

import json

import pytest
from django.test import Client

from inventory.models import Movement
from tests.security.conftest import (
    api_client_headers,
    assert_ledger_ok,
    client_as,
    project_routes,
    site_writes,
    snapshot,
)
from tests.security.test_accountant import read_paths

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["merchant", "admin_user"])
def test_every_page_and_export_opens(role, world, request):
    client = client_as(request.getfixturevalue(role))
    statuses = {path: client.get(path).status_code for path in read_paths(world)}
    assert {path: status for path, status in statuses.items() if status != 200} == {}
    for path in ("/inventory/adjust/", "/inventory/transfers/new/", "/inventory/locks/new/"):
        assert client.get(path).status_code == 200


def test_the_merchant_is_not_a_superuser_but_holds_the_permissions(merchant):
    assert not merchant.is_superuser
    assert merchant.has_perms(
        [
            "inventory.adjust_stock",
            "inventory.receive_stock",
            "inventory.count_stock",
            "inventory.export_stock",
            "orders.change_order",
            "catalog.add_variant",
        ]
    )


@pytest.mark.parametrize("role", ["merchant", "admin_user"])
def test_every_stock_write_goes_through(role, world, request):
    client = client_as(request.getfixturevalue(role))
    movements = Movement.objects.count()
    for label, path, data in site_writes(world, world.a):
        response = client.post(path, data)
        assert response.status_code == 302, (label, response.content.decode()[-1500:])
    assert Movement.objects.count() > movements
    assert_ledger_ok()


def test_the_merchant_edits_the_catalog_in_the_admin(merchant, world):
    client = client_as(merchant)
    response = client.post(
        "/admin/catalog/category/add/", {"name": "Merchant's", "description": ""}
    )
    assert response.status_code == 302
    assert client.get("/admin/catalog/variant/import/").status_code == 200
    assert client.get(f"/admin/catalog/variant/{world.variant.pk}/change/").status_code == 200


def test_the_merchant_creates_and_moves_orders_through_the_api(merchant, world):
    headers = api_client_headers(merchant)
    client = Client()
    body = {"reference": "M-1", "warehouse": "SEC-A", "lines": [{"sku": "SEC-1", "quantity": "2"}]}
    created = client.post(
        "/api/v1/orders", json.dumps(body), content_type="application/json", headers=headers
    )
    assert created.status_code == 201
    staged = client.post(
        "/api/v1/orders/M-1/stage",
        json.dumps({"stage": "confirmed"}),
        content_type="application/json",
        headers=headers,
    )
    assert staged.status_code == 200


def test_the_administrator_opens_every_path_of_the_project(admin_user, world):
    """No 500 anywhere; the only 403s are adding or deleting ledger-bound records (stock lines,
    movements, receptions, counts, orders, average costs: those change only through the stock
    services) and axes' records, and the autocomplete without its parameters."""
    client = client_as(admin_user)
    before = snapshot()
    wrong = []
    for route in project_routes():
        if "logout" in route.path:
            continue
        status = client.get(route.path).status_code
        refused_by_design = route.name.endswith(("_add", "_delete")) or route.name == (
            "admin:autocomplete"
        )
        if (status == 403 and not refused_by_design) or status >= 500:
            wrong.append((route.name, route.path, status))
    assert wrong == []
    assert snapshot() == before
