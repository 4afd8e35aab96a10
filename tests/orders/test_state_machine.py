"""Random order lifecycles mixed with manual stock changes never make reserved or on hand lie.

A Hypothesis state machine draws pipeline settings, then creates orders (at any creation
stage), moves them to random stages (cancels and returns more often than chance would), and
receives, adjusts, locks and unlocks stock by hand, on 3 variants in 2 warehouses (the second
allows negative stock). It keeps its own model of the rules (written from the contract, not
from orders.pipeline) and of every quantity, predicts which calls must be refused and with
which code, and after every step checks that each line's reserved equals what its open orders
hold, that on hand equals its ledger, and that verify_ledger (with the pipeline's own check) is
clean. Each example runs in a savepoint rolled back afterwards.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inventory.ledger import verify_ledger
from inventory.models import Movement, StockLine
from inventory.services import (
    StockError,
    StockQuantity,
    stock_adjust,
    stock_lock,
    stock_receive,
    stock_unlock,
)
from orders.errors import OrderError
from orders.models import Order, OrderLine, PipelineSettings, Stage
from orders.services import OrderLineInput, order_create, order_set_stage
from tests.factories import VariantFactory, WarehouseFactory

ZERO = Decimal("0.000")
FLOW = ["new", "confirmed", "shipped", "delivered"]
VARIANTS = 3
WAREHOUSES = 2  # the second allows negative stock
OPENING_STOCK = 12

variant_index = st.integers(0, VARIANTS - 1)
warehouse_index = st.integers(0, WAREHOUSES - 1)


@dataclass
class ModelOrder:
    reference: str
    warehouse: int
    lines: dict[int, Decimal]
    stage: str = "new"
    reserved: bool = False
    deducted: bool = False
    restocked: bool = False


@dataclass
class Rules:
    """The pipeline as the contract describes it."""

    reserve: str
    deduct: str
    returned_releases: bool

    def effects(self, order: ModelOrder, target: str, creating=False) -> list[str] | None:
        """The stock effects of moving ``order`` to ``target``, or None when it is illegal."""
        current = order.stage
        if order.stage in ("cancelled", "return_restocked"):
            return None
        if current == "returned":
            return ["restock"] if target == "return_restocked" and order.deducted else None
        if target in FLOW:
            position = -1 if creating else FLOW.index(current)
            if FLOW.index(target) <= position:
                return None
            deduct = FLOW.index(target) >= FLOW.index(self.deduct) and not order.deducted
            reserve = (FLOW.index(target) >= FLOW.index(self.reserve) or deduct) and not (
                order.reserved or order.deducted
            )
            return ["reserve"] * reserve + ["deduct"] * deduct
        if target == "cancelled" or (target == "returned" and not order.deducted):
            if order.deducted or (target == "returned" and not self.returned_releases):
                return None
            return ["release"] * order.reserved
        if target == "returned":
            return []
        return ["restock"] if order.deducted else None


@dataclass
class StockModel:
    lines: dict = field(
        default_factory=lambda: defaultdict(
            lambda: {"on_hand": ZERO, "reserved": ZERO, "locked": ZERO}
        )
    )

    def available(self, key) -> Decimal:
        line = self.lines[key]
        return line["on_hand"] - line["reserved"] - line["locked"]


class PipelineMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.example = transaction.atomic()
        self.example.__enter__()
        self.variants = [VariantFactory() for _ in range(VARIANTS)]
        self.warehouses = [WarehouseFactory(), WarehouseFactory(allow_negative_stock=True)]
        self.stock = StockModel()
        self.orders: list[ModelOrder] = []
        self.rules = Rules("confirmed", "shipped", False)
        # Opening stock, so that most orders fit and lifecycles get far.
        for w, warehouse in enumerate(self.warehouses):
            stock_receive(
                warehouse=warehouse,
                lines=[StockQuantity(variant, OPENING_STOCK) for variant in self.variants],
            )
            for v in range(VARIANTS):
                self.stock.lines[v, w]["on_hand"] = Decimal(OPENING_STOCK)

    def teardown(self):
        transaction.set_rollback(True)
        self.example.__exit__(None, None, None)

    # --- helpers ------------------------------------------------------------------------------

    def short(self, w: int, lines: dict[int, Decimal]) -> bool:
        """Would reserving ``lines`` in warehouse ``w`` be refused?"""
        if self.warehouses[w].allow_negative_stock:
            return False
        return any(self.stock.available((v, w)) < quantity for v, quantity in lines.items())

    def attempt(self, call, expected_code: str | None) -> bool:
        try:
            call()
        except (StockError, OrderError) as error:
            assert expected_code is not None, f"refused unexpectedly: {error.code} {error}"
            assert error.code == expected_code, f"{error.code} instead of {expected_code}: {error}"
            return False
        assert expected_code is None, f"should have been refused with {expected_code}"
        return True

    def apply(self, order: ModelOrder, effects: list[str]) -> None:
        for effect in effects:
            for v, quantity in order.lines.items():
                line = self.stock.lines[v, order.warehouse]
                if effect == "reserve":
                    line["reserved"] += quantity
                elif effect == "deduct":
                    line["reserved"] -= quantity
                    line["on_hand"] -= quantity
                elif effect == "release":
                    line["reserved"] -= quantity
                else:
                    line["on_hand"] += quantity
            order.reserved = (order.reserved or effect == "reserve") and effect not in (
                "deduct",
                "release",
            )
            order.deducted = order.deducted or effect == "deduct"
            order.restocked = order.restocked or effect == "restock"

    # --- rules --------------------------------------------------------------------------------

    @initialize(reserve=st.integers(0, 3), later=st.integers(0, 3), returned_releases=st.booleans())
    def configure(self, reserve, later, returned_releases):
        deduct = min(reserve + later, 3)
        self.rules = Rules(FLOW[reserve], FLOW[deduct], returned_releases)
        pipeline = PipelineSettings.load()
        pipeline.reserve_stage = FLOW[reserve]
        pipeline.deduct_stage = FLOW[deduct]
        pipeline.release_stages = ["cancelled", "returned"] if returned_releases else ["cancelled"]
        pipeline.full_clean()
        pipeline.save()

    @rule(v=variant_index, w=warehouse_index, units=st.integers(1, 8))
    def receive(self, v, w, units):
        call = partial(
            stock_receive,
            warehouse=self.warehouses[w],
            lines=[StockQuantity(self.variants[v], units)],
        )
        if self.attempt(call, None):
            self.stock.lines[v, w]["on_hand"] += units

    @rule(v=variant_index, w=warehouse_index, units=st.integers(-6, 6).filter(bool))
    def adjust_by_hand(self, v, w, units):
        refused = (
            units < 0
            and not self.warehouses[w].allow_negative_stock
            and self.stock.available((v, w)) + units < 0
        )
        call = partial(
            stock_adjust,
            variant=self.variants[v],
            warehouse=self.warehouses[w],
            quantity=units,
            reason="breakage" if units < 0 else "found",
        )
        if self.attempt(call, "insufficient_stock" if refused else None):
            self.stock.lines[v, w]["on_hand"] += units

    @rule(v=variant_index, w=warehouse_index, units=st.integers(1, 4), unlock=st.booleans())
    def lock_or_unlock_by_hand(self, v, w, units, unlock):
        line = self.stock.lines[v, w]
        if unlock:
            expected = "exceeds_locked" if units > line["locked"] else None
            service = stock_unlock
        else:
            short = (
                not self.warehouses[w].allow_negative_stock and self.stock.available((v, w)) < units
            )
            expected = "insufficient_stock" if short else None
            service = stock_lock
        call = partial(
            service,
            variant=self.variants[v],
            warehouse=self.warehouses[w],
            quantity=units,
            reason="damaged",
        )
        if self.attempt(call, expected):
            line["locked"] += -units if unlock else units

    @rule(
        w=warehouse_index,
        lines=st.dictionaries(variant_index, st.integers(1, 5), min_size=1, max_size=VARIANTS),
        stage=st.sampled_from(FLOW),
    )
    def create_order(self, w, lines, stage):
        order = ModelOrder(
            f"SO-{len(self.orders) + 1}", w, {v: Decimal(q) for v, q in lines.items()}
        )
        effects = self.rules.effects(order, stage, creating=True)
        expected = (
            "insufficient_stock" if "reserve" in effects and self.short(w, order.lines) else None
        )
        call = partial(
            order_create,
            reference=order.reference,
            warehouse=self.warehouses[w],
            lines=[OrderLineInput(self.variants[v], q) for v, q in order.lines.items()],
            stage=stage,
        )
        if self.attempt(call, expected):
            order.stage = stage
            self.apply(order, effects)
            self.orders.append(order)
        else:
            assert not Order.objects.filter(reference=order.reference).exists()

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), stage=st.sampled_from(Stage.values))
    def move_order(self, data, stage, prefer=None):
        target = stage
        preferred = [order for order in self.orders if prefer and prefer(order)]
        order = data.draw(st.sampled_from(preferred or self.orders))
        effects = [] if target == order.stage else self.rules.effects(order, target)
        if effects is None:
            expected = "illegal_stage_change"
        elif "reserve" in effects and self.short(order.warehouse, order.lines):
            expected = "insufficient_stock"
        else:
            expected = None
        stored = Order.objects.get(reference=order.reference)
        call = partial(order_set_stage, order=stored, stage=target)
        if self.attempt(call, expected):
            order.stage = target
            self.apply(order, effects)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel_order(self, data):
        self.move_order(data, Stage.CANCELLED, prefer=lambda order: order.reserved)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), restock=st.booleans())
    def return_order(self, data, restock):
        target = Stage.RETURN_RESTOCKED if restock else Stage.RETURNED
        self.move_order(data, target, prefer=lambda order: order.deducted)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def post_the_same_order_again(self, data):
        order = data.draw(st.sampled_from(self.orders))
        before = Order.objects.get(reference=order.reference)
        created_at_stage = before.stage_changes.order_by("pk").first().to_stage
        again, created = order_create(
            reference=order.reference,
            warehouse=self.warehouses[order.warehouse],
            lines=[OrderLineInput(self.variants[v], q) for v, q in order.lines.items()],
            stage=created_at_stage,
        )
        assert (again.pk, created, again.stage) == (before.pk, False, order.stage)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def reserved_is_what_open_orders_hold_and_on_hand_is_the_ledger(self):
        held = defaultdict(lambda: ZERO)
        for row in (
            OrderLine.objects.filter(order__warehouse__in=self.warehouses)
            .values("variant_id", "order__warehouse_id")
            .annotate(total=Sum("reserved"))
        ):
            held[row["variant_id"], row["order__warehouse_id"]] = row["total"]
        lines = StockLine.objects.filter(
            variant__in=self.variants, warehouse__in=self.warehouses
        ).annotate(moved=Sum("movements__quantity"))
        found = {(line.variant_id, line.warehouse_id): line for line in lines}
        for v, variant in enumerate(self.variants):
            for w, warehouse in enumerate(self.warehouses):
                expected = self.stock.lines[v, w]
                line = found.get((variant.pk, warehouse.pk))
                label = f"{variant.sku} @ {warehouse.code}"
                if line is None:
                    assert expected == {"on_hand": 0, "reserved": 0, "locked": 0}, label
                    continue
                assert line.reserved == held[variant.pk, warehouse.pk], label
                assert line.on_hand == (line.moved or ZERO), label
                assert (line.on_hand, line.reserved, line.locked) == (
                    expected["on_hand"],
                    expected["reserved"],
                    expected["locked"],
                ), label
                if not warehouse.allow_negative_stock:
                    assert line.available >= 0, label

    @invariant()
    def every_order_is_where_the_model_says(self):
        stages = dict(
            Order.objects.filter(reference__in=[o.reference for o in self.orders]).values_list(
                "reference", "stage"
            )
        )
        assert stages == {order.reference: order.stage for order in self.orders}

    @invariant()
    def the_ledger_verifies(self):
        report = verify_ledger()
        assert report.ok, report.problems
        assert Movement.objects.filter(quantity=0).count() == 0


@pytest.mark.django_db
def test_order_lifecycles_mixed_with_manual_changes_keep_reserved_and_on_hand_true():
    run_state_machine_as_test(
        PipelineMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
