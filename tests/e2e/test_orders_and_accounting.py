"""The merchant follows the shop's orders, and the accountant closes the month, in a real
browser: the orders list and an order's page; the stock at a past date and the movement journal,
each downloaded as CSV, without a single write link on the way."""

import csv
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from inventory.services import StockQuantity, stock_adjust, stock_receive
from inventory.services.clock import simulated_time
from orders.models import Stage
from orders.services import OrderLineInput, order_create, order_set_stage
from tests.factories import ProductFactory, UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import JOURNAL_COLUMNS, STOCK_AT_DATE_COLUMNS

pytestmark = pytest.mark.django_db(transaction=True)

#: Links of the top bar and the SKU page that change stock: an accountant sees none of them.
WRITE_LINKS = ("Adjust", "Receptions", "Receive", "Transfer", "Locks", "Counts")


def place(reference, warehouse, lines: dict, *, at, stage=Stage.CONFIRMED):
    with simulated_time(at):
        order, _ = order_create(
            reference=reference,
            warehouse=warehouse,
            lines=[OrderLineInput(variant, quantity) for variant, quantity in lines.items()],
            stage=stage,
        )
    return order


def move(order, stage, *, at):
    with simulated_time(at):
        order_set_stage(order=order, stage=stage)


@pytest.fixture
def shop():
    """A month of a small shop: stock received 30 days ago (10 mugs at 4.00, 6 towels at 3.50
    in PAR; 4 soaps in LYO), 2 mugs broken 10 days ago, and four orders: SO-1001 shipped (2
    mugs, 1 towel), SO-1002 confirmed (1 mug), SO-1003 cancelled (1 towel), SO-1004 new (1 soap
    in LYO)."""
    UserFactory(username="merchant", password="demo", role="Merchant")
    UserFactory(username="ada", password="demo", role="Accountant")
    par = WarehouseFactory(code="PAR", name="Paris central")
    lyo = WarehouseFactory(code="LYO", name="Lyon south")
    mug = VariantFactory(product=ProductFactory(name="Stoneware mug"), name="Blue", sku="MUG-BLUE")
    towel = VariantFactory(
        product=ProductFactory(name="Linen tea towel"), name="Sage", sku="TOWEL-SAGE"
    )
    soap = VariantFactory(product=ProductFactory(name="Olive oil soap"), name="", sku="SOAP-OLIVE")
    now = timezone.now().replace(microsecond=0)
    with simulated_time(now - timedelta(days=30)):
        stock_receive(
            warehouse=par,
            lines=[
                StockQuantity(mug, 10, unit_cost=Decimal("4.00")),
                StockQuantity(towel, 6, unit_cost=Decimal("3.50")),
            ],
            reference="Atelier Textile / DN-0001",
        )
        stock_receive(
            warehouse=lyo,
            lines=[StockQuantity(soap, 4, unit_cost=Decimal("2.00"))],
            reference="Épicerie Fine / DN-0002",
        )
    with simulated_time(now - timedelta(days=10)):
        stock_adjust(
            variant=mug, warehouse=par, quantity=-2, reason="breakage", note="Dropped a box"
        )
    shipped = place("SO-1001", par, {mug: 2, towel: 1}, at=now - timedelta(days=5))
    move(shipped, Stage.SHIPPED, at=now - timedelta(days=4))
    place("SO-1002", par, {mug: 1}, at=now - timedelta(days=2))
    cancelled = place("SO-1003", par, {towel: 1}, at=now - timedelta(days=3))
    move(cancelled, Stage.CANCELLED, at=now - timedelta(days=3, hours=-2))
    place("SO-1004", lyo, {soap: 1}, at=now - timedelta(days=1), stage=Stage.NEW)
    return {"now": now}


def order_rows(page: Page):
    return page.locator("table.data tbody tr")


def download_csv(page: Page, link_name: str) -> list[list[str]]:
    with page.expect_download() as download:
        page.get_by_role("link", name=link_name, exact=True).click()
    with open(download.value.path(), encoding="utf-8", newline="") as data:
        return list(csv.reader(data))


