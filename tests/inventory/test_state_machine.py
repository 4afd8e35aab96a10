"""Random sequences of stock operations never make the ledger lie.

A Hypothesis state machine applies the services at random on 3 variants (one sold by weight) in
3 warehouses (one allowing negative stock). It keeps its own model of every line's quantities,
predicts which operations must be refused, and after every step checks that each line's
quantities are what its ledger says and what the model expects, and that nothing forbidden
went below zero. Each example works on fresh variants and warehouses inside a savepoint that is
rolled back after it: the ledger cannot be emptied otherwise (its triggers refuse DELETE).
"""

from collections import defaultdict
from decimal import Decimal
from functools import partial

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from inventory.ledger import verify_ledger
from inventory.models import HoldChange, LockReason, Movement, MovementReason, StockLine
from inventory.services import (
    StockError,
    StockQuantity,
    stock_adjust,
    stock_lock,
    stock_receive,
    stock_release,
    stock_reserve,
    stock_restock_return,
    stock_set_counted,
    stock_ship,
    stock_transfer,
    stock_unlock,
)
from tests.factories import VariantFactory, WarehouseFactory

ZERO = Decimal("0.000")
VARIANTS = 3  # the last one is sold by weight
WAREHOUSES = 3  # the last one allows negative stock

variant_index = st.integers(0, VARIANTS - 1)
warehouse_index = st.integers(0, WAREHOUSES - 1)
amount = st.integers(1, 12)
#: Thousandths added to quantities of the variant sold by weight.
thousandths = st.sampled_from([0, 0, 1, 125, 250, 500, 999])


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint rolled back by teardown(): the next example (and the
        # shrinking of a failing one) starts from an empty ledger again.
        self.example = transaction.atomic()
        self.example.__enter__()
        self.variants = [VariantFactory() for _ in range(VARIANTS - 1)]
        self.variants.append(VariantFactory(by_weight=True))
        self.warehouses = [WarehouseFactory() for _ in range(WAREHOUSES - 1)]
        self.warehouses.append(WarehouseFactory(allow_negative_stock=True))
        #: What the machine expects: (variant index, warehouse index) -> quantities.
        self.model = defaultdict(lambda: {"on_hand": ZERO, "reserved": ZERO, "locked": ZERO})

    def teardown(self):
        transaction.set_rollback(True)
        self.example.__exit__(None, None, None)

    # --- helpers ------------------------------------------------------------------------------

    def quantity(self, v: int, units: int, extra: int) -> Decimal:
        if v == VARIANTS - 1:
            return Decimal(units) + Decimal(extra) / 1000
        return Decimal(units)

    def available(self, key) -> Decimal:
        line = self.model[key]
        return line["on_hand"] - line["reserved"] - line["locked"]

    def refused(self, key, change: Decimal) -> bool:
        """Would changing available by ``change`` break the negative-stock rule of the line?"""
        after = self.available(key) + change
        return not self.warehouses[key[1]].allow_negative_stock and after < 0 and change < 0

    def attempt(self, call, expected_code: str | None) -> bool:
        """Run ``call``; it must fail with ``expected_code``, or succeed when that is None."""
        try:
            call()
        except StockError as error:
            assert expected_code is not None, f"refused unexpectedly: {error.code} {error}"
            assert error.code == expected_code, f"{error.code} instead of {expected_code}"
            return False
        assert expected_code is None, f"should have been refused with {expected_code}"
        return True

    # --- rules --------------------------------------------------------------------------------

    @rule(v=variant_index, w=warehouse_index, units=amount, extra=thousandths)
    def receive(self, v, w, units, extra):
        quantity = self.quantity(v, units, extra)
        call = partial(
            stock_receive,
            warehouse=self.warehouses[w],
            lines=[StockQuantity(self.variants[v], quantity)],
        )
        if self.attempt(call, None):
            self.model[v, w]["on_hand"] += quantity

    @rule(
        v=variant_index,
        w=warehouse_index,
        units=st.integers(-12, 12).filter(bool),
        extra=thousandths,
        reason=st.sampled_from(["breakage", "loss", "found", "manual", "count_correction"]),
    )
    def adjust(self, v, w, units, extra, reason):
        quantity = self.quantity(v, units, extra if units > 0 else -extra)
        expected = "insufficient_stock" if self.refused((v, w), quantity) else None
        call = partial(
            stock_adjust,
            variant=self.variants[v],
            warehouse=self.warehouses[w],
            quantity=quantity,
            reason=reason,
        )
        if self.attempt(call, expected):
            self.model[v, w]["on_hand"] += quantity

    @rule(v=variant_index, w=warehouse_index, units=st.integers(0, 20), extra=thousandths)
    def set_counted(self, v, w, units, extra):
        counted = self.quantity(v, units, extra)
        gap = counted - self.model[v, w]["on_hand"]
        expected = "insufficient_stock" if self.refused((v, w), gap) else None
        call = partial(
            stock_set_counted,
            variant=self.variants[v],
            warehouse=self.warehouses[w],
            counted=counted,
        )
        if self.attempt(call, expected):
            self.model[v, w]["on_hand"] = counted

    @rule(
        variants=st.lists(variant_index, min_size=1, max_size=3, unique=True),
        source=warehouse_index,
        destination=warehouse_index,
        units=amount,
        extra=thousandths,
    )
    def transfer(self, variants, source, destination, units, extra):
        lines = {v: self.quantity(v, units, extra) for v in variants}
        if source == destination:
            expected = "same_warehouse"
        elif any(self.refused((v, source), -q) for v, q in lines.items()):
            expected = "insufficient_stock"
        else:
            expected = None
        call = partial(
            stock_transfer,
            source=self.warehouses[source],
            destination=self.warehouses[destination],
            lines=[StockQuantity(self.variants[v], q) for v, q in lines.items()],
        )
        if self.attempt(call, expected):
            for v, quantity in lines.items():
                self.model[v, source]["on_hand"] -= quantity
                self.model[v, destination]["on_hand"] += quantity

    @rule(v=variant_index, w=warehouse_index, units=amount, extra=thousandths)
    def lock(self, v, w, units, extra):
        quantity = self.quantity(v, units, extra)
        expected = "insufficient_stock" if self.refused((v, w), -quantity) else None
        call = partial(
            stock_lock,
            variant=self.variants[v],
            warehouse=self.warehouses[w],
            quantity=quantity,
            reason=LockReason.DAMAGED,
        )
        if self.attempt(call, expected):
            self.model[v, w]["locked"] += quantity

    @rule(v=variant_index, w=warehouse_index, units=st.integers(1, 6), extra=thousandths)
    def unlock(self, v, w, units, extra):
        quantity = self.quantity(v, units, extra)
        expected = "exceeds_locked" if quantity > self.model[v, w]["locked"] else None
        call = partial(
            stock_unlock,
            variant=self.variants[v],
            warehouse=self.warehouses[w],
            quantity=quantity,
            reason=LockReason.DAMAGED,
        )
        if self.attempt(call, expected):
            self.model[v, w]["locked"] -= quantity

    @rule(
        w=warehouse_index,
        lines=st.lists(st.tuples(variant_index, amount, thousandths), min_size=1, max_size=4),
    )
    def reserve(self, w, lines):
        order = [(v, self.quantity(v, units, extra)) for v, units, extra in lines]
        per_variant = defaultdict(Decimal)
        for v, quantity in order:
            per_variant[v] += quantity
        short = any(self.refused((v, w), -q) for v, q in per_variant.items())
        call = partial(
            stock_reserve,
            warehouse=self.warehouses[w],
            lines=[StockQuantity(self.variants[v], q) for v, q in order],
            reference="SO-random",
        )
        if self.attempt(call, "insufficient_stock" if short else None):
            for v, quantity in per_variant.items():
                self.model[v, w]["reserved"] += quantity

    @rule(v=variant_index, w=warehouse_index, units=st.integers(1, 6), extra=thousandths)
    def release(self, v, w, units, extra):
        quantity = self.quantity(v, units, extra)
        expected = "exceeds_reserved" if quantity > self.model[v, w]["reserved"] else None
        call = partial(
            stock_release,
            warehouse=self.warehouses[w],
            lines=[StockQuantity(self.variants[v], quantity)],
            reference="SO-random",
        )
        if self.attempt(call, expected):
            self.model[v, w]["reserved"] -= quantity

    @rule(v=variant_index, w=warehouse_index, units=st.integers(1, 6), extra=thousandths)
    def ship(self, v, w, units, extra):
        quantity = self.quantity(v, units, extra)
        expected = "exceeds_reserved" if quantity > self.model[v, w]["reserved"] else None
        call = partial(
            stock_ship,
            warehouse=self.warehouses[w],
            lines=[StockQuantity(self.variants[v], quantity)],
            reference="SO-random",
        )
        if self.attempt(call, expected):
            self.model[v, w]["reserved"] -= quantity
            self.model[v, w]["on_hand"] -= quantity

    @rule(v=variant_index, w=warehouse_index, units=st.integers(1, 4))
    def restock_return(self, v, w, units):
        quantity = Decimal(units)
        call = partial(
            stock_restock_return,
            warehouse=self.warehouses[w],
            lines=[StockQuantity(self.variants[v], quantity)],
            reference="RMA-random",
        )
        if self.attempt(call, None):
            self.model[v, w]["on_hand"] += quantity

    @rule(
        v=st.integers(0, VARIANTS - 2),
        w=warehouse_index,
        quantity=st.sampled_from(["1.5", "0.0001", "abc", "NaN", "1e20"]),
    )
    def invalid_quantity_changes_nothing(self, v, w, quantity):
        expected = {
            "1.5": "fraction_not_allowed",
            "0.0001": "too_many_decimals",
            "abc": "not_a_number",
            "NaN": "not_a_number",
            "1e20": "quantity_too_large",
        }[quantity]
        call = partial(
            stock_adjust,
            variant=self.variants[v],
            warehouse=self.warehouses[w],
            quantity=quantity,
            reason=MovementReason.MANUAL,
        )
        self.attempt(call, expected)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def every_line_is_explained_by_its_ledger(self):
        lines = {
            (line.variant_id, line.warehouse_id): line
            for line in StockLine.objects.filter(
                variant__in=self.variants, warehouse__in=self.warehouses
            )
        }
        line_ids = [line.pk for line in lines.values()]
        # Summed in Python: SQLite sums decimals as floats.
        moved, last_balance = defaultdict(Decimal), {}
        for line_id, quantity, balance_after in (
            Movement.objects.filter(stock_line__in=line_ids)
            .order_by("pk")
            .values_list("stock_line", "quantity", "balance_after")
        ):
            moved[line_id] += quantity
            last_balance[line_id] = balance_after
        held_reserved, held_locked = defaultdict(Decimal), defaultdict(Decimal)
        for line_id, reserved_delta, locked_delta in HoldChange.objects.filter(
            stock_line__in=line_ids
        ).values_list("stock_line", "reserved_delta", "locked_delta"):
            held_reserved[line_id] += reserved_delta
            held_locked[line_id] += locked_delta
        for v, variant in enumerate(self.variants):
            for w, warehouse in enumerate(self.warehouses):
                expected = self.model[v, w]
                line = lines.get((variant.pk, warehouse.pk))
                if line is None:
                    assert expected == {"on_hand": 0, "reserved": 0, "locked": 0}
                    continue
                label = f"{variant.sku} @ {warehouse.code}"
                assert line.on_hand == expected["on_hand"], label
                assert line.reserved == expected["reserved"], label
                assert line.locked == expected["locked"], label
                assert line.on_hand == moved[line.pk], label
                assert line.on_hand == last_balance.get(line.pk, ZERO), label
                assert line.reserved == held_reserved[line.pk], label
                assert line.locked == held_locked[line.pk], label
                assert line.reserved >= 0 and line.locked >= 0, label
                assert line.available == line.on_hand - line.reserved - line.locked, label
                if not warehouse.allow_negative_stock:
                    assert line.available >= 0, label

    @invariant()
    def the_ledger_verifies(self):
        report = verify_ledger()
        assert report.ok, report.problems


@pytest.mark.django_db
def test_random_operations_keep_every_line_equal_to_its_ledger():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
