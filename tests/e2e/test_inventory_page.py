"""The merchant's morning in a real browser: the inventory list, a SKU's page, the CSV."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inventory.services import StockQuantity, stock_adjust, stock_receive, stock_reserve, stock_ship
from inventory.services.clock import simulated_time
from tests.factories import ProductFactory, UserFactory, VariantFactory, WarehouseFactory

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = (
    "Product,Variant,SKU,Warehouse,Available,Reserved,Locked,Total,Incoming,"
    "Alert threshold,Status,Last movement"
)


@pytest.fixture
def shop():
    """Two warehouses, twelve SKUs received ten weeks ago: OK, Low stock and Stockout lines,
    a steady seller (MUG-BLUE, 10 a week in PAR) and lines untouched since."""
    UserFactory(username="merchant", password="demo", role="Merchant")
    par = WarehouseFactory(code="PAR", name="Paris central")
    lyo = WarehouseFactory(code="LYO", name="Lyon south")
    now = timezone.now()
    start = now - timedelta(days=70)
    mug = VariantFactory(
        product=ProductFactory(name="Stoneware mug", alert_threshold=Decimal(8)),
        name="Blue",
        sku="MUG-BLUE",
    )
    others = [
        VariantFactory(
            product=ProductFactory(name=name, alert_threshold=Decimal(5)), name=option, sku=sku
        )
        for name, option, sku in (
            ("Linen tea towel", "Sage", "TOWEL-SAGE"),
            ("Linen tea towel", "Sand", "TOWEL-SAND"),
            ("Beeswax candle", "", "CANDLE-L"),
            ("Canvas tote", "Natural", "TOTE-NAT"),
            ("Notebook A5", "Dotted", "NOTE-A5-D"),
            ("Notebook A5", "Lined", "NOTE-A5-L"),
            ("Enamel pin", "Fox", "PIN-FOX"),
            ("Wool beanie", "Rust", "BEANIE-RUST"),
            ("Wool beanie", "Navy", "BEANIE-NAVY"),
            ("Olive oil soap", "", "SOAP-OLIVE"),
            ("Ceramic vase", "Small", "VASE-S"),
        )
    ]
    with simulated_time(start):
        for warehouse in (par, lyo):
            stock_receive(
                warehouse=warehouse,
                lines=[StockQuantity(mug, 120)] + [StockQuantity(v, 12) for v in others],
                reference=f"DN-{warehouse.code}-001",
            )
    for week in range(8):  # 10 a week for the last 8 weeks
        with simulated_time(now - timedelta(days=52 - 7 * week)):
            lines = [StockQuantity(mug, 10)]
            stock_reserve(warehouse=par, lines=lines, reference=f"SO-{week}")
            stock_ship(warehouse=par, lines=lines, reference=f"SO-{week}")
    with simulated_time(now - timedelta(days=2)):
        for variant, quantity in ((others[0], -9), (others[1], -10), (others[2], -12)):
            stock_adjust(variant=variant, warehouse=par, quantity=quantity, reason="breakage",
                         note="Shelf collapsed")  # fmt: skip
        stock_adjust(variant=others[3], warehouse=lyo, quantity=-12, reason="loss")
    return mug


def test_merchant_morning_routine(login, live_server, shop, screenshot_dir):
    page = login("merchant")
    expect(page.get_by_role("heading", name="Inventory")).to_be_visible()

    # Low stock only: every badge in the table says Low stock.
    page.get_by_label("Status").select_option("low")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"status=low"))
    badges = page.locator("table.stock-list tbody .badge")
    expect(badges.first).to_be_visible()
    assert set(badges.all_inner_texts()) == {"▲ Low stock"}
    assert badges.count() == 2

    # The morning routine: stockouts first, then low stock.
    page.get_by_role("link", name="Low stock / Stockout").click()
    page.wait_for_url(re.compile(r"status=low,out"))
    first_badge = page.locator("table.stock-list tbody tr").first.locator(".badge")
    expect(first_badge).to_have_text("✕ Stockout")
    page.screenshot(path=screenshot_dir / "inventory-morning-routine.png", full_page=True)

    # Search a SKU.
    page.get_by_role("link", name="All stock").click()
    page.get_by_label("Search").fill("mug-blue")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"q=mug-blue"))
    rows = page.locator("table.stock-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("MUG-BLUE")

    # Sort by last movement, oldest first: the line untouched since the opening stock leads.
    page.get_by_role("link", name="All stock").click()
    page.get_by_role("link", name=re.compile("^Last movement")).click()
    page.wait_for_url(re.compile(r"ordering=last_movement"))
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Last movement")
    last_moved = page.locator("table.stock-list tbody tr time").first
    expect(last_moved).to_have_attribute("title", re.compile(r"\d{4}, \d\d:\d\d"))
    assert last_moved.inner_text().replace("\xa0", " ") == "2 months ago"
    page.screenshot(path=screenshot_dir / "inventory-list.png")

    # A SKU's page: chart, sales pace and history.
    page.get_by_role("link", name="All stock").click()
    page.get_by_role("link", name="MUG-BLUE").first.click()
    page.wait_for_url(re.compile(r"/inventory/sku/MUG-BLUE/"))
    expect(page.get_by_role("heading", name=re.compile("Stoneware mug"))).to_be_visible()
    chart = page.get_by_role("img", name=re.compile("On-hand stock of MUG-BLUE"))
    expect(chart).to_be_visible()
    assert chart.locator("path.chart-line").count() == 2
    expect(page.locator(".suggested")).to_have_text("20")
    history = page.locator("table.history tbody tr")
    expect(history.first).to_contain_text("Sale")
    assert history.count() == 10
    page.get_by_label("Type").select_option("entry")
    page.get_by_role("button", name="Filter").click()
    expect(history).to_have_count(2)
    page.screenshot(path=screenshot_dir / "sku-page.png", full_page=True)

    # Apply the suggested threshold in one click.
    page.get_by_role("button", name="Apply threshold").click()
    expect(page.locator(".messages")).to_contain_text("Alert threshold of MUG-BLUE set to 20.")

    # Export the Low stock / Stockout lines and read the CSV back.
    page.goto(f"{live_server.url}/inventory/?status=low,out")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    body = download_info.value.path().read_text(encoding="utf-8")
    lines = body.splitlines()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert lines[0] == HEADER
    assert {row["Status"] for row in rows} == {"Low stock", "Stockout"}
    assert {(row["SKU"], row["Warehouse"], row["Status"]) for row in rows} == {
        ("CANDLE-L", "PAR", "Stockout"),
        ("TOTE-NAT", "LYO", "Stockout"),
        ("TOWEL-SAGE", "PAR", "Low stock"),
        ("TOWEL-SAND", "PAR", "Low stock"),
    }
