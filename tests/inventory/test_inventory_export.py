"""``/inventory/export.csv``: the contract's columns, the list's filters, every row, streamed."""

import csv
import io
from datetime import datetime

import pytest
from django.http import StreamingHttpResponse

from core.csv_export import ROWS_PER_CHUNK
from inventory.filters import MSG_UNKNOWN_WAREHOUSE
from inventory.selectors.stock_list import PAGE_SIZE
from inventory.services import StockQuantity, stock_adjust, stock_receive
from inventory.services.clock import simulated_time
from tests.factories import ProductFactory, UserFactory, VariantFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

EXPORT = "/inventory/export.csv"
HEADER = [
    "Product",
    "Variant",
    "SKU",
    "Warehouse",
    "Available",
    "Reserved",
    "Locked",
    "Total",
    "Incoming",
    "Alert threshold",
    "Status",
    "Last movement",
]
MOVED = datetime.fromisoformat("2025-02-03T04:05:06+00:00")


@pytest.fixture
def merchant(client):
    user = UserFactory(role="Merchant")
    client.force_login(user)
    return user


def rows_of(response, delimiter=",") -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=delimiter))


@pytest.fixture
def shop():
    par, lyo = WarehouseFactory(code="PAR"), WarehouseFactory(code="LYO")
    mug = VariantFactory(
        product=ProductFactory(name="Mug"), name="Blue", sku="MUG-1", alert_threshold=5
    )
    kettle = VariantFactory(product=ProductFactory(name="Kettle"), name="", sku="KET-1")
    with simulated_time(MOVED):
        stock_receive(warehouse=par, lines=[StockQuantity(mug, 12), StockQuantity(kettle, 2)])
        stock_receive(warehouse=lyo, lines=[StockQuantity(mug, 3)])
        stock_adjust(variant=kettle, warehouse=par, quantity=-2, reason="loss")
    return par, lyo


def test_export_has_the_contract_header_and_one_row_per_line(client, merchant, shop):
    response = client.get(EXPORT)

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="inventory-')
    assert rows_of(response) == [
        HEADER,
        ["Kettle", "", "KET-1", "PAR", "0.000", "0.000", "0.000", "0.000", "0.000", "",
         "Stockout", "2025-02-03T04:05:06+00:00"],
        ["Mug", "Blue", "MUG-1", "LYO", "3.000", "0.000", "0.000", "3.000", "0.000", "5.000",
         "Low stock", "2025-02-03T04:05:06+00:00"],
        ["Mug", "Blue", "MUG-1", "PAR", "12.000", "0.000", "0.000", "12.000", "0.000", "5.000",
         "OK", "2025-02-03T04:05:06+00:00"],
    ]  # fmt: skip


def test_export_applies_the_lists_filters_and_ordering(client, merchant, shop):
    response = client.get(EXPORT, {"q": "mug", "status": "low,ok", "ordering": "-available"})

    assert [(row[2], row[3], row[10]) for row in rows_of(response)[1:]] == [
        ("MUG-1", "PAR", "OK"),
        ("MUG-1", "LYO", "Low stock"),
    ]


def test_export_has_every_row_not_only_the_first_page(client, merchant):
    warehouse = WarehouseFactory()
    count = PAGE_SIZE * 2 + ROWS_PER_CHUNK // 100
    variants = VariantFactory.create_batch(count)
    stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 1) for v in variants])

    response = client.get(EXPORT, {"page": "anything"})

    assert len(rows_of(response)) == count + 1


def test_text_that_looks_like_a_formula_is_escaped_and_numbers_stay_numbers(client, merchant):
    warehouse = WarehouseFactory(code="PAR")
    variant = VariantFactory(
        product=ProductFactory(name='=HYPERLINK("http://evil.example","click")'),
        name="-1+2",
        sku="SAFE-1",
    )
    stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 4)])

    [row] = rows_of(client.get(EXPORT))[1:]

    assert row[0] == '\'=HYPERLINK("http://evil.example","click")'
    assert row[1] == "'-1+2"
    assert row[4] == "4.000"


def test_negative_quantities_stay_numeric(client, merchant):
    warehouse = WarehouseFactory(allow_negative_stock=True)
    variant = VariantFactory()
    stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 1)])
    stock_adjust(variant=variant, warehouse=warehouse, quantity=-3, reason="loss")

    [row] = rows_of(client.get(EXPORT))[1:]

    assert row[4] == "-2.000" and row[7] == "-2.000" and row[10] == "Stockout"


def test_spreadsheet_format_uses_semicolons_decimal_commas_and_a_bom(client, merchant, shop):
    response = client.get(EXPORT, {"warehouse": "LYO", "format": "spreadsheet"})
    body = b"".join(response.streaming_content).decode("utf-8")

    assert body.startswith("\ufeffProduct;Variant;SKU;Warehouse;")
    assert rows_of_text(body)[1][:5] == ["Mug", "Blue", "MUG-1", "LYO", "3,000"]


def rows_of_text(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))


def test_a_bad_filter_is_refused_rather_than_exporting_everything(client, merchant, shop):
    response = client.get(EXPORT, {"warehouse": "MARS"})

    assert response.status_code == 400
    assert response.content.decode() == (
        f"Warehouse: {MSG_UNKNOWN_WAREHOUSE % {'value': 'MARS'}}\n"
    )


def test_export_needs_the_export_permission(client, shop):
    client.force_login(UserFactory(role="Warehouse staff"))

    assert client.get(EXPORT).status_code == 403


def test_accountants_may_export(client, shop):
    client.force_login(UserFactory(role="Accountant"))

    assert client.get(EXPORT).status_code == 200


def test_export_respects_the_users_warehouse_scope(client, shop):
    _, lyo = shop
    user = UserFactory(role="Merchant")
    lyo.assigned_staff.add(user)
    client.force_login(user)

    rows = rows_of(client.get(EXPORT))[1:]

    assert {row[3] for row in rows} == {"LYO"}
    assert client.get(EXPORT, {"warehouse": "PAR"}).status_code == 400
