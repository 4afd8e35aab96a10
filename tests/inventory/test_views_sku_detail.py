"""A SKU's page: stock per warehouse, chart, sales pace and threshold, history, scope."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Variant
from inventory.models import StockStatus
from inventory.services import StockQuantity, stock_adjust, stock_lock, stock_receive
from inventory.services.clock import simulated_time
from inventory.services.errors import MSG_FRACTION, MSG_NEGATIVE
from inventory.views.sku_detail import HISTORY_PAGE_SIZE, MSG_CYCLE_DAYS, MSG_THRESHOLD_SET
from tests.factories import ProductFactory, UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of
from tests.inventory.test_selectors_sales import sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant(client):
    user = UserFactory(role="Merchant")
    client.force_login(user)
    return user


@pytest.fixture
def mug():
    """MUG-1 in PAR and LYO, received 60 days ago, selling 10 a week in PAR for 8 weeks."""
    par, lyo = WarehouseFactory(code="PAR"), WarehouseFactory(code="LYO")
    variant = VariantFactory(
        product=ProductFactory(name="Stoneware mug", alert_threshold=8), name="Blue", sku="MUG-1"
    )
    now = timezone.now()
    with simulated_time(now - timedelta(days=60)):
        stock_receive(
            warehouse=par, lines=[StockQuantity(variant, 100)], reference="DN-1", note="Opening"
        )
        stock_receive(warehouse=lyo, lines=[StockQuantity(variant, 5)], reference="DN-2")
    for week in range(8):
        sell(variant, par, 10, days_ago=52 - 7 * week, now=now)
    with simulated_time(now - timedelta(days=1)):
        stock_lock(variant=variant, warehouse=par, quantity=2, reason="damaged")
    return variant, par, lyo


def page(client, sku="MUG-1", **query):
    return client.get(f"/inventory/sku/{sku}/", query)


def text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_page_shows_each_warehouses_quantities_and_the_totals(client, merchant, mug):
    response = page(client)

    overview = response.context["overview"]
    assert response.status_code == 200
    assert [(item.line.warehouse.code, item.line.on_hand) for item in overview.lines] == [
        ("LYO", d(5)),
        ("PAR", d(20)),
    ]
    assert overview.totals == {
        "on_hand": d(25),
        "reserved": d(0),
        "locked": d(2),
        "available": d(23),
        "incoming": d(0),
    }
    assert "All warehouses" in text(response)


def test_page_says_where_each_threshold_comes_from(client, merchant, mug):
    variant, par, _ = mug
    line = line_of(variant, par)
    line.alert_threshold = Decimal(30)
    line.save()

    items = {item.line.warehouse.code: item for item in page(client).context["overview"].lines}

    assert (items["PAR"].line.effective_threshold, items["PAR"].threshold_source) == (
        d(30),
        "warehouse",
    )
    assert (items["LYO"].line.effective_threshold, items["LYO"].threshold_source) == (
        d(8),
        "product",
    )
    assert items["PAR"].line.status == StockStatus.LOW


def test_sales_per_week_days_of_cover_and_the_suggested_threshold(client, merchant, mug):
    response = page(client)

    overview = response.context["overview"]
    assert [week.quantity for week in overview.pace.weeks] == [10] * 8
    assert overview.pace.per_week == 10
    assert overview.days_of_cover == 16  # 23 available at 10 a week
    assert overview.suggested_threshold == 20  # 10 a week, 14-day cycle
    assert "a 14-day reorder cycle suggests an alert threshold of 20" in " ".join(
        text(response).split()
    )


def test_a_longer_reorder_cycle_suggests_more(client, merchant, mug):
    assert page(client, cycle=28).context["overview"].suggested_threshold == 40


def test_a_bad_reorder_cycle_keeps_the_default_and_says_why(client, merchant, mug):
    response = page(client, cycle="0")

    assert response.context["overview"].suggested_threshold == 20
    assert MSG_CYCLE_DAYS in text(response)


def test_chart_draws_one_step_line_per_warehouse_from_the_ledger(client, merchant, mug):
    response = page(client, days=90)

    html = response.content.decode()
    series = {s.label: s for s in response.context["overview"].chart_series}
    assert set(series) == {"LYO", "PAR"}
    assert series["PAR"].points[0][1] == 0  # nothing before the 90 days, then 100 received
    assert [balance for _, balance in series["PAR"].points[1:3]] == [d(100), d(90)]
    assert series["PAR"].points[-1][1] == d(20)
    assert html.count('class="chart-line"') == 2
    assert 'role="img"' in html and "On-hand stock of MUG-1 per warehouse" in html
    assert [entry.label for entry in response.context["chart"].legend] == ["LYO", "PAR"]


def test_chart_of_a_shorter_period_starts_from_the_balance_at_its_start(client, merchant, mug):
    response = page(client, days=30)

    series = {s.label: s for s in response.context["overview"].chart_series}
    assert series["PAR"].points[0][1] == d(60)  # 100 received, 4 weeks of 10 sold before
    assert series["LYO"].points == [(series["LYO"].points[0][0], d(5))]


def test_history_lists_movements_with_who_and_why_newest_first(client, merchant, mug):
    variant, par, _ = mug
    staff = UserFactory(username="marie")
    stock_adjust(
        variant=variant,
        warehouse=par,
        quantity=-1,
        reason="breakage",
        note="Dropped",
        reference="INC-7",
        user=staff,
    )

    response = page(client)
    newest = response.context["history_page"].object_list[0]
    row = re.search(
        r"<tbody>\s*<tr>(.*?)</tr>", response.content.decode().split("history")[-1], re.S
    )

    assert (newest.reason, newest.quantity, newest.balance_after) == ("breakage", d(-1), d(19))
    assert row is not None
    cells = unescape(re.sub(r"<[^>]+>", "|", row.group(1)))
    for expected in ("PAR", "Adjustment", "Breakage", "-1", "19", "INC-7", "Dropped", "marie"):
        assert expected in cells


def test_history_filters_by_warehouse_type_and_date_and_pages(client, merchant, mug):
    assert page(client, warehouse="LYO").context["history_page"].paginator.count == 1
    assert page(client, type="exit").context["history_page"].paginator.count == 8
    since = (timezone.now() - timedelta(days=10)).date().isoformat()
    assert page(client, **{"from": since}).context["history_page"].paginator.count == 2
    history = page(client).context["history_page"]
    assert history.paginator.count == 10 and history.paginator.per_page == HISTORY_PAGE_SIZE


def test_links_to_adjust_transfer_and_receive_this_sku(client, merchant, mug):
    html = page(client).content.decode()

    assert 'href="/inventory/adjust/?sku=MUG-1"' in html
    assert 'href="/inventory/adjust/?sku=MUG-1&amp;warehouse=PAR"' in html
    assert 'href="/inventory/transfers/new/?sku=MUG-1"' in html
    assert 'href="/inventory/receptions/new/?sku=MUG-1"' in html


def test_apply_the_suggested_threshold_in_one_click(client, merchant, mug):
    variant, par, lyo = mug

    response = client.post("/inventory/sku/MUG-1/", {"threshold": "20", "cycle": "14"}, follow=True)

    assert response.redirect_chain == [("/inventory/sku/MUG-1/?cycle=14", 302)]
    assert Variant.objects.get(pk=variant.pk).alert_threshold == d(20)
    assert line_of(variant, par).status == StockStatus.LOW  # 18 available, below 20
    assert line_of(variant, lyo).status == StockStatus.LOW  # 5 available
    assert line_of(variant, par).effective_threshold == d(20)
    assert MSG_THRESHOLD_SET % {"sku": "MUG-1", "threshold": "20"} in text(response)


def test_apply_refuses_bad_thresholds_next_to_the_field_and_changes_nothing(client, merchant, mug):
    variant, _, _ = mug

    negative = client.post("/inventory/sku/MUG-1/", {"threshold": "-4"})
    fraction = client.post("/inventory/sku/MUG-1/", {"threshold": "2.5"})

    assert negative.status_code == 200 and fraction.status_code == 200
    assert MSG_NEGATIVE in text(negative)
    assert MSG_FRACTION % {"sku": "MUG-1", "quantity": "2.5"} in text(fraction)
    assert Variant.objects.get(pk=variant.pk).alert_threshold is None


def test_applying_needs_the_change_variant_permission(client, mug):
    variant, _, _ = mug
    client.force_login(UserFactory(role="Accountant"))

    assert "Apply threshold" not in page(client).content.decode()
    assert client.post("/inventory/sku/MUG-1/", {"threshold": "20"}).status_code == 403
    assert Variant.objects.get(pk=variant.pk).alert_threshold is None


def test_sku_in_another_case_redirects_to_its_page(client, merchant, mug):
    response = page(client, sku="mug-1", days=30)

    assert response.status_code == 302
    assert response["Location"] == "/inventory/sku/MUG-1/?days=30"


@pytest.mark.parametrize("sku", ["NOPE", "%00", "a%20b", "x" * 65, "%E2%9C%93"])
def test_unknown_or_impossible_sku_is_not_found(client, merchant, sku):
    assert page(client, sku=sku).status_code == 404


def test_bad_page_options_fall_back_to_the_defaults(client, merchant, mug):
    response = page(client, days="forever", page="last", type="teleport", **{"from": "soon"})

    assert response.status_code == 200
    assert response.context["chart_days"] == 90
    assert response.context["history_page"].number == 1


def test_staff_see_only_their_warehouses_lines_and_history(client, mug):
    _, _, lyo = mug
    staff = UserFactory(role="Warehouse staff")
    lyo.assigned_staff.add(staff)
    client.force_login(staff)

    response = page(client)

    assert [item.line.warehouse.code for item in response.context["overview"].lines] == ["LYO"]
    assert response.context["history_page"].paginator.count == 1
    assert response.context["overview"].pace.total == 0


def test_the_page_costs_the_same_queries_with_more_history(client, merchant, mug):
    variant, _, lyo = mug
    with CaptureQueriesContext(connection) as before:
        page(client)
    for _ in range(30):
        stock_adjust(variant=variant, warehouse=lyo, quantity=1, reason="found")
    stock_receive(warehouse=WarehouseFactory(), lines=[StockQuantity(variant, 3)])

    with CaptureQueriesContext(connection) as after:
        page(client)

    assert len(after.captured_queries) == len(before.captured_queries)
