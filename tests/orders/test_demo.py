"""orders.demo: the demo shop's orders are real orders, moved through the pipeline, and every
reservation and sale in the demo's ledger belongs to one of them."""

from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Sum

from inventory.ledger import verify_ledger
from inventory.models import HoldChange, Movement, MovementReason, StockLine
from orders.demo import FIRST_NUMBER, LATE_ORDERS
from orders.models import Order, OrderLine, OrderStageChange, Stage, StockEffect

pytestmark = pytest.mark.django_db

SEED_ARGS = ["--variants", "40", "--movements", "800"]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", *SEED_ARGS, stdout=out)
    return out.getvalue()


def table_counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Order, OrderLine, OrderStageChange, StockEffect, Movement, HoldChange)
    }


@pytest.fixture
def demo() -> str:
    return seed()


def test_the_demo_has_orders_at_every_stage_a_shop_sees(demo):
    stages = Counter(Order.objects.values_list("stage", flat=True))

    assert stages[Stage.SHIPPED] > sum(stages.values()) / 2
    assert stages[Stage.CONFIRMED] >= LATE_ORDERS.count(False)
    assert stages[Stage.NEW] >= LATE_ORDERS.count(True)
    assert stages[Stage.CANCELLED] > 0
    assert stages[Stage.RETURN_RESTOCKED] > 0
    assert f"Orders: {sum(stages.values())} (" in demo
    assert Order.objects.order_by("created_at", "pk").first().reference == f"SO-{FIRST_NUMBER}"


def test_every_reservation_and_sale_in_the_demo_ledger_belongs_to_an_order(demo):
    order_operations = set(StockEffect.objects.values_list("operation", flat=True))
    sales = Movement.objects.filter(reason=MovementReason.SALE)
    reservations = HoldChange.objects.exclude(reserved_delta=0)

    assert sales.exists() and reservations.exists()
    assert not sales.exclude(operation__in=order_operations).exists()
    assert not reservations.exclude(operation__in=order_operations).exists()
    assert (
        not Movement.objects.filter(reason=MovementReason.RETURN_RESTOCKED)
        .exclude(operation__in=order_operations)
        .exists()
    )
    held = {
        (row["variant"], row["order__warehouse"]): row["total"]
        for row in OrderLine.objects.filter(reserved__gt=0)
        .values("variant", "order__warehouse")
        .annotate(total=Sum("reserved"))
    }
    reserved = {
        (line.variant_id, line.warehouse_id): line.reserved
        for line in StockLine.objects.filter(reserved__gt=0)
    }
    assert reserved == held
    assert held  # the open orders hold stock


def test_the_demo_ledger_verifies_with_its_orders(demo):
    result = verify_ledger()

    assert result.ok, result.problems
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert out.getvalue().startswith("ledger OK:")


def test_the_demo_history_is_written_in_time_order(demo):
    movements = list(Movement.objects.order_by("pk").values_list("stock_line", "created_at"))
    last_seen = {}
    for stock_line, created_at in movements:
        assert created_at >= last_seen.get(stock_line, created_at)
        last_seen[stock_line] = created_at
    changes = OrderStageChange.objects.order_by("pk").values_list("order", "created_at")
    last_seen = {}
    for order, created_at in changes:
        assert created_at >= last_seen.get(order, created_at)
        last_seen[order] = created_at


def test_a_returned_demo_order_is_shipped_then_restocked_in_full(demo):
    order = Order.objects.filter(stage=Stage.RETURN_RESTOCKED).first()

    assert list(order.stage_changes.values_list("from_stage", "to_stage")) == [
        ("", Stage.CONFIRMED),
        (Stage.CONFIRMED, Stage.SHIPPED),
        (Stage.SHIPPED, Stage.RETURNED),
        (Stage.RETURNED, Stage.RETURN_RESTOCKED),
    ]
    for line in order.lines.all():
        assert (line.reserved, line.shipped, line.restocked) == (0, line.quantity, line.quantity)


def test_a_second_run_of_the_demo_changes_nothing(demo):
    before = table_counts()
    stages = Counter(Order.objects.values_list("stage", flat=True))

    out = seed()

    assert "nothing to do" in out
    assert table_counts() == before
    assert Counter(Order.objects.values_list("stage", flat=True)) == stages


def test_the_merchant_sees_the_demo_orders(demo, client):
    client.force_login(User.objects.get(username="merchant"))
    order = Order.objects.filter(stage=Stage.SHIPPED).first()

    listing = client.get("/orders/")
    detail = client.get(order.get_absolute_url())

    assert listing.status_code == 200
    assert order.reference in listing.content.decode()
    assert detail.status_code == 200
    assert order.lines.first().variant.sku in detail.content.decode()
