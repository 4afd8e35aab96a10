"""Stock lines created under real concurrency: operations that need the same missing lines,
each in its own thread and PostgreSQL connection.

The writer locks first; when lines are missing it gives its locks back (a savepoint rolled
back: PostgreSQL releases the row locks taken since) before creating them, then locks every
line again in primary-key order. Whatever the order and overlap of the operations: each line
is created once, every operation succeeds, nothing is lost.
"""

import random

import pytest

from inventory.ledger import verify_ledger
from inventory.models import Movement, StockLine
from inventory.services import StockQuantity, stock_adjust, stock_receive
from tests.concurrency.threads import run_together
from tests.factories import VariantFactory, WarehouseFactory
from tests.helpers import d, receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12


def test_operations_creating_the_same_lines_in_any_order_never_deadlock_nor_lose_stock():
    warehouse = WarehouseFactory()
    stocked = VariantFactory()
    receive(stocked, warehouse, 1)
    new = VariantFactory.create_batch(4)
    everything = [stocked, *new]

    def work(index: int):
        rng = random.Random(index)
        if index % 3 == 0:
            # One line: locked straight away, created when missing.
            return stock_adjust(
                variant=new[index % len(new)],
                warehouse=warehouse,
                quantity=1,
                reason="found",
                note="Found on the floor",
            )
        return stock_receive(
            warehouse=warehouse,
            lines=[StockQuantity(v, 2) for v in rng.sample(everything, k=len(everything))],
        )

    outcomes = run_together(THREADS, work)

    assert [status for status, _ in outcomes] == ["ok"] * THREADS, outcomes
    receptions = sum(1 for index in range(THREADS) if index % 3)
    found = {v.pk: 0 for v in new}
    for index in range(0, THREADS, 3):
        found[new[index % len(new)].pk] += 1
    assert StockLine.objects.filter(warehouse=warehouse).count() == len(everything)
    for variant in everything:
        line = StockLine.objects.get(variant=variant, warehouse=warehouse)
        initial = 1 if variant == stocked else 0
        assert line.on_hand == d(initial + 2 * receptions + found.get(variant.pk, 0))
    assert Movement.objects.filter(stock_line__warehouse=warehouse).count() == (
        1 + receptions * len(everything) + THREADS // 3
    )
    report = verify_ledger()
    assert report.ok, report.problems
