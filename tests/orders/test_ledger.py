"""orders.ledger: verify_ledger proves that reserved is what open orders hold."""

import pytest
from django.db.models import F

from inventory.ledger import verify_ledger
from inventory.services import StockQuantity, stock_release
from orders.models import Order, OrderLine, Stage
from tests.factories import VariantFactory
from tests.helpers import d, line_of, receive
from tests.orders.helpers import held_by_orders, move, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(warehouse):
    """Two variants with 10 and 5 in stock."""
    shirt, mug = VariantFactory(), VariantFactory()
    receive(shirt, warehouse, 10)
    receive(mug, warehouse, 5)
    return shirt, mug


def test_reserved_equals_what_open_orders_hold(warehouse, stocked, pipeline):
    shirt, mug = stocked
    place("SO-1", warehouse, {shirt: 2}, stage=Stage.CONFIRMED)
    place("SO-2", warehouse, {shirt: 3, mug: 1}, stage=Stage.CONFIRMED)
    move(place("SO-3", warehouse, {shirt: 1}, stage=Stage.CONFIRMED), Stage.CANCELLED)
    move(place("SO-4", warehouse, {mug: 2}, stage=Stage.CONFIRMED), Stage.SHIPPED)

    assert line_of(shirt, warehouse).reserved == held_by_orders(shirt, warehouse) == d(5)
    assert line_of(mug, warehouse).reserved == held_by_orders(mug, warehouse) == d(1)
    assert verify_ledger().ok


def test_verify_ledger_reports_an_order_line_changed_behind_its_back(warehouse, stocked, pipeline):
    shirt, _ = stocked
    place("SO-1", warehouse, {shirt: 3}, stage=Stage.CONFIRMED)
    OrderLine.objects.update(reserved=F("reserved") - 1)

    report = verify_ledger()

    assert report.problems == [
        f"order SO-1 / {shirt.sku}: the order holds 2.000 reserved but its reservations in "
        "the ledger sum to 3.000"
    ]


def test_verify_ledger_reports_a_cancelled_order_still_holding_stock(warehouse, stocked, pipeline):
    shirt, _ = stocked
    place("SO-1", warehouse, {shirt: 3}, stage=Stage.CONFIRMED)
    Order.objects.update(stage=Stage.CANCELLED)

    report = verify_ledger()

    assert report.problems == [
        f"order SO-1 / {shirt.sku}: cancelled but still holds 3.000 reserved"
    ]


def test_verify_ledger_reports_a_reservation_released_outside_the_pipeline(
    warehouse, stocked, pipeline
):
    shirt, _ = stocked
    place("SO-1", warehouse, {shirt: 3}, stage=Stage.CONFIRMED)
    stock_release(warehouse=warehouse, lines=[StockQuantity(shirt, 2)], reference="SO-1")

    report = verify_ledger()

    assert report.problems == [
        f"{shirt.sku} @ {warehouse.code}: reserved 1.000 but open orders hold 3.000"
    ]


def test_verify_ledger_reports_shipped_quantities_that_the_ledger_does_not_show(
    warehouse, stocked, pipeline
):
    shirt, _ = stocked
    order = place("SO-1", warehouse, {shirt: 3}, stage=Stage.SHIPPED)
    OrderLine.objects.filter(order=order).update(shipped=2)

    report = verify_ledger()

    assert report.problems == [
        f"order SO-1 / {shirt.sku}: the order shipped 2.000 but its Sale movements sum to 3.000"
    ]
