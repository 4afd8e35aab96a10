"""GET /api/v1/inventory: the contract's fields, filters, cursor paging and changed_since."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from inventory.models import StockLine
from inventory.services import StockQuantity, stock_lock, stock_reserve
from inventory.services.clock import simulated_time
from tests.api.conftest import client_for
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import receive

pytestmark = pytest.mark.django_db

INVENTORY = "/api/v1/inventory"
FIELDS = [
    "sku",
    "warehouse",
    "on_hand",
    "reserved",
    "locked",
    "available",
    "incoming",
    "alert_threshold",
    "status",
    "last_movement",
]


@pytest.fixture
def paris(db):
    return WarehouseFactory(code="PAR")


@pytest.fixture
def lyon(db):
    return WarehouseFactory(code="LYO")


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_stock_line_has_every_contract_field_with_quantities_as_strings(api, paris):
    shirt = VariantFactory(sku="TSHIRT-M", alert_threshold=5)
    receive(shirt, paris, 12)
    stock_reserve(warehouse=paris, lines=[StockQuantity(shirt, 3)], reference="SO-1")
    stock_lock(variant=shirt, warehouse=paris, quantity=1, reason="damaged")
    line = StockLine.objects.get()

    [row] = results(api.get(INVENTORY))

    assert list(row) == FIELDS
    assert row == {
        "sku": "TSHIRT-M",
        "warehouse": "PAR",
        "on_hand": "12.000",
        "reserved": "3.000",
        "locked": "1.000",
        "available": "8.000",
        "incoming": "0.000",
        "alert_threshold": row["alert_threshold"],
        "status": "ok",
        "last_movement": line.last_movement_at.isoformat(),
    }
    assert row["alert_threshold"] in ("5.000", None)  # None until thresholds are refreshed


def test_the_status_filter_uses_ok_low_and_out(api, paris):
    full, empty = VariantFactory(), VariantFactory()
    receive(full, paris, 20)
    receive(empty, paris, 1)
    stock_reserve(warehouse=paris, lines=[StockQuantity(empty, 1)], reference="SO-1")

    out = results(api.get(INVENTORY, {"status": "out"}))
    ok = results(api.get(INVENTORY, {"status": "ok"}))

    assert [row["sku"] for row in out] == [empty.sku]
    assert out[0]["status"] == "out"
    assert [row["sku"] for row in ok] == [full.sku]


def test_filters_by_sku_whatever_its_case_and_by_warehouse_code(api, paris, lyon):
    shirt, mug = VariantFactory(sku="TSHIRT-M"), VariantFactory(sku="MUG")
    for variant in (shirt, mug):
        for warehouse in (paris, lyon):
            receive(variant, warehouse, 3)

    by_sku = results(api.get(INVENTORY, {"sku": "tshirt-m"}))
    by_both = results(api.get(INVENTORY, {"sku": "MUG", "warehouse": "LYO"}))

    assert sorted((row["sku"], row["warehouse"]) for row in by_sku) == [
        ("TSHIRT-M", "LYO"),
        ("TSHIRT-M", "PAR"),
    ]
    assert [(row["sku"], row["warehouse"]) for row in by_both] == [("MUG", "LYO")]
    assert results(api.get(INVENTORY, {"sku": "NOPE"})) == []


def test_changed_since_returns_lines_whose_reservation_changed_not_only_those_that_moved(
    api, paris
):
    old, reserved_later, untouched = VariantFactory(), VariantFactory(), VariantFactory()
    long_ago = timezone.now() - timedelta(days=3)
    with simulated_time(long_ago):
        for variant in (old, reserved_later, untouched):
            receive(variant, paris, 5)
    since = timezone.now() - timedelta(hours=1)
    stock_reserve(warehouse=paris, lines=[StockQuantity(reserved_later, 2)], reference="SO-1")
    receive(old, paris, 1)

    rows = results(api.get(INVENTORY, {"changed_since": since.isoformat()}))

    assert sorted(row["sku"] for row in rows) == sorted([old.sku, reserved_later.sku])
    reserved_row = next(row for row in rows if row["sku"] == reserved_later.sku)
    assert reserved_row["reserved"] == "2.000"
    assert reserved_row["last_movement"] == long_ago.isoformat()


@pytest.mark.parametrize(
    "written",
    [
        "2026-01-01T00:00:00Z",
        "2026-01-01T01:00:00+01:00",
        "2026-01-01T01:00:00 01:00",
        "2026-01-01T00:00:00",
    ],
)
def test_changed_since_accepts_iso_times_with_an_offset_z_an_unencoded_plus_or_none(
    api, paris, written
):
    receive(VariantFactory(), paris, 1)
    assert len(results(api.get(INVENTORY, {"changed_since": written}))) == 1


def test_cursor_paging_walks_every_line_once_in_id_order(api, paris, lyon):
    for _ in range(7):
        variant = VariantFactory()
        receive(variant, paris, 1)
        receive(variant, lyon, 1)
    seen = []
    url, params = INVENTORY, {"limit": 3, "warehouse": "PAR"}
    pages = 0
    while url:
        response = api.get(url, params)
        body = response.json()
        seen += [(row["sku"], row["warehouse"]) for row in body["results"]]
        pages += 1
        url, params = body["next"], None
        if url:
            query = parse_qs(urlsplit(url).query)
            assert query["warehouse"] == ["PAR"] and query["limit"] == ["3"]
            assert urlsplit(url).scheme == "http"
    ids = StockLine.objects.filter(warehouse=paris).order_by("pk")
    assert seen == [(line.variant.sku, "PAR") for line in ids]
    assert pages == 3


def test_the_last_page_has_no_next(api, paris):
    receive(VariantFactory(), paris, 1)
    assert api.get(INVENTORY).json()["next"] is None


def test_a_page_costs_the_same_number_of_queries_whatever_its_size(
    api, paris, django_assert_max_num_queries
):
    for _ in range(40):
        receive(VariantFactory(), paris, 2)
    with django_assert_max_num_queries(6) as small:
        assert len(results(api.get(INVENTORY, {"limit": 2}))) == 2
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(results(api.get(INVENTORY, {"limit": 40}))) == 40


def test_staff_assigned_to_a_warehouse_only_see_its_lines(paris, lyon, pipeline):
    variant = VariantFactory()
    receive(variant, paris, 1)
    receive(variant, lyon, 1)
    staff = UserFactory(role="Warehouse staff")
    lyon.assigned_staff.add(staff)
    staff_api = client_for(staff)

    rows = results(staff_api.get(INVENTORY))
    forbidden = staff_api.get(INVENTORY, {"warehouse": "PAR"})

    assert [row["warehouse"] for row in rows] == ["LYO"]
    assert forbidden.status_code == 403
    assert forbidden.json()["details"]["code"] == "forbidden"


def test_the_accountant_reads_the_inventory(paris, pipeline):
    receive(VariantFactory(), paris, 1)
    assert len(results(client_for(UserFactory(role="Accountant")).get(INVENTORY))) == 1
