"""Fixtures of the security tests: every role, two warehouses, and one of everything in each.

``world`` builds, in warehouses A and B, the same SKU with stock, a count session, a reception,
an expected reception and an order, so that a test can ask for B's objects as A's staff.
"""

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db.models import Sum
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from api.services import api_token_create
from catalog.models import Category, Product, Supplier, Variant
from inventory.ledger import verify_ledger
from inventory.models import (
    CountScope,
    CountSession,
    ExpectedReception,
    Movement,
    Reception,
    StockLine,
)
from inventory.services import (
    StockQuantity,
    count_session_start,
    expected_reception_create,
    reception_receive,
    stock_receive,
)
from orders.models import Order, PipelineSettings
from orders.services import OrderLineInput, order_create
from tests.factories import SupplierFactory, UserFactory, VariantFactory, WarehouseFactory
from warehouses.models import Warehouse


@dataclass
class Site:
    """One warehouse's objects."""

    warehouse: Warehouse
    count: CountSession
    reception: Reception
    expected: ExpectedReception
    order: Order


@dataclass
class World:
    a: Site
    b: Site
    variant: Variant
    only_b: Variant  #: a SKU stocked in B only
    supplier: Supplier
    users: dict = field(default_factory=dict)


def build_site(code: str, variant, only, supplier) -> Site:
    warehouse = WarehouseFactory(code=code, name=f"Warehouse {code}")
    stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 50, Decimal("4.00"))])
    if only is not None:
        stock_receive(warehouse=warehouse, lines=[StockQuantity(only, 7, Decimal("2.00"))])
    reception = reception_receive(
        warehouse=warehouse,
        supplier=supplier,
        delivery_note=f"DN-{code}",
        lines=[StockQuantity(variant, 5, unit_cost=None)],
    )
    expected = expected_reception_create(
        supplier=supplier,
        warehouse=warehouse,
        reference=f"PO-{code}",
        lines=[StockQuantity(variant, 3)],
    )
    count = count_session_start(warehouse=warehouse, scope=CountScope.ALL)
    order, _ = order_create(
        reference=f"ORD-{code}", warehouse=warehouse, lines=[OrderLineInput(variant, 1)]
    )
    return Site(warehouse, count, reception, expected, order)


@pytest.fixture
def world(db) -> World:
    PipelineSettings.load()
    supplier = SupplierFactory(name="Sec Supplier")
    variant = VariantFactory(sku="SEC-1")
    only_b = VariantFactory(sku="SEC-ONLY-B")
    a = build_site("SEC-A", variant, None, supplier)
    b = build_site("SEC-B", variant, only_b, supplier)
    return World(a=a, b=b, variant=variant, only_b=only_b, supplier=supplier)


@pytest.fixture
def merchant(db):
    return UserFactory(username="sec-merchant", role="Merchant", is_staff=True)


@pytest.fixture
def accountant(db):
    return UserFactory(username="sec-accountant", role="Accountant", is_staff=True)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="sec-admin", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_a(world):
    """Warehouse staff assigned to warehouse A only (admin access, like the demo's staff)."""
    user = UserFactory(username="sec-staff-a", role="Warehouse staff", is_staff=True)
    world.a.warehouse.assigned_staff.add(user)
    return user


def client_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client_headers(user) -> dict:
    _, secret = api_token_create(user=user, name="Security test")
    return {"Authorization": f"Bearer {secret}"}


def snapshot() -> dict:
    """Everything a write could change, to compare before and after."""
    return {
        "lines": list(
            StockLine.objects.order_by("pk").values_list(
                "pk", "on_hand", "reserved", "locked", "incoming", "alert_threshold"
            )
        ),
        "movements": Movement.objects.count(),
        "movement_sum": Movement.objects.aggregate(total=Sum("quantity"))["total"],
        "orders": list(Order.objects.order_by("pk").values_list("pk", "stage")),
        "counts": list(CountSession.objects.order_by("pk").values_list("pk", "status")),
        "receptions": Reception.objects.count(),
        "expected": list(ExpectedReception.objects.order_by("pk").values_list("pk", "status")),
        "catalog": (
            list(Variant.objects.order_by("pk").values_list("pk", "sku", "name")),
            list(Product.objects.order_by("pk").values_list("pk", "name")),
            Category.objects.count(),
            Supplier.objects.count(),
        ),
        "warehouses": list(Warehouse.objects.order_by("pk").values_list("pk", "code", "name")),
        "groups": Group.objects.count(),
    }


def assert_ledger_ok() -> None:
    report = verify_ledger()
    assert report.ok, report


def json_of(response) -> dict:
    return json.loads(response.content)


# --- Every URL of the project, from the resolver -----------------------------------------


#: Sample values for the parameters of the project's paths, tried in order until one reverses.
SAMPLES = {
    "sku": ["SEC-1"],
    "pk": [1],
    "reference": ["ORD-SEC-A"],
    "object_id": ["1"],
    "id": [1],
    "app_label": ["catalog", "warehouses", "inventory", "orders", "api", "auth", "axes"],
    "content_type_id": [1],
    "url": ["anything/"],
    "uidb64": ["MQ"],
    "token": ["set-password"],
}


