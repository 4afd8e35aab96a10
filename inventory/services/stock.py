"""Stock operations: every change of on_hand, reserved or locked goes through one of these.

Each function is atomic, locks the stock lines it touches in primary-key order
(``StockBatch.lock``), checks the rules after the lock, writes quantities and ledger rows
together, and raises a ``StockError`` with a ``code`` when a rule is broken.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import transaction

from catalog.models import Variant
from warehouses.models import Warehouse

from ..models import (
    ADJUSTMENT_REASONS,
    HoldChange,
    HoldKind,
    LockReason,
    Movement,
    MovementReason,
    MovementType,
)
from .costing import CostBook, clean_unit_cost
from .errors import (
    MSG_EXCEEDS_LOCKED,
    MSG_EXCEEDS_RESERVED,
    MSG_INACTIVE_WAREHOUSE,
    MSG_NO_LINES,
    MSG_SAME_WAREHOUSE,
    InvalidOperation,
)
from .validation import clean_quantity, require_reason
from .writer import StockBatch


@dataclass(frozen=True)
class StockQuantity:
    """A quantity of one variant, as given to a multi-line operation."""

    variant: Variant
    quantity: Decimal | int | str
    unit_cost: Decimal | None = None


def _cleaned(lines: Iterable[StockQuantity], sign: str = "positive") -> list[StockQuantity]:
    cleaned = [
        StockQuantity(
            line.variant,
            clean_quantity(line.quantity, variant=line.variant, sign=sign),
            line.unit_cost,
        )
        for line in lines
    ]
    if not cleaned:
        raise InvalidOperation(MSG_NO_LINES, code="no_lines")
    return cleaned


def _require_active(warehouse: Warehouse) -> None:
    if not warehouse.is_active:
        raise InvalidOperation(
            MSG_INACTIVE_WAREHOUSE % {"warehouse": warehouse.code}, code="inactive_warehouse"
        )


def _keys(lines: Iterable[StockQuantity], warehouse: Warehouse):
    return [(line.variant.pk, warehouse.pk) for line in lines]


def stock_receive(
    *,
    warehouse: Warehouse,
    lines: Iterable[StockQuantity],
    user=None,
    reference: str = "",
    note: str = "",
    reason: str = MovementReason.SUPPLIER_RECEPTION,
) -> list[Movement]:
    """Enter received goods: one Entry movement per line, all lines or none.

    Each line with a unit cost updates its variant's weighted average cost; a line without one
    enters at the current average. Every movement records the cost it used.

    Locks: the stock lines of the received variants in ``warehouse``, then the variant rows.
    """
    require_reason(reason, (MovementReason.SUPPLIER_RECEPTION, MovementReason.RETURN_RESTOCKED))
    _require_active(warehouse)
    lines = [replace(line, unit_cost=clean_unit_cost(line.unit_cost)) for line in _cleaned(lines)]
    with transaction.atomic():
        batch = StockBatch.lock(_keys(lines, warehouse), user=user)
        costs = CostBook.lock(line.variant.pk for line in lines)
        movements = [
            batch.move(
                batch.line(line.variant, warehouse),
                type=MovementType.ENTRY,
                reason=reason,
                quantity=line.quantity,
                unit_cost=costs.receive(line.variant, line.quantity, line.unit_cost),
                reference=reference,
                note=note,
            )
            for line in lines
        ]
        batch.commit()
        costs.save(
            moment=movements[0].created_at,
            operation=batch.operation,
            received=[line.variant for line in lines],
        )
    return movements


def stock_adjust(
    *,
    variant: Variant,
    warehouse: Warehouse,
    quantity,
    reason: str,
    note: str = "",
    reference: str = "",
    user=None,
) -> Movement:
    """Add (positive) or remove (negative) a quantity, for a reason such as breakage.

    Locks: the variant's stock line in ``warehouse``.
    """
    require_reason(reason, ADJUSTMENT_REASONS)
    quantity = clean_quantity(quantity, variant=variant, sign="non_zero")
    with transaction.atomic():
        batch = StockBatch.lock([(variant.pk, warehouse.pk)], user=user)
        movement = batch.move(
            batch.line(variant, warehouse),
            type=MovementType.ADJUSTMENT,
            reason=reason,
            quantity=quantity,
            reference=reference,
            note=note,
        )
        batch.commit()
    return movement


def stock_set_counted(
    *,
    variant: Variant,
    warehouse: Warehouse,
    counted,
    reason: str = MovementReason.COUNT_CORRECTION,
    note: str = "",
    reference: str = "",
    user=None,
) -> Movement | None:
    """Set on_hand to a counted quantity; returns None when the count matches.

    Locks: the variant's stock line in ``warehouse``.
    """
    movements = stock_apply_counts(
        warehouse=warehouse,
        counted={variant: counted},
        reason=reason,
        note=note,
        reference=reference,
        user=user,
    )
    return movements[0] if movements else None


def stock_apply_counts(
    *,
    warehouse: Warehouse,
    counted: Mapping[Variant, Decimal | int | str],
    reason: str = MovementReason.PHYSICAL_COUNT,
    note: str = "",
    reference: str = "",
    user=None,
) -> list[Movement]:
    """Set on_hand of many lines of one warehouse to counted quantities, in one transaction.

    One Adjustment per line whose count differs. Locks: the counted lines, all at once.
    """
    require_reason(reason, (MovementReason.COUNT_CORRECTION, MovementReason.PHYSICAL_COUNT))
    quantities = {
        variant: clean_quantity(value, variant=variant, sign="non_negative")
        for variant, value in counted.items()
    }
    if not quantities:
        raise InvalidOperation(MSG_NO_LINES, code="no_lines")
    with transaction.atomic():
        batch = StockBatch.lock([(v.pk, warehouse.pk) for v in quantities], user=user)
        movements = []
        for variant, quantity in quantities.items():
            line = batch.line(variant, warehouse)
            gap = quantity - line.on_hand
            if gap:
                movements.append(
                    batch.move(
                        line,
                        type=MovementType.ADJUSTMENT,
                        reason=reason,
                        quantity=gap,
                        reference=reference,
                        note=note,
                    )
                )
        batch.commit()
    return movements


def stock_transfer(
    *,
    source: Warehouse,
    destination: Warehouse,
    lines: Iterable[StockQuantity],
    user=None,
    reference: str = "",
    note: str = "",
) -> list[Movement]:
    """Move goods between warehouses: an Exit from ``source`` and an Entry into
    ``destination`` per line, in one transaction; the total across warehouses is unchanged.

    Locks: the lines of the variants in both warehouses, in primary-key order.
    """
    if source.pk == destination.pk:
        raise InvalidOperation(MSG_SAME_WAREHOUSE, code="same_warehouse")
    _require_active(destination)
    lines = _cleaned(lines)
    with transaction.atomic():
        batch = StockBatch.lock(_keys(lines, source) + _keys(lines, destination), user=user)
        movements = []
        for line in lines:
            movements.append(
                batch.move(
                    batch.line(line.variant, source),
                    type=MovementType.EXIT,
                    reason=MovementReason.TRANSFER_OUT,
                    quantity=-line.quantity,
                    reference=reference,
                    note=note or f"To {destination.code}",
                )
            )
            movements.append(
                batch.move(
                    batch.line(line.variant, destination),
                    type=MovementType.ENTRY,
                    reason=MovementReason.TRANSFER_IN,
                    quantity=line.quantity,
                    reference=reference,
                    note=note or f"From {source.code}",
                )
            )
        batch.commit()
    return movements


def stock_lock(
    *,
    variant: Variant,
    warehouse: Warehouse,
    quantity,
    reason: str,
    note: str = "",
    reference: str = "",
    user=None,
) -> HoldChange:
    """Put a quantity on hold (quality check, damage...): still on hand, no longer available.

    Locks: the variant's stock line in ``warehouse``.
    """
    require_reason(reason, LockReason.values)
    quantity = clean_quantity(quantity, variant=variant)
    with transaction.atomic():
        batch = StockBatch.lock([(variant.pk, warehouse.pk)], user=user)
        change = batch.hold(
            batch.line(variant, warehouse),
            kind=HoldKind.LOCK,
            locked_delta=quantity,
            reason=reason,
            reference=reference,
            note=note,
        )
        batch.commit()
    return change


def stock_unlock(
    *,
    variant: Variant,
    warehouse: Warehouse,
    quantity,
    reason: str,
    note: str = "",
    reference: str = "",
    user=None,
) -> HoldChange:
    """Release a held quantity back to available stock.

    Locks: the variant's stock line in ``warehouse``.
    """
    require_reason(reason, LockReason.values)
    quantity = clean_quantity(quantity, variant=variant)
    with transaction.atomic():
        batch = StockBatch.lock([(variant.pk, warehouse.pk)], user=user)
        line = batch.line(variant, warehouse)
        if quantity > line.locked:
            raise InvalidOperation(
                MSG_EXCEEDS_LOCKED
                % {
                    "locked": f"{line.locked:f}",
                    "sku": variant.sku,
                    "warehouse": warehouse.code,
                    "quantity": f"{quantity:f}",
                },
                code="exceeds_locked",
            )
        change = batch.hold(
            line,
            kind=HoldKind.UNLOCK,
            locked_delta=-quantity,
            reason=reason,
            reference=reference,
            note=note,
        )
        batch.commit()
    return change


def stock_reserve(
    *, warehouse: Warehouse, lines: Iterable[StockQuantity], reference: str, user=None
) -> list[HoldChange]:
    """Hold stock back for an order: every line or none; all shortfalls reported together.

    Locks: the order's stock lines in ``warehouse``, in primary-key order.
    """
    _require_active(warehouse)
    lines = _cleaned(lines)
    with transaction.atomic():
        batch = StockBatch.lock(_keys(lines, warehouse), user=user)
        changes = [
            batch.hold(
                batch.line(line.variant, warehouse),
                kind=HoldKind.RESERVE,
                reserved_delta=line.quantity,
                reference=reference,
            )
            for line in lines
        ]
        batch.commit()
    return changes


def _check_reserved(batch: StockBatch, warehouse: Warehouse, lines: list[StockQuantity]) -> None:
    needed: dict[Variant, Decimal] = {}
    for line in lines:
        needed[line.variant] = needed.get(line.variant, Decimal(0)) + line.quantity
    for variant, quantity in needed.items():
        reserved = batch.line(variant, warehouse).reserved
        if quantity > reserved:
            raise InvalidOperation(
                MSG_EXCEEDS_RESERVED
                % {
                    "reserved": f"{reserved:f}",
                    "sku": variant.sku,
                    "warehouse": warehouse.code,
                    "quantity": f"{quantity:f}",
                },
                code="exceeds_reserved",
            )


def stock_release(
    *, warehouse: Warehouse, lines: Iterable[StockQuantity], reference: str, user=None
) -> list[HoldChange]:
    """Give reserved stock back to available (an order cancelled before it shipped).

    Locks: the order's stock lines in ``warehouse``.
    """
    lines = _cleaned(lines)
    with transaction.atomic():
        batch = StockBatch.lock(_keys(lines, warehouse), user=user)
        _check_reserved(batch, warehouse, lines)
        changes = [
            batch.hold(
                batch.line(line.variant, warehouse),
                kind=HoldKind.RELEASE,
                reserved_delta=-line.quantity,
                reference=reference,
            )
            for line in lines
        ]
        batch.commit()
    return changes


def stock_ship(
    *, warehouse: Warehouse, lines: Iterable[StockQuantity], reference: str, user=None
) -> list[Movement]:
    """Deduct shipped goods from a reservation: an Exit (reason Sale) per line, and the
    reservation consumed. Available stock is unchanged.

    Locks: the order's stock lines in ``warehouse``.
    """
    lines = _cleaned(lines)
    with transaction.atomic():
        batch = StockBatch.lock(_keys(lines, warehouse), user=user)
        _check_reserved(batch, warehouse, lines)
        movements = []
        for line in lines:
            stock_line = batch.line(line.variant, warehouse)
            batch.hold(
                stock_line,
                kind=HoldKind.DEDUCT,
                reserved_delta=-line.quantity,
                reference=reference,
            )
            movements.append(
                batch.move(
                    stock_line,
                    type=MovementType.EXIT,
                    reason=MovementReason.SALE,
                    quantity=-line.quantity,
                    reference=reference,
                )
            )
        batch.commit()
    return movements


def stock_restock_return(
    *,
    warehouse: Warehouse,
    lines: Iterable[StockQuantity],
    reference: str,
    note: str = "",
    user=None,
) -> list[Movement]:
    """Enter returned goods back into stock: an Entry (reason Return restocked) per line.

    Locks: the returned lines in ``warehouse``.
    """
    return stock_receive(
        warehouse=warehouse,
        lines=lines,
        user=user,
        reference=reference,
        note=note,
        reason=MovementReason.RETURN_RESTOCKED,
    )