def test_the_merchant_filters_the_orders_and_reads_one(shop, login, live_server, screenshot_dir):
    page = login("merchant")
    page.get_by_role("link", name="Orders", exact=True).click()

    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    expect(order_rows(page)).to_have_count(4)
    page.get_by_label("Stage").select_option(label="Confirmed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"stage=confirmed"))
    expect(order_rows(page)).to_have_count(1)
    expect(order_rows(page).first).to_contain_text("SO-1002")

    page.get_by_label("Stage").select_option(label="All")
    page.get_by_label("Search").fill("MUG-BLUE")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"q=MUG-BLUE"))
    expect(order_rows(page)).to_have_count(2)  # SO-1001 and SO-1002 hold mugs
    page.screenshot(path=screenshot_dir / "merchant-orders.png", full_page=True)

    page.get_by_role("link", name="SO-1001").click()
    expect(page.get_by_role("heading", name="Order SO-1001")).to_contain_text("Shipped")
    lines = page.get_by_role("table").first.locator("tbody tr")
    expect(lines).to_have_count(2)
    mug = lines.filter(has_text="MUG-BLUE")
    # Quantity, Reserved, Shipped, Restocked.
    expect(mug.locator("td.num")).to_have_text(["2", "0", "2", "0"])
    history = page.get_by_role("table").nth(1).locator("tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("Created as Confirmed")
    expect(history.nth(0)).to_contain_text("Reserved")
    expect(history.nth(1)).to_contain_text("Confirmed → Shipped")
    expect(history.nth(1)).to_contain_text("Deducted")
    page.screenshot(path=screenshot_dir / "merchant-order.png", full_page=True)


def test_the_accountant_reads_and_downloads_the_stock_at_a_past_date(
    shop, login, live_server, screenshot_dir
):
    page = login("ada")
    for name in WRITE_LINKS:
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    page.get_by_role("link", name="Stock at date").click()
    expect(page.get_by_role("heading", name="Stock at date")).to_be_visible()

    # 15 days ago: after the receptions, before the breakage and the orders.
    past = timezone.localtime(shop["now"] - timedelta(days=15))
    page.get_by_label("Date and time").fill(past.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Totals at")).to_contain_text(
        past.strftime("%Y-%m-%d %H:%M:%S")
    )
    mug = page.locator("table.data tbody tr").filter(has_text="MUG-BLUE")
    # On hand, Unit cost, Value: 10 mugs then, 6 now.
    expect(mug.locator("td.num")).to_have_text(["10", "4.0000", "40.00"])
    page.screenshot(path=screenshot_dir / "accountant-stock-at-date.png", full_page=True)

    rows = download_csv(page, "Download CSV")
    assert rows[0] == STOCK_AT_DATE_COLUMNS
    lines = {(row[2], row[3]): row for row in rows[1:] if row[2]}
    assert set(lines) == {("MUG-BLUE", "PAR"), ("TOWEL-SAGE", "PAR"), ("SOAP-OLIVE", "LYO")}
    product, variant, _, _, on_hand, unit_cost, value = lines["MUG-BLUE", "PAR"]
    assert (product, variant) == ("Stoneware mug", "Blue")
    assert (Decimal(on_hand), Decimal(unit_cost), Decimal(value)) == (10, 4, 40)
    assert Decimal(lines["TOWEL-SAGE", "PAR"][4]) == 6


def test_the_accountant_filters_and_downloads_the_movement_journal(
    shop, login, live_server, screenshot_dir
):
    page = login("ada")
    page.get_by_role("link", name="Movements", exact=True).click()
    expect(page.get_by_role("heading", name="Movements")).to_be_visible()
    journal = page.locator("table.data tbody tr")
    # Three received, one broken, two shipped for SO-1001 (holds are not movements).
    expect(journal).to_have_count(6)

    page.get_by_label("Type", exact=True).select_option(label="Exit")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"type=exit"))
    expect(journal).to_have_count(2)
    for row in journal.all():
        expect(row).to_contain_text("SO-1001")
        expect(row).to_contain_text("Sale")
    page.screenshot(path=screenshot_dir / "accountant-journal.png", full_page=True)

    rows = download_csv(page, "Download CSV")
    assert rows[0] == JOURNAL_COLUMNS
    assert len(rows) == 3
    by_sku = {row[1]: dict(zip(JOURNAL_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert set(by_sku) == {"MUG-BLUE", "TOWEL-SAGE"}
    mug = by_sku["MUG-BLUE"]
    assert (mug["Product"], mug["Warehouse"], mug["Type"], mug["Reason"]) == (
        "Stoneware mug",
        "PAR",
        "Exit",
        "Sale",
    )
    assert (Decimal(mug["Quantity"]), Decimal(mug["Balance after"])) == (-2, 6)
    assert mug["Reference"] == "SO-1001"

    # The breakage alone, by its date.
    page.goto(f"{live_server.url}/movements/")
    broken_on = timezone.localdate(shop["now"] - timedelta(days=10))
    page.get_by_label("From", exact=True).fill(broken_on.isoformat())
    page.get_by_label("To", exact=True).fill(broken_on.isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"from={broken_on.isoformat()}"))
    expect(journal).to_have_count(1)
    expect(journal.first).to_contain_text("Breakage")

    for name in WRITE_LINKS:
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)


def test_the_accountant_sees_no_write_action_on_a_sku_or_an_order(shop, login, live_server):
    page = login("ada")
    page.goto(f"{live_server.url}/inventory/sku/MUG-BLUE/")
    expect(page.get_by_role("heading", name="Stoneware mug")).to_be_visible()
    for name in WRITE_LINKS:
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)

    page.goto(f"{live_server.url}/orders/SO-1002/")
    expect(page.get_by_role("heading", name="Order SO-1002")).to_be_visible()
    expect(page.get_by_role("button", name="Move order")).to_have_count(0)
