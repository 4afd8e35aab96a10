"""Sales pace: weekly sales from Exit/Sale movements, days of cover, suggested threshold."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from inventory.models import StockLine
from inventory.selectors.sales import (
    SALES_WEEKS,
    days_of_cover,
    sales_pace,
    suggested_threshold,
    with_recent_sales,
)
from inventory.services import StockQuantity, stock_adjust, stock_reserve, stock_ship
from inventory.services.clock import simulated_time
from tests.helpers import d, receive

pytestmark = pytest.mark.django_db

_orders = count(1)


def sell(variant, warehouse, quantity, *, days_ago: float, now=None):
    """Reserve then ship ``quantity`` (an Exit movement, reason Sale) ``days_ago`` days ago."""
    moment = (now or timezone.now()) - timedelta(days=days_ago)
    reference = f"SO-{next(_orders)}"
    lines = [StockQuantity(variant, quantity)]
    with simulated_time(moment):
        stock_reserve(warehouse=warehouse, lines=lines, reference=reference)
        stock_ship(warehouse=warehouse, lines=lines, reference=reference)


def test_ten_a_week_with_a_fourteen_day_cycle_suggests_twenty():
    sold = Decimal(10 * SALES_WEEKS)

    assert suggested_threshold(sold, cycle_days=14, allows_fractions=False) == Decimal(20)


@pytest.mark.parametrize(
    ("sold", "cycle", "fractions", "expected"),
    [
        (Decimal(1), 14, False, Decimal(1)),  # a quarter of a piece still needs one piece
        (Decimal(81), 14, False, Decimal(21)),  # 20.25 rounded up
        (Decimal("8.5"), 7, True, Decimal("1.063")),  # 1.0625 kg rounded up to the gram
        (Decimal(0), 14, False, Decimal(0)),
        (Decimal(56), 1, False, Decimal(1)),
    ],
)
def test_suggested_threshold_rounds_up_to_what_the_unit_allows(sold, cycle, fractions, expected):
    assert suggested_threshold(sold, cycle_days=cycle, allows_fractions=fractions) == expected


@pytest.mark.parametrize(
    ("available", "sold", "expected"),
    [
        (Decimal(20), Decimal(56), 20),  # one a day
        (Decimal(20), Decimal(80), 14),  # 10 a week: 14 days
        (Decimal(3), Decimal(80), 2),  # whole days only
        (Decimal(0), Decimal(80), 0),
        (Decimal(-2), Decimal(80), 0),
        (Decimal(20), Decimal(0), None),  # nothing sold: no pace to go by
    ],
)
def test_days_of_cover_at_the_pace_of_the_last_eight_weeks(available, sold, expected):
    assert days_of_cover(available, sold) == expected


def received_long_ago(variant, warehouse, quantity, now):
    # The ledger is written in time order: stock comes in before it is sold.
    with simulated_time(now - timedelta(days=90)):
        receive(variant, warehouse, quantity)


def test_sales_pace_sums_sales_per_rolling_week_and_per_line(variant, warehouse, other_warehouse):
    now = timezone.now()
    received_long_ago(variant, warehouse, 100, now)
    received_long_ago(variant, other_warehouse, 100, now)
    sell(variant, warehouse, 50, days_ago=57, now=now)  # before the window
    sell(variant, warehouse, 7, days_ago=55, now=now)
    sell(variant, other_warehouse, 4, days_ago=8, now=now)
    sell(variant, warehouse, 2, days_ago=6.5, now=now)
    sell(variant, warehouse, 3, days_ago=0.5, now=now)
    with simulated_time(now - timedelta(days=0.25)):
        stock_adjust(variant=variant, warehouse=warehouse, quantity=-9, reason="breakage")
    lines = {line.warehouse_id: line.pk for line in StockLine.objects.filter(variant=variant)}

    pace = sales_pace(list(lines.values()), now=now)

    assert [week.quantity for week in pace.weeks] == [7, 0, 0, 0, 0, 0, 4, 5]
    assert pace.weeks[-1].end == now
    assert pace.weeks[0].start == now - timedelta(days=56)
    assert pace.total == 16 and pace.per_week == 2
    assert pace.by_line == {lines[warehouse.pk]: 12, lines[other_warehouse.pk]: 4}


def test_with_recent_sales_annotates_each_line_and_zero_without_sales(
    variant, warehouse, kg_variant
):
    now = timezone.now()
    received_long_ago(variant, warehouse, 10, now)
    received_long_ago(kg_variant, warehouse, "5.5", now)
    sell(kg_variant, warehouse, "1", days_ago=70, now=now)
    sell(kg_variant, warehouse, "1.25", days_ago=2, now=now)

    sold = dict(
        with_recent_sales(StockLine.objects.all(), now=now).values_list(
            "variant_id", "sold_recently"
        )
    )

    assert sold == {variant.pk: d(0), kg_variant.pk: d("1.25")}
