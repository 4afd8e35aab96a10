"""Unit tests of the stock services: every rule and every error code."""

from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.utils import timezone

from inventory.ledger import HASHED_FIELDS, movement_hash, verify_ledger
from inventory.models import (
    HoldChange,
    HoldKind,
    LockReason,
    Movement,
    MovementReason,
    MovementType,
    StockLine,
)
from inventory.services import (
    InsufficientStock,
    InvalidOperation,
    InvalidQuantity,
    ReasonRequired,
    StockError,
    StockQuantity,
    errors,
    stock_adjust,
    stock_apply_counts,
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
from inventory.services.clock import simulated_time
from tests.factories import VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = pytest.mark.django_db


def movements_of(variant, warehouse):
    return list(
        Movement.objects.filter(
            stock_line__variant=variant, stock_line__warehouse=warehouse
        ).order_by("pk")
    )


def holds_of(variant, warehouse):
    return list(
        HoldChange.objects.filter(
            stock_line__variant=variant, stock_line__warehouse=warehouse
        ).order_by("pk")
    )


def reserve(variant, warehouse, qty, reference="SO-1"):
    return stock_reserve(
        warehouse=warehouse, lines=[StockQuantity(variant, qty)], reference=reference
    )


# --- receive ----------------------------------------------------------------------------------


def test_receive_adds_to_on_hand_with_one_entry_per_line(warehouse, user):
    shirt, mug = VariantFactory(), VariantFactory()

    movements = stock_receive(
        warehouse=warehouse,
        lines=[StockQuantity(shirt, 10, unit_cost=Decimal("4.50")), StockQuantity(mug, "3")],
        user=user,
        reference="DN-0001",
        note="Opening stock",
    )

    assert [m.quantity for m in movements] == [d(10), d(3)]
    assert line_of(shirt, warehouse).on_hand == d(10)
    assert line_of(mug, warehouse).on_hand == d(3)
    stored = Movement.objects.order_by("pk")
    assert [(m.type, m.reason, m.balance_after) for m in stored] == [
        (MovementType.ENTRY, MovementReason.SUPPLIER_RECEPTION, d(10)),
        (MovementType.ENTRY, MovementReason.SUPPLIER_RECEPTION, d(3)),
    ]
    assert {m.reference for m in stored} == {"DN-0001"}
    assert {m.note for m in stored} == {"Opening stock"}
    assert {m.created_by_id for m in stored} == {user.pk}
    assert len({m.operation for m in stored}) == 1
    assert stored[0].unit_cost == Decimal("4.5000")


def test_receive_creates_the_missing_stock_line(variant, warehouse):
    assert not StockLine.objects.exists()

    receive(variant, warehouse, 4)

    line = line_of(variant, warehouse)
    assert (line.on_hand, line.reserved, line.locked, line.available) == (d(4), 0, 0, d(4))
    assert line.last_movement_at is not None


def test_receive_adds_to_an_existing_line(variant, warehouse):
    receive(variant, warehouse, 4)
    line = receive(variant, warehouse, 6)

    assert line.on_hand == d(10)
    assert [m.balance_after for m in movements_of(variant, warehouse)] == [d(4), d(10)]


def test_receive_without_lines_is_refused(warehouse):
    with pytest.raises(InvalidOperation) as caught:
        stock_receive(warehouse=warehouse, lines=[])

    assert caught.value.code == "no_lines"
    assert caught.value.message == errors.MSG_NO_LINES


def test_receive_into_an_inactive_warehouse_is_refused(variant):
    closed = WarehouseFactory(is_active=False)

    with pytest.raises(InvalidOperation) as caught:
        receive(variant, closed, 5)

    assert caught.value.code == "inactive_warehouse"
    assert caught.value.message == errors.MSG_INACTIVE_WAREHOUSE % {"warehouse": closed.code}
    assert not Movement.objects.exists()


def test_receive_refuses_a_reason_that_is_not_a_reception(variant, warehouse):
    with pytest.raises(ReasonRequired) as caught:
        stock_receive(
            warehouse=warehouse, lines=[StockQuantity(variant, 1)], reason=MovementReason.SALE
        )

    assert caught.value.code == "unknown_reason"


def test_receive_writes_nothing_when_one_line_is_invalid(warehouse):
    good, bad = VariantFactory(), VariantFactory()

    with pytest.raises(InvalidQuantity) as caught:
        stock_receive(
            warehouse=warehouse, lines=[StockQuantity(good, 5), StockQuantity(bad, "1.5")]
        )

    assert caught.value.code == "fraction_not_allowed"
    assert not Movement.objects.exists()
    assert not StockLine.objects.filter(on_hand__gt=0).exists()


# --- adjust -----------------------------------------------------------------------------------


def test_adjust_adds_a_positive_delta(variant, warehouse):
    receive(variant, warehouse, 10)

    movement = stock_adjust(
        variant=variant, warehouse=warehouse, quantity=2, reason=MovementReason.FOUND
    )

    assert (movement.type, movement.reason, movement.quantity) == (
        MovementType.ADJUSTMENT,
        MovementReason.FOUND,
        d(2),
    )
    assert movement.balance_after == d(12)
    assert line_of(variant, warehouse).on_hand == d(12)


def test_adjust_removes_a_negative_delta(variant, warehouse, user):
    receive(variant, warehouse, 10)

    movement = stock_adjust(
        variant=variant,
        warehouse=warehouse,
        quantity=-3,
        reason=MovementReason.BREAKAGE,
        note="Dropped",
        user=user,
    )

    assert movement.quantity == d(-3)
    assert movement.balance_after == d(7)
    assert (movement.note, movement.created_by_id) == ("Dropped", user.pk)
    assert line_of(variant, warehouse).on_hand == d(7)


def test_adjust_requires_a_reason(variant, warehouse):
    receive(variant, warehouse, 10)

    with pytest.raises(ReasonRequired) as caught:
        stock_adjust(variant=variant, warehouse=warehouse, quantity=-1, reason="")

    assert caught.value.code == "reason_required"
    assert caught.value.message == errors.MSG_REASON_REQUIRED
    assert line_of(variant, warehouse).on_hand == d(10)


def test_adjust_refuses_a_reason_reserved_to_other_operations(variant, warehouse):
    with pytest.raises(ReasonRequired) as caught:
        stock_adjust(variant=variant, warehouse=warehouse, quantity=1, reason=MovementReason.SALE)

    assert caught.value.code == "unknown_reason"
    assert caught.value.message == errors.MSG_UNKNOWN_REASON % {"reason": "sale"}


def test_adjust_refuses_an_unknown_reason(variant, warehouse):
    with pytest.raises(ReasonRequired) as caught:
        stock_adjust(variant=variant, warehouse=warehouse, quantity=1, reason="because")

    assert caught.value.code == "unknown_reason"


def test_adjust_by_zero_is_refused(variant, warehouse):
    with pytest.raises(InvalidQuantity) as caught:
        stock_adjust(variant=variant, warehouse=warehouse, quantity=0, reason="manual")

    assert caught.value.code == "zero_quantity"
    assert caught.value.message == errors.MSG_ZERO


def test_adjust_below_zero_is_refused_naming_sku_warehouse_and_shortfall(variant, warehouse):
    receive(variant, warehouse, 2)

    with pytest.raises(InsufficientStock) as caught:
        stock_adjust(variant=variant, warehouse=warehouse, quantity=-5, reason="loss")

    error = caught.value
    assert error.code == "insufficient_stock"
    [shortfall] = error.shortfalls
    assert (shortfall.sku, shortfall.warehouse) == (variant.sku, warehouse.code)
    assert (shortfall.available, shortfall.requested, shortfall.missing) == (d(2), d(5), d(3))
    assert variant.sku in error.message
    assert warehouse.code in error.message
    assert "3.000 short" in error.message
    assert line_of(variant, warehouse).on_hand == d(2)
    assert len(movements_of(variant, warehouse)) == 1


def test_adjust_below_zero_is_allowed_where_the_warehouse_allows_negative_stock(variant):
    backorders = WarehouseFactory(allow_negative_stock=True)
    receive(variant, backorders, 2)

    movement = stock_adjust(variant=variant, warehouse=backorders, quantity=-5, reason="loss")

    line = line_of(variant, backorders)
    assert movement.balance_after == d(-3)
    assert (line.on_hand, line.available) == (d(-3), d(-3))
    assert verify_ledger().ok


def test_adjust_cannot_remove_stock_that_is_reserved(variant, warehouse):
    receive(variant, warehouse, 10)
    reserve(variant, warehouse, 8)

    with pytest.raises(InsufficientStock) as caught:
        stock_adjust(variant=variant, warehouse=warehouse, quantity=-3, reason="loss")

    assert caught.value.shortfalls[0].available == d(2)


def test_adjust_up_is_allowed_on_a_line_already_below_zero(variant, warehouse):
    """A line that is negative (the warehouse allowed it earlier) may still be raised."""
    warehouse.allow_negative_stock = True
    warehouse.save()
    stock_adjust(variant=variant, warehouse=warehouse, quantity=-5, reason="loss")
    warehouse.allow_negative_stock = False
    warehouse.save()

    stock_adjust(variant=variant, warehouse=warehouse, quantity=2, reason="found")

    assert line_of(variant, warehouse).on_hand == d(-3)


# --- set counted / apply counts ---------------------------------------------------------------


def test_set_counted_writes_the_gap_as_a_count_correction(variant, warehouse):
    receive(variant, warehouse, 10)

    movement = stock_set_counted(variant=variant, warehouse=warehouse, counted=7)

    assert (movement.type, movement.reason) == (
        MovementType.ADJUSTMENT,
        MovementReason.COUNT_CORRECTION,
    )
    assert (movement.quantity, movement.balance_after) == (d(-3), d(7))
    assert line_of(variant, warehouse).on_hand == d(7)


def test_set_counted_equal_to_on_hand_writes_no_movement(variant, warehouse):
    receive(variant, warehouse, 10)

    assert stock_set_counted(variant=variant, warehouse=warehouse, counted="10.000") is None

    assert len(movements_of(variant, warehouse)) == 1
    assert line_of(variant, warehouse).on_hand == d(10)


def test_set_counted_on_a_line_never_received_enters_the_count(variant, warehouse):
    movement = stock_set_counted(variant=variant, warehouse=warehouse, counted=4)

    assert movement.quantity == d(4)
    assert line_of(variant, warehouse).on_hand == d(4)


def test_set_counted_to_zero_empties_the_line(variant, warehouse):
    receive(variant, warehouse, 3)

    stock_set_counted(variant=variant, warehouse=warehouse, counted=0)

    assert line_of(variant, warehouse).on_hand == 0


def test_set_counted_refuses_a_negative_count(variant, warehouse):
    with pytest.raises(InvalidQuantity) as caught:
        stock_set_counted(variant=variant, warehouse=warehouse, counted=-1)

    assert caught.value.code == "quantity_negative"
    assert caught.value.message == errors.MSG_NEGATIVE


def test_set_counted_requires_a_reason(variant, warehouse):
    with pytest.raises(ReasonRequired) as caught:
        stock_set_counted(variant=variant, warehouse=warehouse, counted=1, reason="")

    assert caught.value.code == "reason_required"


def test_set_counted_refuses_a_reason_that_is_not_a_count(variant, warehouse):
    with pytest.raises(ReasonRequired) as caught:
        stock_set_counted(variant=variant, warehouse=warehouse, counted=1, reason="breakage")

    assert caught.value.code == "unknown_reason"


def test_set_counted_below_reserved_is_refused_where_negative_stock_is_forbidden(
    variant, warehouse
):
    receive(variant, warehouse, 10)
    reserve(variant, warehouse, 6)

    with pytest.raises(InsufficientStock):
        stock_set_counted(variant=variant, warehouse=warehouse, counted=4)

    assert line_of(variant, warehouse).on_hand == d(10)


def test_apply_counts_corrects_many_lines_in_one_operation(warehouse, user):
    shirt, mug, cap = VariantFactory(), VariantFactory(), VariantFactory()
    for item in (shirt, mug, cap):
        receive(item, warehouse, 10)

    movements = stock_apply_counts(
        warehouse=warehouse,
        counted={shirt: 8, mug: 10, cap: 13},
        reference="COUNT-1",
        user=user,
    )

    assert sorted(m.quantity for m in movements) == [d(-2), d(3)]
    assert {m.reason for m in movements} == {MovementReason.PHYSICAL_COUNT}
    assert {m.reference for m in movements} == {"COUNT-1"}
    assert len({m.operation for m in movements}) == 1
    assert [line_of(v, warehouse).on_hand for v in (shirt, mug, cap)] == [d(8), d(10), d(13)]


def test_apply_counts_writes_nothing_when_one_line_is_invalid(warehouse):
    shirt, mug = VariantFactory(), VariantFactory()
    receive(shirt, warehouse, 10)
    receive(mug, warehouse, 10)

    with pytest.raises(InvalidQuantity) as caught:
        stock_apply_counts(warehouse=warehouse, counted={shirt: 8, mug: "9.5"})

    assert caught.value.code == "fraction_not_allowed"
    assert line_of(shirt, warehouse).on_hand == d(10)
    assert Movement.objects.count() == 2


def test_apply_counts_is_all_or_nothing_when_one_line_breaks_a_rule(warehouse):
    shirt, mug, cap = VariantFactory(), VariantFactory(), VariantFactory()
    for item in (shirt, mug, cap):
        receive(item, warehouse, 10)
    reserve(mug, warehouse, 6)

    with pytest.raises(InsufficientStock) as caught:
        stock_apply_counts(warehouse=warehouse, counted={shirt: 8, mug: 4, cap: 12})

    assert [s.sku for s in caught.value.shortfalls] == [mug.sku]
    assert [line_of(v, warehouse).on_hand for v in (shirt, mug, cap)] == [d(10)] * 3
    assert Movement.objects.count() == 3
    assert verify_ledger().ok


def test_apply_counts_without_lines_is_refused(warehouse):
    with pytest.raises(InvalidOperation) as caught:
        stock_apply_counts(warehouse=warehouse, counted={})

    assert caught.value.code == "no_lines"


# --- transfer ---------------------------------------------------------------------------------


def test_transfer_keeps_total_unchanged_across_warehouses(warehouse, other_warehouse):
    shirt, rice = VariantFactory(), VariantFactory(by_weight=True)
    receive(shirt, warehouse, 10)
    receive(rice, warehouse, "7.5")
    receive(rice, other_warehouse, 1)

    stock_transfer(
        source=warehouse,
        destination=other_warehouse,
        lines=[StockQuantity(shirt, 4), StockQuantity(rice, "2.25")],
    )

    assert line_of(shirt, warehouse).on_hand == d(6)
    assert line_of(shirt, other_warehouse).on_hand == d(4)
    assert line_of(rice, warehouse).on_hand == d("5.25")
    assert line_of(rice, other_warehouse).on_hand == d("3.25")
    for item, total in ((shirt, d(10)), (rice, d("8.5"))):
        assert sum(line.on_hand for line in StockLine.objects.filter(variant=item)) == total
    assert verify_ledger().ok


def test_transfer_writes_both_legs_in_one_operation(variant, warehouse, other_warehouse, user):
    receive(variant, warehouse, 10)

    out_leg, in_leg = stock_transfer(
        source=warehouse,
        destination=other_warehouse,
        lines=[StockQuantity(variant, 3)],
        user=user,
        reference="TR-1",
    )

    assert (out_leg.type, out_leg.reason, out_leg.quantity) == (
        MovementType.EXIT,
        MovementReason.TRANSFER_OUT,
        d(-3),
    )
    assert (in_leg.type, in_leg.reason, in_leg.quantity) == (
        MovementType.ENTRY,
        MovementReason.TRANSFER_IN,
        d(3),
    )
    assert out_leg.stock_line.warehouse_id == warehouse.pk
    assert in_leg.stock_line.warehouse_id == other_warehouse.pk
    assert out_leg.operation == in_leg.operation
    assert out_leg.created_at == in_leg.created_at
    assert out_leg.note == f"To {other_warehouse.code}"
    assert in_leg.note == f"From {warehouse.code}"
    stored = Movement.objects.filter(operation=out_leg.operation)
    assert stored.count() == 2
    assert {m.reference for m in stored} == {"TR-1"}


def test_transfer_to_the_same_warehouse_is_refused(variant, warehouse):
    receive(variant, warehouse, 10)

    with pytest.raises(InvalidOperation) as caught:
        stock_transfer(source=warehouse, destination=warehouse, lines=[StockQuantity(variant, 1)])

    assert caught.value.code == "same_warehouse"
    assert caught.value.message == errors.MSG_SAME_WAREHOUSE
    assert len(movements_of(variant, warehouse)) == 1


def test_transfer_cannot_take_more_than_available_at_the_source(
    variant, warehouse, other_warehouse
):
    receive(variant, warehouse, 10)
    reserve(variant, warehouse, 4)
    stock_lock(variant=variant, warehouse=warehouse, quantity=3, reason="damaged")

    with pytest.raises(InsufficientStock) as caught:
        stock_transfer(
            source=warehouse, destination=other_warehouse, lines=[StockQuantity(variant, 4)]
        )

    [shortfall] = caught.value.shortfalls
    assert (shortfall.warehouse, shortfall.available, shortfall.missing) == (
        warehouse.code,
        d(3),
        d(1),
    )
    assert line_of(variant, warehouse).on_hand == d(10)
    assert not Movement.objects.filter(stock_line__warehouse=other_warehouse).exists()


def test_transfer_into_an_inactive_warehouse_is_refused(variant, warehouse):
    closed = WarehouseFactory(is_active=False)
    receive(variant, warehouse, 10)

    with pytest.raises(InvalidOperation) as caught:
        stock_transfer(source=warehouse, destination=closed, lines=[StockQuantity(variant, 1)])

    assert caught.value.code == "inactive_warehouse"


def test_transfer_without_lines_is_refused(warehouse, other_warehouse):
    with pytest.raises(InvalidOperation) as caught:
        stock_transfer(source=warehouse, destination=other_warehouse, lines=[])

    assert caught.value.code == "no_lines"


# --- lock / unlock ----------------------------------------------------------------------------


def test_lock_keeps_stock_on_hand_but_not_available(variant, warehouse):
    receive(variant, warehouse, 10)

    change = stock_lock(
        variant=variant, warehouse=warehouse, quantity=4, reason=LockReason.QUALITY_CHECK
    )

    line = line_of(variant, warehouse)
    assert (line.on_hand, line.locked, line.reserved, line.available) == (d(10), d(4), 0, d(6))
    assert (change.kind, change.locked_delta, change.locked_after, change.reason) == (
        HoldKind.LOCK,
        d(4),
        d(4),
        LockReason.QUALITY_CHECK,
    )
    assert len(movements_of(variant, warehouse)) == 1


def test_lock_requires_a_reason(variant, warehouse):
    receive(variant, warehouse, 10)

    with pytest.raises(ReasonRequired) as caught:
        stock_lock(variant=variant, warehouse=warehouse, quantity=1, reason="")

    assert caught.value.code == "reason_required"


def test_lock_refuses_a_reason_that_is_not_a_lock_reason(variant, warehouse):
    with pytest.raises(ReasonRequired) as caught:
        stock_lock(variant=variant, warehouse=warehouse, quantity=1, reason="breakage")

    assert caught.value.code == "unknown_reason"


def test_lock_more_than_available_is_refused(variant, warehouse):
    receive(variant, warehouse, 5)
    reserve(variant, warehouse, 3)

    with pytest.raises(InsufficientStock) as caught:
        stock_lock(variant=variant, warehouse=warehouse, quantity=3, reason="damaged")

    assert caught.value.shortfalls[0].missing == d(1)
    assert line_of(variant, warehouse).locked == 0
    assert not HoldChange.objects.filter(kind=HoldKind.LOCK).exists()


def test_unlock_makes_stock_available_again(variant, warehouse):
    receive(variant, warehouse, 10)
    stock_lock(variant=variant, warehouse=warehouse, quantity=4, reason="damaged")

    change = stock_unlock(variant=variant, warehouse=warehouse, quantity=3, reason="damaged")

    line = line_of(variant, warehouse)
    assert (line.locked, line.available) == (d(1), d(9))
    assert (change.kind, change.locked_delta, change.locked_after) == (
        HoldKind.UNLOCK,
        d(-3),
        d(1),
    )


def test_unlock_more_than_locked_is_refused(variant, warehouse):
    receive(variant, warehouse, 10)
    stock_lock(variant=variant, warehouse=warehouse, quantity=2, reason="damaged")

    with pytest.raises(InvalidOperation) as caught:
        stock_unlock(variant=variant, warehouse=warehouse, quantity=3, reason="damaged")

    assert caught.value.code == "exceeds_locked"
    assert caught.value.message == errors.MSG_EXCEEDS_LOCKED % {
        "locked": "2.000",
        "sku": variant.sku,
        "warehouse": warehouse.code,
        "quantity": "3.000",
    }
    assert line_of(variant, warehouse).locked == d(2)


def test_unlock_requires_a_reason(variant, warehouse):
    with pytest.raises(ReasonRequired) as caught:
        stock_unlock(variant=variant, warehouse=warehouse, quantity=1, reason="")

    assert caught.value.code == "reason_required"


# --- reserve / release / ship / restock -------------------------------------------------------


def test_reserve_holds_stock_back_without_a_movement(variant, warehouse):
    receive(variant, warehouse, 10)

    [change] = reserve(variant, warehouse, 3, reference="SO-42")

    line = line_of(variant, warehouse)
    assert (line.on_hand, line.reserved, line.available) == (d(10), d(3), d(7))
    assert (change.kind, change.reserved_delta, change.reserved_after, change.reference) == (
        HoldKind.RESERVE,
        d(3),
        d(3),
        "SO-42",
    )
    assert len(movements_of(variant, warehouse)) == 1


def test_reserve_is_all_or_nothing_across_lines(warehouse):
    shirt, mug, cap = VariantFactory(), VariantFactory(), VariantFactory()
    receive(shirt, warehouse, 10)
    receive(mug, warehouse, 1)
    receive(cap, warehouse, 10)

    with pytest.raises(InsufficientStock) as caught:
        stock_reserve(
            warehouse=warehouse,
            lines=[StockQuantity(shirt, 2), StockQuantity(mug, 2), StockQuantity(cap, 2)],
            reference="SO-1",
        )

    assert caught.value.code == "insufficient_stock"
    assert [s.sku for s in caught.value.shortfalls] == [mug.sku]
    assert [line_of(v, warehouse).reserved for v in (shirt, mug, cap)] == [0, 0, 0]
    assert not HoldChange.objects.exists()


def test_reserve_reports_every_shortfall_together(warehouse):
    shirt, mug, cap = VariantFactory(), VariantFactory(), VariantFactory()
    receive(shirt, warehouse, 1)
    receive(cap, warehouse, 10)

    with pytest.raises(InsufficientStock) as caught:
        stock_reserve(
            warehouse=warehouse,
            lines=[StockQuantity(shirt, 3), StockQuantity(mug, 2), StockQuantity(cap, 2)],
            reference="SO-1",
        )

    found = {s.sku: (s.available, s.requested, s.missing) for s in caught.value.shortfalls}
    assert found == {shirt.sku: (d(1), d(3), d(2)), mug.sku: (0, d(2), d(2))}
    assert shirt.sku in caught.value.message
    assert mug.sku in caught.value.message
    assert cap.sku not in caught.value.message


def test_reserve_beyond_available_is_allowed_where_negative_stock_is_allowed(variant):
    backorders = WarehouseFactory(allow_negative_stock=True)
    receive(variant, backorders, 2)

    reserve(variant, backorders, 5)

    line = line_of(variant, backorders)
    assert (line.reserved, line.available) == (d(5), d(-3))


def test_reserve_in_an_inactive_warehouse_is_refused(variant):
    closed = WarehouseFactory(is_active=False)

    with pytest.raises(InvalidOperation) as caught:
        reserve(variant, closed, 1)

    assert caught.value.code == "inactive_warehouse"


def test_release_gives_reserved_stock_back(variant, warehouse):
    receive(variant, warehouse, 10)
    reserve(variant, warehouse, 4)

    [change] = stock_release(
        warehouse=warehouse, lines=[StockQuantity(variant, 3)], reference="SO-1"
    )

    line = line_of(variant, warehouse)
    assert (line.on_hand, line.reserved, line.available) == (d(10), d(1), d(9))
    assert (change.kind, change.reserved_delta) == (HoldKind.RELEASE, d(-3))


def test_release_more_than_reserved_is_refused(variant, warehouse):
    receive(variant, warehouse, 10)
    reserve(variant, warehouse, 2)

    with pytest.raises(InvalidOperation) as caught:
        stock_release(warehouse=warehouse, lines=[StockQuantity(variant, 3)], reference="SO-1")

    assert caught.value.code == "exceeds_reserved"
    assert caught.value.message == errors.MSG_EXCEEDS_RESERVED % {
        "reserved": "2.000",
        "sku": variant.sku,
        "warehouse": warehouse.code,
        "quantity": "3.000",
    }
    assert line_of(variant, warehouse).reserved == d(2)


def test_ship_deducts_the_reservation_with_an_exit_for_a_sale(variant, warehouse):
    receive(variant, warehouse, 10)
    reserve(variant, warehouse, 3, reference="SO-7")
    available_before = line_of(variant, warehouse).available

    [movement] = stock_ship(
        warehouse=warehouse, lines=[StockQuantity(variant, 2)], reference="SO-7"
    )

    line = line_of(variant, warehouse)
    assert (line.on_hand, line.reserved) == (d(8), d(1))
    assert line.available == available_before == d(7)
    assert (movement.type, movement.reason, movement.quantity, movement.reference) == (
        MovementType.EXIT,
        MovementReason.SALE,
        d(-2),
        "SO-7",
    )
    deduct = HoldChange.objects.get(kind=HoldKind.DEDUCT)
    assert (deduct.reserved_delta, deduct.operation) == (d(-2), movement.operation)


def test_ship_more_than_reserved_is_refused(variant, warehouse):
    receive(variant, warehouse, 10)
    reserve(variant, warehouse, 2)

    with pytest.raises(InvalidOperation) as caught:
        stock_ship(warehouse=warehouse, lines=[StockQuantity(variant, 3)], reference="SO-1")

    assert caught.value.code == "exceeds_reserved"
    line = line_of(variant, warehouse)
    assert (line.on_hand, line.reserved) == (d(10), d(2))


def test_ship_counts_repeated_lines_of_a_variant_against_its_reservation(variant, warehouse):
    receive(variant, warehouse, 10)
    reserve(variant, warehouse, 3)

    with pytest.raises(InvalidOperation) as caught:
        stock_ship(
            warehouse=warehouse,
            lines=[StockQuantity(variant, 2), StockQuantity(variant, 2)],
            reference="SO-1",
        )

    assert caught.value.code == "exceeds_reserved"


def test_restock_return_enters_goods_back_into_stock(variant, warehouse):
    receive(variant, warehouse, 10)
    reserve(variant, warehouse, 2)
    stock_ship(warehouse=warehouse, lines=[StockQuantity(variant, 2)], reference="SO-1")

    [movement] = stock_restock_return(
        warehouse=warehouse, lines=[StockQuantity(variant, 1)], reference="SO-1"
    )

    assert (movement.type, movement.reason, movement.quantity) == (
        MovementType.ENTRY,
        MovementReason.RETURN_RESTOCKED,
        d(1),
    )
    assert line_of(variant, warehouse).on_hand == d(9)
    assert verify_ledger().ok


# --- quantity rules ---------------------------------------------------------------------------


def test_pieces_refuse_a_fraction(variant, warehouse):
    with pytest.raises(InvalidQuantity) as caught:
        receive(variant, warehouse, "2.5")

    assert caught.value.code == "fraction_not_allowed"
    assert caught.value.message == errors.MSG_FRACTION % {"sku": variant.sku, "quantity": "2.5"}


@pytest.mark.parametrize("quantity", ["2", 2, "2.000", Decimal("2.0000")])
def test_pieces_accept_whole_numbers_written_with_decimals(variant, warehouse, quantity):
    assert receive(variant, warehouse, quantity).on_hand == d(2)


@pytest.mark.parametrize("quantity", ["2.5", 2.5, Decimal("2.5"), "0.001"])
def test_goods_sold_by_weight_accept_fractions(kg_variant, warehouse, quantity):
    assert receive(kg_variant, warehouse, quantity).on_hand == d(quantity)


def test_more_than_three_decimals_is_refused(kg_variant, warehouse):
    with pytest.raises(InvalidQuantity) as caught:
        receive(kg_variant, warehouse, "1.0001")

    assert caught.value.code == "too_many_decimals"
    assert caught.value.message == errors.MSG_TOO_MANY_DECIMALS


@pytest.mark.parametrize("quantity", [10**20, "1e15", -(10**20)])
def test_a_quantity_too_large_for_the_ledger_is_refused(kg_variant, warehouse, quantity):
    with pytest.raises(InvalidQuantity) as caught:
        stock_adjust(variant=kg_variant, warehouse=warehouse, quantity=quantity, reason="found")

    assert caught.value.code == "quantity_too_large"
    assert caught.value.message == errors.MSG_TOO_LARGE


def test_a_long_quantity_with_many_decimals_is_refused_not_a_crash(kg_variant, warehouse):
    """30 digits with 4 decimals: a clean InvalidQuantity, not a decimal.InvalidOperation."""
    with pytest.raises(InvalidQuantity) as caught:
        receive(kg_variant, warehouse, "12345678901234567890123456789.0001")

    assert caught.value.code in {"quantity_too_large", "too_many_decimals"}


@pytest.mark.parametrize(
    "quantity", ["abc", "NaN", "Infinity", "-Infinity", "sNaN", "", None, "1,5", float("nan")]
)
def test_a_quantity_that_is_not_a_number_is_refused(kg_variant, warehouse, quantity):
    with pytest.raises(InvalidQuantity) as caught:
        receive(kg_variant, warehouse, quantity)

    assert caught.value.code == "not_a_number"
    assert caught.value.message == errors.MSG_NOT_A_NUMBER


@pytest.mark.parametrize("quantity", [0, "0.000", -1, "-0.5"])
def test_a_quantity_that_is_not_positive_is_refused(kg_variant, warehouse, quantity):
    with pytest.raises(InvalidQuantity) as caught:
        receive(kg_variant, warehouse, quantity)

    assert caught.value.code == "quantity_not_positive"
    assert caught.value.message == errors.MSG_NOT_POSITIVE


@pytest.mark.parametrize(
    "operation",
    [
        lambda v, w: stock_lock(variant=v, warehouse=w, quantity=0, reason="damaged"),
        lambda v, w: stock_unlock(variant=v, warehouse=w, quantity=-1, reason="damaged"),
        lambda v, w: reserve(v, w, 0),
        lambda v, w: stock_release(warehouse=w, lines=[StockQuantity(v, 0)], reference="x"),
        lambda v, w: stock_ship(warehouse=w, lines=[StockQuantity(v, -2)], reference="x"),
        lambda v, w: stock_transfer(
            source=w, destination=WarehouseFactory(), lines=[StockQuantity(v, 0)]
        ),
        lambda v, w: stock_restock_return(warehouse=w, lines=[StockQuantity(v, 0)], reference="x"),
    ],
    ids=["lock", "unlock", "reserve", "release", "ship", "transfer", "restock"],
)
def test_every_operation_refuses_a_quantity_that_is_not_positive(variant, warehouse, operation):
    receive(variant, warehouse, 10)

    with pytest.raises(InvalidQuantity) as caught:
        operation(variant, warehouse)

    assert caught.value.code == "quantity_not_positive"
    assert Movement.objects.count() == 1
    assert not HoldChange.objects.exists()


def test_domain_errors_turn_into_validation_errors_with_their_code(variant, warehouse):
    with pytest.raises(StockError) as caught:
        receive(variant, warehouse, "abc")

    error = caught.value.as_validation_error()
    assert (error.code, error.message) == ("not_a_number", errors.MSG_NOT_A_NUMBER)


# --- time and hash chain ----------------------------------------------------------------------


def test_a_movement_is_stamped_with_the_moment_it_is_written(variant, warehouse):
    before = timezone.now()
    receive(variant, warehouse, 5)
    stock_adjust(variant=variant, warehouse=warehouse, quantity=-1, reason="loss")
    reserve(variant, warehouse, 1)
    after = timezone.now()

    for movement in movements_of(variant, warehouse):
        assert before <= movement.created_at <= after
    for change in holds_of(variant, warehouse):
        assert before <= change.created_at <= after
    assert before <= line_of(variant, warehouse).last_movement_at <= after


def test_a_movement_is_never_earlier_than_the_previous_movement_of_its_line(variant, warehouse):
    """An app server whose clock is behind cannot write a line's history out of order."""
    ahead = timezone.now() + timedelta(hours=1)
    with simulated_time(ahead):
        receive(variant, warehouse, 5)

    movement = stock_adjust(variant=variant, warehouse=warehouse, quantity=-1, reason="loss")

    first, second = movements_of(variant, warehouse)
    assert first.created_at == ahead
    assert second.created_at >= first.created_at
    assert movement.created_at == second.created_at
    assert verify_ledger().ok


def test_each_movement_is_chained_to_the_previous_one_of_its_line(
    variant, warehouse, other_warehouse
):
    receive(variant, warehouse, 10)
    receive(variant, other_warehouse, 1)
    stock_adjust(variant=variant, warehouse=warehouse, quantity=-2, reason="breakage")
    stock_transfer(source=warehouse, destination=other_warehouse, lines=[StockQuantity(variant, 3)])

    for place in (warehouse, other_warehouse):
        movements = movements_of(variant, place)
        assert movements[0].previous_hash == ""
        for previous, movement in pairwise(movements):
            assert movement.previous_hash == previous.hash
        for movement in movements:
            fields = {name: getattr(movement, name) for name in HASHED_FIELDS}
            assert movement_hash(**fields) == movement.hash
        assert line_of(variant, place).ledger_head == movements[-1].hash
    assert len({m.hash for m in Movement.objects.all()}) == Movement.objects.count()


def test_the_hash_covers_the_content_of_the_movement(variant, warehouse):
    movement = stock_adjust(
        variant=variant, warehouse=warehouse, quantity=3, reason="found", note="Behind a shelf"
    )
    fields = {name: getattr(movement, name) for name in HASHED_FIELDS}

    for name, other in [("note", "Somewhere else"), ("quantity", d(4)), ("reason", "manual")]:
        assert movement_hash(**{**fields, name: other}) != movement.hash
