"""A warehouse staff member's day in a real browser: a scanned reception, an adjustment
refused without a reason, a transfer, and a physical count from start to apply. The ledger
verifies after each."""

import csv
import io
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory.ledger import verify_ledger
from inventory.models import CountSession, CountStatus, Movement, MovementReason, StockLine
from inventory.services import StockQuantity, stock_receive
from tests.factories import SupplierFactory, UserFactory, VariantFactory, WarehouseFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop():
    """A staff member, two warehouses, a supplier and three SKUs, stock in PAR."""
    UserFactory(username="clara", password="demo", role="Warehouse staff")
    par = WarehouseFactory(code="PAR", name="Paris central")
    lyo = WarehouseFactory(code="LYO", name="Lyon south")
    SupplierFactory(name="Atelier Textile")
    mug = VariantFactory(sku="MUG-BLUE", barcode="3770000000017")
    towel = VariantFactory(sku="TOWEL-SAGE")
    soap = VariantFactory(sku="SOAP-OLIVE")
    stock_receive(
        warehouse=par,
        lines=[StockQuantity(mug, 10), StockQuantity(towel, 6), StockQuantity(soap, 4)],
        reference="Opening stock",
    )
    return {"par": par, "lyo": lyo, "mug": mug, "towel": towel, "soap": soap}


def on_hand(variant, warehouse) -> Decimal:
    line = StockLine.objects.filter(variant=variant, warehouse=warehouse).first()
    return line.on_hand if line else Decimal(0)


def test_a_delivery_received_by_scanning(shop, login, live_server, screenshot_dir):
    page = login("clara")
    page.goto(f"{live_server.url}/inventory/receptions/new/")
    page.get_by_label("Supplier").select_option(label="Atelier Textile")
    page.get_by_label("Warehouse", exact=True).select_option("PAR")
    page.get_by_label("Delivery note number").fill("DN-2211")
    scan = page.get_by_label("Scan SKU or barcode")
    # Three mugs (twice by SKU, once by barcode, as a scanner types them) and one towel.
    for code in ("MUG-BLUE", "mug-blue", "TOWEL-SAGE"):
        scan.fill(code)
        scan.press("Enter")
    expect(page.locator('input[name="lines-0-quantity"]')).to_have_value("2")
    scan.fill("3770000000017")
    scan.press("Enter")

    page.get_by_role("button", name="Check the lines").click()
    expect(page.get_by_role("heading", name="Received vs expected")).to_be_visible()
    page.screenshot(path=screenshot_dir / "staff-reception-check.png", full_page=True)
    page.get_by_role("button", name="Receive", exact=True).click()

    expect(page.get_by_text("Received 2 lines from Atelier Textile into PAR")).to_be_visible()
    assert on_hand(shop["mug"], shop["par"]) == Decimal(13)
    assert on_hand(shop["towel"], shop["par"]) == Decimal(7)
    references = set(
        Movement.objects.filter(reason=MovementReason.SUPPLIER_RECEPTION).values_list(
            "reference", flat=True
        )
    )
    assert "Atelier Textile / DN-2211" in references
    assert verify_ledger().ok


def test_an_adjustment_without_a_reason_is_refused_then_applied(shop, login, live_server):
    page = login("clara")
    page.goto(f"{live_server.url}/inventory/adjust/?sku=MUG-BLUE&warehouse=PAR")
    page.get_by_label("Quantity", exact=True).fill("-2")
    page.get_by_label("Note").fill("Two broken in the box")
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_text("Give a reason for this change.")).to_be_visible()
    assert on_hand(shop["mug"], shop["par"]) == Decimal(10)
    assert verify_ledger().ok

    page.get_by_label("Reason").select_option("breakage")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="What will change")).to_be_visible()
    page.get_by_role("button", name="Apply adjustment").click()

    expect(page.get_by_text("On hand is now 8")).to_be_visible()
    assert on_hand(shop["mug"], shop["par"]) == Decimal(8)
    assert verify_ledger().ok


def test_a_transfer_between_warehouses(shop, login, live_server):
    page = login("clara")
    page.goto(f"{live_server.url}/inventory/transfers/new/")
    page.get_by_label("From warehouse").select_option("PAR")
    page.get_by_label("To warehouse").select_option("LYO")
    page.locator('input[name="lines-0-sku"]').fill("TOWEL-SAGE")
    page.locator('input[name="lines-0-quantity"]').fill("4")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="What will change")).to_be_visible()
    page.get_by_role("button", name="Transfer", exact=True).click()

    expect(page.get_by_text("from PAR to LYO")).to_be_visible()
    assert on_hand(shop["towel"], shop["par"]) == Decimal(2)
    assert on_hand(shop["towel"], shop["lyo"]) == Decimal(4)
    assert verify_ledger().ok


def test_a_physical_count_from_start_to_apply(shop, login, live_server, screenshot_dir):
    page = login("clara")
    page.goto(f"{live_server.url}/inventory/counts/")
    page.get_by_label("Warehouse", exact=True).select_option("PAR")
    page.get_by_label("Every stock line of the warehouse").check()
    page.get_by_role("button", name="Start the count").click()
    expect(page.get_by_text("expected quantities snapshotted")).to_be_visible()
    session = CountSession.objects.get()

    # Scan the mugs one by one (nine found), type the towels.
    for _ in range(9):
        page.get_by_label("SKU", exact=True).fill("MUG-BLUE")
        page.get_by_label("SKU", exact=True).press("Enter")
        page.wait_for_load_state()
    expect(page.get_by_text("MUG-BLUE: 9 counted")).to_be_visible()
    page.get_by_label("SKU", exact=True).fill("TOWEL-SAGE")
    page.get_by_label("Counted quantity").fill("6")
    page.get_by_label("Add to what is already counted").uncheck()
    page.get_by_role("button", name="Record").click()

    # The soap comes from the CSV sheet, downloaded, filled in and uploaded.
    with page.expect_download() as download:
        page.get_by_role("link", name="Sheet as CSV").first.click()
    with open(download.value.path(), encoding="utf-8") as sheet:
        rows = list(csv.reader(sheet))
    assert rows[0] == ["SKU", "Product", "Variant", "Barcode", "Counted quantity"]
    filled = io.StringIO()
    csv.writer(filled).writerows(
        [rows[0]] + [row[:4] + (["3"] if row[0] == "SOAP-OLIVE" else [""]) for row in rows[1:]]
    )
    page.get_by_label("Filled count sheet (CSV)").set_input_files(
        files=[{"name": "sheet.csv", "mimeType": "text/csv", "buffer": filled.getvalue().encode()}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("counted quantities recorded from the file")).to_be_visible()

    page.get_by_role("link", name="Gaps and apply").click()
    expect(page.get_by_role("cell", name="-1")).to_have_count(2)
    page.screenshot(path=screenshot_dir / "staff-count-gaps.png", full_page=True)
    page.get_by_role("button", name="Apply the count").click()

    expect(page.get_by_text(f"Count {session.reference} applied: 2 corrections")).to_be_visible()
    session.refresh_from_db()
    assert session.status == CountStatus.APPLIED
    assert on_hand(shop["mug"], shop["par"]) == Decimal(9)
    assert on_hand(shop["towel"], shop["par"]) == Decimal(6)
    assert on_hand(shop["soap"], shop["par"]) == Decimal(3)
    assert Movement.objects.filter(reference=session.reference).count() == 2
    assert verify_ledger().ok
