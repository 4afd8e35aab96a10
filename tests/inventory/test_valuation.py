"""Weighted average cost kept by receptions, the cost history, and the cost at a past moment."""

import threading
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from catalog.models import AverageCost
from inventory.models import Movement
from inventory.selectors.valuation import average_cost_at, money, stock_value
from inventory.services import (
    InvalidQuantity,
    StockQuantity,
    stock_adjust,
    stock_receive,
    stock_restock_return,
    stock_transfer,
)
from inventory.services.clock import simulated_time
from inventory.services.costing import (
    MSG_COST_NEGATIVE,
    MSG_COST_TOO_LARGE,
    MSG_COST_TOO_MANY_DECIMALS,
    weighted_average,
)
from tests.factories import VariantFactory, WarehouseFactory
from tests.helpers import d, receive

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2025-03-01T09:00:00+00:00")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def receive_at(moment, variant, warehouse, quantity, cost=None, **kwargs):
    with simulated_time(moment):
        return stock_receive(
            warehouse=warehouse, lines=[StockQuantity(variant, quantity, cost)], **kwargs
        )


def average_of(variant) -> Decimal | None:
    variant.refresh_from_db(fields=["average_cost"])
    return variant.average_cost


def test_first_costed_reception_sets_the_average_and_records_its_cost(variant, warehouse):
    [movement] = receive_at(at(0), variant, warehouse, 10, Decimal("2.50"))

    assert average_of(variant) == Decimal("2.5000")
    movement.refresh_from_db()
    assert movement.unit_cost == Decimal("2.5000")
    [history] = AverageCost.objects.filter(variant=variant)
    assert history.average_cost == Decimal("2.5000")
    assert history.effective_at == movement.created_at
    assert history.on_hand_after == d(10)
    assert history.operation == movement.operation


def test_reception_weights_the_average_by_quantities(variant, warehouse):
    receive_at(at(0), variant, warehouse, 10, Decimal("2.00"))
    receive_at(at(1), variant, warehouse, 30, Decimal("4.00"))

    # (10 x 2 + 30 x 4) / 40
    assert average_of(variant) == Decimal("3.5000")


def test_average_counts_stock_in_every_warehouse(variant, warehouse, other_warehouse):
    receive_at(at(0), variant, warehouse, 30, Decimal("1.00"))
    receive_at(at(1), variant, other_warehouse, 10, Decimal("5.00"))

    # (30 x 1 + 10 x 5) / 40: the 30 units in the first warehouse weigh in.
    assert average_of(variant) == Decimal("2.0000")


def test_average_is_rounded_to_four_places_half_up(variant, warehouse):
    receive_at(at(0), variant, warehouse, 2, Decimal("1"))
    receive_at(at(1), variant, warehouse, 1, Decimal("2"))

    assert average_of(variant) == Decimal("1.3333")  # 4 / 3
    assert weighted_average(
        on_hand=Decimal(1), average=Decimal("0.0001"), quantity=Decimal(1), unit_cost=Decimal(0)
    ) == Decimal("0.0001")  # 0.00005 rounds up


def test_reception_without_cost_keeps_the_average_and_records_it(variant, warehouse):
    receive_at(at(0), variant, warehouse, 10, Decimal("3.00"))
    [movement] = receive_at(at(1), variant, warehouse, 90)

    assert average_of(variant) == Decimal("3.0000")
    movement.refresh_from_db()
    assert movement.unit_cost == Decimal("3.0000")
    assert AverageCost.objects.filter(variant=variant).count() == 1


def test_reception_without_cost_and_no_average_records_no_cost(variant, warehouse):
    [movement] = receive_at(at(0), variant, warehouse, 5)

    movement.refresh_from_db()
    assert movement.unit_cost is None
    assert average_of(variant) is None
    assert not AverageCost.objects.exists()


def test_goods_entered_without_cost_weigh_at_the_average_in_later_receptions(variant, warehouse):
    receive_at(at(0), variant, warehouse, 10, Decimal("2.00"))
    receive_at(at(1), variant, warehouse, 10)  # 20 units at 2.00
    receive_at(at(2), variant, warehouse, 20, Decimal("4.00"))

    assert average_of(variant) == Decimal("3.0000")  # (20 x 2 + 20 x 4) / 40


def test_after_a_stockout_the_new_cost_becomes_the_average(variant, warehouse):
    receive_at(at(0), variant, warehouse, 10, Decimal("2.00"))
    with simulated_time(at(1)):
        stock_adjust(variant=variant, warehouse=warehouse, quantity=-10, reason="loss")
    receive_at(at(2), variant, warehouse, 5, Decimal("7.00"))

    assert average_of(variant) == Decimal("7.0000")


def test_with_negative_stock_the_new_cost_becomes_the_average(variant):
    backorders = WarehouseFactory(allow_negative_stock=True)
    receive_at(at(0), variant, backorders, 2, Decimal("1.00"))
    with simulated_time(at(1)):
        stock_adjust(variant=variant, warehouse=backorders, quantity=-5, reason="manual")
    receive_at(at(2), variant, backorders, 10, Decimal("6.00"))

    assert average_of(variant) == Decimal("6.0000")


