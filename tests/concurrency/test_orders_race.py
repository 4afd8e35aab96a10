"""The order services under real concurrency: threads, each with its own PostgreSQL connection.

A stage change locks the order's row, then its stock lines in primary-key order: no unit is
promised twice, the same order posted at once by several clients is stored and reserved once,
and orders touching the same SKUs in different orders never deadlock.
"""

import random
from collections import Counter
from decimal import Decimal

import pytest

from inventory.ledger import verify_ledger
from inventory.models import HoldChange
from inventory.services import InsufficientStock
from orders.errors import ReferenceConflict
from orders.models import Order, OrderLine, PipelineSettings, Stage
from orders.services import OrderLineInput, order_create, order_set_stage
from tests.concurrency.threads import run_together
from tests.factories import VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def outcome_kinds(outcomes) -> Counter:
    return Counter("ok" if status == "ok" else type(result).__name__ for status, result in outcomes)


def test_50_concurrent_orders_of_1_unit_against_10_reserve_exactly_10_and_refuse_40():
    PipelineSettings.load()
    variant, warehouse = VariantFactory(), WarehouseFactory()
    receive(variant, warehouse, 10)

    outcomes = run_together(
        50,
        lambda i: order_create(
            reference=f"SO-{i}",
            warehouse=warehouse,
            lines=[OrderLineInput(variant, 1)],
            stage=Stage.CONFIRMED,
        ),
    )

    assert outcome_kinds(outcomes) == {"ok": 10, "InsufficientStock": 40}
    for status, error in outcomes:
        if status == "error":
            assert error.code == "insufficient_stock"
    line = line_of(variant, warehouse)
    assert (line.on_hand, line.reserved, line.available) == (d(10), d(10), d(0))
    assert Order.objects.count() == 10
    assert OrderLine.objects.filter(reserved=1).count() == 10
    report = verify_ledger()
    assert report.ok, report.problems


def test_50_concurrent_confirmations_of_stored_orders_reserve_exactly_10():
    PipelineSettings.load()
    variant, warehouse = VariantFactory(), WarehouseFactory()
    receive(variant, warehouse, 10)
    orders = [
        order_create(reference=f"SO-{i}", warehouse=warehouse, lines=[OrderLineInput(variant, 1)])[
            0
        ]
        for i in range(50)
    ]

    outcomes = run_together(50, lambda i: order_set_stage(order=orders[i], stage=Stage.CONFIRMED))

    assert outcome_kinds(outcomes) == {"ok": 10, "InsufficientStock": 40}
    assert Order.objects.filter(stage=Stage.CONFIRMED).count() == 10
    assert Order.objects.filter(stage=Stage.NEW).count() == 40
    assert line_of(variant, warehouse).reserved == d(10)
    assert verify_ledger().ok


def test_20_concurrent_orders_for_several_skus_in_different_orders_never_deadlock():
    PipelineSettings.load()
    warehouse = WarehouseFactory()
    variants = [VariantFactory() for _ in range(6)]
    for variant in variants:
        receive(variant, warehouse, 1000)
    shuffled = []
    for i in range(20):
        picked = random.Random(i).sample(variants, 4)  # each thread its own line order
        shuffled.append(picked)

    def place_and_ship(i):
        order, _ = order_create(
            reference=f"SO-{i}",
            warehouse=warehouse,
            lines=[OrderLineInput(v, 1 + n) for n, v in enumerate(shuffled[i])],
            stage=Stage.CONFIRMED,
        )
        order_set_stage(order=order, stage=Stage.SHIPPED if i % 2 else Stage.CANCELLED)
        return order

    outcomes = run_together(20, place_and_ship)

    assert outcome_kinds(outcomes) == {"ok": 20}, [r for s, r in outcomes if s == "error"]
    shipped = Counter()
    for i in range(1, 20, 2):
        for n, variant in enumerate(shuffled[i]):
            shipped[variant.pk] += 1 + n
    for variant in variants:
        line = line_of(variant, warehouse)
        assert line.reserved == d(0)
        assert line.on_hand == Decimal(1000) - shipped[variant.pk]
    report = verify_ledger()
    assert report.ok, report.problems


def test_20_concurrent_stage_changes_of_orders_sharing_skus_never_deadlock():
    PipelineSettings.load()
    warehouse = WarehouseFactory()
    variants = [VariantFactory() for _ in range(5)]
    for variant in variants:
        receive(variant, warehouse, 500)
    orders = []
    for i in range(20):
        picked = random.Random(100 + i).sample(variants, 3)
        orders.append(
            order_create(
                reference=f"SO-{i}",
                warehouse=warehouse,
                lines=[OrderLineInput(v, 2) for v in picked],
                stage=Stage.CONFIRMED,
            )[0]
        )
    targets = [Stage.SHIPPED, Stage.CANCELLED, Stage.DELIVERED, Stage.CONFIRMED]

    outcomes = run_together(20, lambda i: order_set_stage(order=orders[i], stage=targets[i % 4]))

    assert outcome_kinds(outcomes) == {"ok": 20}
    open_holds = OrderLine.objects.filter(order__stage=Stage.CONFIRMED).count() * 2
    assert sum(line_of(v, warehouse).reserved for v in variants) == open_holds
    assert verify_ledger().ok


def test_the_same_order_posted_by_10_clients_at_once_is_stored_and_reserved_once():
    PipelineSettings.load()
    variant, warehouse = VariantFactory(), WarehouseFactory()
    receive(variant, warehouse, 10)

    outcomes = run_together(
        10,
        lambda i: order_create(
            reference="SO-1",
            warehouse=warehouse,
            lines=[OrderLineInput(variant, 3)],
            stage=Stage.CONFIRMED,
        ),
    )

    assert outcome_kinds(outcomes) == {"ok": 10}
    created = [result[1] for _, result in outcomes]
    assert created.count(True) == 1
    assert Order.objects.count() == 1
    assert line_of(variant, warehouse).reserved == d(3)
    assert HoldChange.objects.count() == 1
    assert verify_ledger().ok


def test_the_same_reference_posted_at_once_with_two_contents_stores_one_and_refuses_the_other():
    PipelineSettings.load()
    variant, warehouse = VariantFactory(), WarehouseFactory()
    receive(variant, warehouse, 10)

    outcomes = run_together(
        2,
        lambda i: order_create(
            reference="SO-1",
            warehouse=warehouse,
            lines=[OrderLineInput(variant, 1 + i)],
            stage=Stage.CONFIRMED,
        ),
    )

    kinds = outcome_kinds(outcomes)
    assert kinds == {"ok": 1, "ReferenceConflict": 1}
    stored = Order.objects.get().lines.get().quantity
    assert line_of(variant, warehouse).reserved == stored
    assert all(isinstance(result, ReferenceConflict | tuple) for _, result in outcomes)
    assert not any(isinstance(result, InsufficientStock) for _, result in outcomes)
