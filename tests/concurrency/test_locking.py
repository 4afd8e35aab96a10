"""Row locks under real concurrency: threads, each with its own PostgreSQL connection.

The services lock the stock lines they touch with SELECT ... FOR UPDATE in primary-key order:
no lost update, no oversold line, no deadlock.
"""

import random
import time
from collections import Counter
from decimal import Decimal

import pytest

from inventory.ledger import verify_ledger
from inventory.models import HoldChange, Movement, StockLine
from inventory.services import (
    InsufficientStock,
    StockQuantity,
    stock_adjust,
    stock_reserve,
    stock_transfer,
)
from tests.concurrency.threads import run_together
from tests.factories import VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_50_threads_reserving_1_of_10_units_reserve_exactly_10():
    variant, warehouse = VariantFactory(), WarehouseFactory()
    receive(variant, warehouse, 10)

    outcomes = run_together(
        50,
        lambda i: stock_reserve(
            warehouse=warehouse, lines=[StockQuantity(variant, 1)], reference=f"SO-{i}"
        ),
    )

    succeeded = [result for status, result in outcomes if status == "ok"]
    refused = [error for status, error in outcomes if status == "error"]
    assert len(succeeded) == 10
    assert len(refused) == 40
    for error in refused:
        assert isinstance(error, InsufficientStock), repr(error)
        assert error.code == "insufficient_stock"
    line = line_of(variant, warehouse)
    assert (line.on_hand, line.reserved, line.available) == (d(10), d(10), 0)
    assert HoldChange.objects.count() == 10
    report = verify_ledger()
    assert report.ok, report.problems


def test_16_threads_of_random_transfers_never_deadlock_and_keep_totals():
    warehouses = [WarehouseFactory() for _ in range(3)]
    variants = [VariantFactory() for _ in range(4)] + [VariantFactory(by_weight=True)]
    for variant in variants:
        for warehouse in warehouses:
            receive(variant, warehouse, 30)
    totals = {variant.pk: d(90) for variant in variants}
    deadline = time.monotonic() + 4

    def transfer_until_deadline(index: int) -> Counter:
        rng = random.Random(index)
        done = Counter()
        while time.monotonic() < deadline:
            source, destination = rng.sample(warehouses, 2)
            chosen = rng.sample(variants, rng.randint(1, 3))  # several lines, random order
            lines = [StockQuantity(v, Decimal(rng.randint(1, 3))) for v in chosen]
            try:
                stock_transfer(source=source, destination=destination, lines=lines)
            except InsufficientStock:
                done["refused"] += 1
            else:
                done["transferred"] += 1
        return done

    outcomes = run_together(16, transfer_until_deadline)

    errors = [error for status, error in outcomes if status != "ok"]
    assert errors == [], f"{len(errors)} thread(s) failed, first: {errors[0]!r}"
    done = sum((result for _, result in outcomes), Counter())
    assert done["transferred"] >= 16
    for variant in variants:
        lines = StockLine.objects.filter(variant=variant)
        assert sum(line.on_hand for line in lines) == totals[variant.pk], variant.sku
        assert all(line.available >= 0 for line in lines), variant.sku
    opening = len(variants) * len(warehouses)
    assert (Movement.objects.count() - opening) % 2 == 0  # both legs of every transfer
    report = verify_ledger()
    assert report.ok, report.problems


def test_8_threads_adjusting_one_line_lose_no_update():
    variant, warehouse = VariantFactory(), WarehouseFactory()
    receive(variant, warehouse, 1000)
    rounds = 15

    def adjust_repeatedly(index: int) -> int:
        rng = random.Random(index)
        applied = 0
        for _ in range(rounds):
            delta = rng.choice([-3, -2, -1, 1, 2, 3, 4, 5])
            stock_adjust(variant=variant, warehouse=warehouse, quantity=delta, reason="manual")
            applied += delta
        return applied

    outcomes = run_together(8, adjust_repeatedly)

    errors = [error for status, error in outcomes if status != "ok"]
    assert errors == [], f"{len(errors)} thread(s) failed, first: {errors[0]!r}"
    applied = sum(result for _, result in outcomes)
    line = line_of(variant, warehouse)
    assert line.on_hand == d(1000 + applied)
    assert Movement.objects.filter(stock_line=line).count() == 1 + 8 * rounds
    report = verify_ledger()
    assert report.ok, report.problems
