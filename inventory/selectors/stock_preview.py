"""What an operation would do to a stock line, before it is done: a read, never a write."""

from dataclasses import dataclass
from decimal import Decimal

from catalog.models import Variant
from warehouses.models import Warehouse

from ..models import ZERO, StockLine


@dataclass(frozen=True)
class Quantities:
    on_hand: Decimal
    reserved: Decimal
    locked: Decimal

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved - self.locked

    @property
    def total(self) -> Decimal:
        return self.on_hand


@dataclass(frozen=True)
class StockPreview:
    variant: Variant
    warehouse: Warehouse
    before: Quantities
    after: Quantities

    @property
    def change(self) -> Decimal:
        return self.after.on_hand - self.before.on_hand

    @property
    def refused(self) -> bool:
        """Available would go (further) below zero where the warehouse forbids it."""
        return (
            not self.warehouse.allow_negative_stock
            and self.after.available < 0
            and self.after.available < self.before.available
        )

    @property
    def shortfall(self) -> Decimal:
        return -self.after.available if self.refused else ZERO


def current_quantities(variant: Variant, warehouse: Warehouse) -> Quantities:
    row = (
        StockLine.objects.filter(variant=variant, warehouse=warehouse)
        .values_list("on_hand", "reserved", "locked")
        .first()
    )
    return Quantities(*row) if row else Quantities(ZERO, ZERO, ZERO)


def stock_preview(
    *,
    variant: Variant,
    warehouse: Warehouse,
    on_hand_change: Decimal = ZERO,
    counted: Decimal | None = None,
    locked_change: Decimal = ZERO,
) -> StockPreview:
    """The line's quantities now and after a change of on hand (or a new counted on hand)
    and/or of the locked quantity."""
    before = current_quantities(variant, warehouse)
    on_hand = counted if counted is not None else before.on_hand + on_hand_change
    after = Quantities(on_hand, before.reserved, before.locked + locked_change)
    return StockPreview(variant=variant, warehouse=warehouse, before=before, after=after)


def quantities_of(variant_ids, warehouse_ids) -> dict[tuple[int, int], Quantities]:
    """Quantities of many lines in one query, by (variant_id, warehouse_id)."""
    rows = StockLine.objects.filter(
        variant_id__in=list(variant_ids), warehouse_id__in=list(warehouse_ids)
    ).values_list("variant_id", "warehouse_id", "on_hand", "reserved", "locked")
    return {(v, w): Quantities(*quantities) for v, w, *quantities in rows}


NOTHING = Quantities(ZERO, ZERO, ZERO)


def _changed(quantities: Quantities, on_hand_change: Decimal) -> Quantities:
    return Quantities(quantities.on_hand + on_hand_change, quantities.reserved, quantities.locked)


@dataclass(frozen=True)
class TransferLinePreview:
    variant: Variant
    quantity: Decimal
    source: StockPreview
    destination: StockPreview


def transfer_preview(
    *, source: Warehouse, destination: Warehouse, lines
) -> list[TransferLinePreview]:
    """Each line of a transfer: the source's and the destination's quantities, before and
    after. One query whatever the number of lines."""
    known = quantities_of([line.variant.pk for line in lines], [source.pk, destination.pk])
    previews = []
    for line in lines:
        quantity = Decimal(line.quantity)
        out = known.get((line.variant.pk, source.pk), NOTHING)
        into = known.get((line.variant.pk, destination.pk), NOTHING)
        previews.append(
            TransferLinePreview(
                variant=line.variant,
                quantity=quantity,
                source=StockPreview(line.variant, source, out, _changed(out, -quantity)),
                destination=StockPreview(line.variant, destination, into, _changed(into, quantity)),
            )
        )
    return previews