@dataclass(frozen=True)
class Route:
    name: str  #: "namespace:name", or the pattern's text when it has no name
    path: str


def _walk(patterns, namespace: str, prefix_regex: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry.url_patterns, full_ns, prefix_regex + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield entry, namespace, prefix_regex + str(entry.pattern)


def _reverse(name: str, params: list[str]) -> str | None:
    from django.urls import NoReverseMatch, reverse

    def attempt(kwargs, rest):
        if not rest:
            try:
                return reverse(name, kwargs=kwargs)
            except NoReverseMatch:
                return None
        key, *others = rest
        for value in SAMPLES.get(key, []):
            found = attempt({**kwargs, key: value}, others)
            if found:
                return found
        return None

    return attempt({}, params)


def project_routes() -> list[Route]:
    """One path per URL pattern of the project (names reversed with sample arguments)."""
    routes = []
    for pattern, namespace, text in _walk(get_resolver().url_patterns, "", ""):
        params = list(pattern.pattern.regex.groupindex)
        if pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            path = _reverse(name, params)
            assert path, f"no sample argument reverses {name} ({text})"
        else:
            # Unnamed catch-alls (the API's JSON 404): any path under their prefix.
            name = text
            path = "/" + re.sub(r"[\^$]|\\Z|\(\?P<\w+>[^)]*\)|\?", "", text)
            path += "unknown-path" if text else ""
        routes.append(Route(name, path))
    return routes


# --- Every write of the app's own pages, with valid data (so that a missing check would show) --


def lines_data(*lines, unit_cost=False) -> dict:
    data = {"lines-TOTAL_FORMS": str(len(lines) + 1), "lines-INITIAL_FORMS": "0"}
    for index, (sku, quantity) in enumerate(lines):
        data[f"lines-{index}-sku"] = sku
        data[f"lines-{index}-quantity"] = quantity
        if unit_cost:
            data[f"lines-{index}-unit_cost"] = ""
    return data


def adjust_data(sku, code, **fields) -> dict:
    data = {
        "sku": sku,
        "warehouse": code,
        "mode": "change",
        "quantity": "-1",
        "counted": "",
        "reason": "breakage",
        "note": "Dropped a box",
        "reference": "",
        "action": "apply",
    }
    return {**data, **fields}


def transfer_data(source, destination, *lines, **fields) -> dict:
    data = {"source": source, "destination": destination, "reference": "TR-SEC", "note": ""}
    return {**data, "action": "apply", **lines_data(*lines), **fields}


def lock_data(sku, code, **fields) -> dict:
    data = {
        "sku": sku,
        "warehouse": code,
        "action_kind": "lock",
        "quantity": "1",
        "reason": "quality_check",
        "note": "Stitching",
        "reference": "",
        "action": "apply",
    }
    return {**data, **fields}


def reception_data(supplier, code, *lines, **fields) -> dict:
    data = {
        "expected_reception": "",
        "supplier": supplier.pk,
        "warehouse": code,
        "delivery_note": "DN-SEC-NEW",
        "note": "",
        "action": "apply",
    }
    return {**data, **lines_data(*lines, unit_cost=True), **fields}


def expected_data(supplier, code, *lines, **fields) -> dict:
    data = {"supplier": supplier.pk, "warehouse": code, "reference": "PO-SEC-NEW", "note": ""}
    return {**data, "expected_on": "", "action": "apply", **lines_data(*lines), **fields}


def site_writes(world: World, site: Site) -> list[tuple[str, str, dict]]:
    """(label, path, data) of every form post of the app that changes something in ``site``."""
    sku, code, other = world.variant.sku, site.warehouse.code, world.a.warehouse.code
    if site is world.a:
        other = world.b.warehouse.code
    count = site.count.pk
    return [
        ("adjust", "/inventory/adjust/", adjust_data(sku, code)),
        ("transfer out", "/inventory/transfers/new/", transfer_data(code, other, (sku, "1"))),
        ("lock", "/inventory/locks/new/", lock_data(sku, code)),
        (
            "reception",
            "/inventory/receptions/new/",
            reception_data(world.supplier, code, (sku, "2")),
        ),
        (
            "expected reception",
            "/inventory/receptions/expected/new/",
            expected_data(world.supplier, code, (sku, "2")),
        ),
        (
            "close expected",
            f"/inventory/receptions/expected/{site.expected.pk}/close/",
            {},
        ),
        (
            "start count",
            "/inventory/counts/",
            {"warehouse": code, "scope": "all", "big_gap": "5", "note": ""},
        ),
        ("count entry", f"/inventory/counts/{count}/", {"sku": sku, "counted": "60"}),
        ("count big gap", f"/inventory/counts/{count}/big-gap/", {"big_gap": "9"}),
        ("count apply", f"/inventory/counts/{count}/apply/", {"uncounted_as_zero": "on"}),
        ("count cancel", f"/inventory/counts/{count}/cancel/", {}),
        ("order stage", f"/orders/{site.order.reference}/", {"stage": "confirmed"}),
    ]