def test_same_variant_twice_in_one_reception_weighs_each_line_in_turn(variant, warehouse):
    with simulated_time(at(0)):
        movements = stock_receive(
            warehouse=warehouse,
            lines=[
                StockQuantity(variant, 10, Decimal("1.00")),
                StockQuantity(variant, 10, Decimal("3.00")),
            ],
        )

    assert average_of(variant) == Decimal("2.0000")
    assert [m.unit_cost for m in movements] == [Decimal("1.0000"), Decimal("3.0000")]
    [history] = AverageCost.objects.filter(variant=variant)
    assert history.on_hand_after == d(20)


def test_many_variants_in_one_reception_each_get_their_average(warehouse):
    variants = VariantFactory.create_batch(3)
    receive_at(
        at(0), variants[0], warehouse, 1, Decimal("9.00")
    )  # variant 0 already has an average
    with simulated_time(at(1)):
        stock_receive(
            warehouse=warehouse,
            lines=[StockQuantity(v, 1, Decimal(i + 1)) for i, v in enumerate(variants)],
        )

    assert [average_of(v) for v in variants] == [Decimal(5), Decimal(2), Decimal(3)]


def test_reception_updates_the_callers_variant_object(variant, warehouse):
    receive_at(at(0), variant, warehouse, 1, Decimal("4.20"))

    assert variant.average_cost == Decimal("4.2000")


def test_transfers_adjustments_and_returns_without_cost_leave_the_average(
    variant, warehouse, other_warehouse
):
    receive_at(at(0), variant, warehouse, 10, Decimal("2.00"))
    with simulated_time(at(1)):
        stock_transfer(
            source=warehouse, destination=other_warehouse, lines=[StockQuantity(variant, 4)]
        )
        stock_adjust(variant=variant, warehouse=warehouse, quantity=-1, reason="breakage")
        [returned] = stock_restock_return(
            warehouse=warehouse, lines=[StockQuantity(variant, 1)], reference="SO-1"
        )

    assert average_of(variant) == Decimal("2.0000")
    assert returned.unit_cost == Decimal("2.0000")
    assert AverageCost.objects.count() == 1


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        (Decimal("-1"), MSG_COST_NEGATIVE),
        (Decimal("1.23456"), MSG_COST_TOO_MANY_DECIMALS),
        ("0." + "1" * 200, MSG_COST_TOO_MANY_DECIMALS),
        (Decimal("10000000000"), MSG_COST_TOO_LARGE),
        ("abc", "Enter a number, such as 12 or 2.5."),
    ],
)
def test_invalid_unit_cost_is_refused_and_changes_nothing(variant, warehouse, cost, message):
    with pytest.raises(InvalidQuantity) as caught:
        stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 1, cost)])

    assert caught.value.code == "invalid_unit_cost"
    assert caught.value.message == message
    assert not Movement.objects.exists()
    assert not AverageCost.objects.exists()
    assert average_of(variant) is None


def test_trailing_zeros_beyond_four_places_are_accepted(variant, warehouse):
    [movement] = receive_at(at(0), variant, warehouse, 1, "2.500000000")

    assert movement.unit_cost == Decimal("2.5000")


def test_a_cost_of_zero_is_a_cost(variant, warehouse):
    receive_at(at(0), variant, warehouse, 10, Decimal("4.00"))
    receive_at(at(1), variant, warehouse, 10, Decimal("0"))

    assert average_of(variant) == Decimal("2.0000")


def test_average_cost_at_a_moment_is_the_one_before_it(variant, warehouse):
    first = receive_at(at(0), variant, warehouse, 10, Decimal("2.00"))[0]
    receive_at(at(2), variant, warehouse, 10, Decimal("4.00"))

    assert average_cost_at(variant, first.created_at) is None  # strictly before
    assert average_cost_at(variant, at(1)) == Decimal("2.0000")
    assert average_cost_at(variant, at(2)) == Decimal("2.0000")
    assert average_cost_at(variant, at(3)) == Decimal("3.0000")


def test_stock_value_is_rounded_to_the_cent_half_away_from_zero():
    assert stock_value(Decimal("3.000"), Decimal("0.1250")) == Decimal("0.38")
    assert stock_value(Decimal("-3.000"), Decimal("0.1250")) == Decimal("-0.38")
    assert stock_value(Decimal("3.000"), None) is None
    assert money(Decimal("0.005")) == Decimal("0.01")


def test_helpers_receive_still_works_without_cost(variant, warehouse):
    line = receive(variant, warehouse, 3)

    assert line.on_hand == d(3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_receptions_in_two_warehouses_lose_no_cost_update():
    """Two receptions of one variant at once, each in its own warehouse: the second waits on the
    variant's row lock and weighs the first one's quantity in, whichever runs first."""
    variant = VariantFactory()
    first, second = WarehouseFactory(), WarehouseFactory()
    receive_at(at(0), variant, first, 10, Decimal("1.00"))
    barrier = threading.Barrier(2)
    errors = []

    def work(warehouse, cost):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 10, cost)])
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(first, Decimal("4.00"))),
        threading.Thread(target=work, args=(second, Decimal("10.00"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors
    # Either order weighs all 30 units: (10 x 1 + 10 x 4 + 10 x 10) / 30 = 5; a lost update
    # would leave 2.5 or 5.5.
    assert average_of(variant) == Decimal("5.0000")
    assert AverageCost.objects.filter(variant=variant).count() == 3
