"""Supplier receptions: expected receptions (Incoming stock) and goods received.

An open expected reception's lines explain the ``incoming`` quantity of their stock lines: it is
raised when the order is registered, lowered by what each delivery brings (never below what is
still expected of that line), and the rest released when the order is closed. ``incoming``
changes only through the stock writer (``StockBatch.expect``), in the same transaction as the
order's own rows; ``verify_ledger`` checks that the two agree.

Lock order, everywhere: the expected reception's row, then stock lines (by pk), then variants.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from catalog.models import Supplier, Variant
from warehouses.models import Warehouse

from ..ledger import register_check
from ..models import (
    ZERO,
    ExpectedReception,
    ExpectedReceptionLine,
    ExpectedReceptionStatus,
    Movement,
    Reception,
    ReceptionLine,
    StockLine,
)
from . import clock
from .bulk import insert_objects, update_objects
from .errors import MSG_INACTIVE_WAREHOUSE, MSG_NO_LINES, InvalidOperation, StockError
from .stock import StockQuantity, stock_receive
from .validation import clean_quantity, to_decimal
from .writer import StockBatch

MSG_DUPLICATE_SKU = "%(sku)s appears more than once: give each SKU once."
MSG_DUPLICATE_ORDER = "%(supplier)s already has an expected reception with reference %(reference)s."
MSG_ORDER_NOT_OPEN = "Expected reception %(reference)s is %(status)s: nothing more is expected."
MSG_ORDER_ELSEWHERE = "Expected reception %(reference)s is for %(expected)s, not for %(warehouse)s."
MSG_ORDER_OTHER_SUPPLIER = "Expected reception %(reference)s is from %(supplier)s."
MSG_REFERENCE_REQUIRED = "Give the order's reference."
MSG_DELIVERY_NOTE_REQUIRED = "Give the delivery note number."
MSG_NEGATIVE_COST = "A unit cost cannot be negative."
MSG_OVER_RECEPTION = "More than expected: %(lines)s. Confirm to receive it anyway."
MSG_INCOMING_MISMATCH = (
    "%(sku)s @ %(warehouse)s: incoming %(incoming)s but open expected receptions "
    "still expect %(expected)s"
)


class OverReception(StockError):
    """A delivery brings more of some SKU than its order still expects (or one not ordered)."""

    code = "over_reception"

    def __init__(self, excess: dict[str, Decimal]):
        self.excess = excess
        detail = ", ".join(f"{sku} +{quantity:f}" for sku, quantity in excess.items())
        super().__init__(MSG_OVER_RECEPTION % {"lines": detail})


@dataclass(frozen=True)
class ReceivedLine:
    """What a delivery brought of one SKU, with what its order still expected."""

    variant: Variant
    quantity: Decimal
    unit_cost: Decimal | None
    #: None when the SKU is not on the order (or there is no order).
    expected: Decimal | None

    @property
    def difference(self) -> Decimal | None:
        return None if self.expected is None else self.quantity - self.expected


def _clean_lines(lines: Iterable[StockQuantity]) -> list[StockQuantity]:
    cleaned, seen = [], set()
    for line in lines:
        if line.variant.pk in seen:
            raise InvalidOperation(
                MSG_DUPLICATE_SKU % {"sku": line.variant.sku}, code="duplicate_sku"
            )
        seen.add(line.variant.pk)
        cost = None
        if line.unit_cost not in (None, ""):
            cost = to_decimal(line.unit_cost)
            if cost < 0:
                raise InvalidOperation(MSG_NEGATIVE_COST, code="negative_cost")
        cleaned.append(
            StockQuantity(line.variant, clean_quantity(line.quantity, variant=line.variant), cost)
        )
    if not cleaned:
        raise InvalidOperation(MSG_NO_LINES, code="no_lines")
    return cleaned


def _require_active(warehouse: Warehouse) -> None:
    if not warehouse.is_active:
        raise InvalidOperation(
            MSG_INACTIVE_WAREHOUSE % {"warehouse": warehouse.code}, code="inactive_warehouse"
        )


def _change_incoming(warehouse: Warehouse, deltas: dict[Variant, Decimal], *, user) -> None:
    deltas = {variant: delta for variant, delta in deltas.items() if delta}
    if not deltas:
        return
    batch = StockBatch.lock([(variant.pk, warehouse.pk) for variant in deltas], user=user)
    for variant, delta in deltas.items():
        batch.expect(batch.line(variant, warehouse), incoming_delta=delta)
    batch.commit()


def expected_reception_create(
    *,
    supplier: Supplier,
    warehouse: Warehouse,
    reference: str,
    lines: Iterable[StockQuantity],
    expected_on: date | None = None,
    note: str = "",
    user=None,
) -> ExpectedReception:
    """Register goods ordered from a supplier: their quantities become Incoming stock.

    Locks: the stock lines of the ordered variants in ``warehouse``.
    """
    reference = reference.strip()
    if not reference:
        raise InvalidOperation(MSG_REFERENCE_REQUIRED, code="reference_required")
    _require_active(warehouse)
    lines = _clean_lines(lines)
    try:
        with transaction.atomic():
            order = ExpectedReception.objects.create(
                supplier=supplier,
                warehouse=warehouse,
                reference=reference,
                expected_on=expected_on,
                note=note,
                created_by=user,
            )
            insert_objects(
                [
                    ExpectedReceptionLine(
                        expected_reception=order,
                        variant=line.variant,
                        quantity=line.quantity,
                        unit_cost=line.unit_cost,
                    )
                    for line in lines
                ]
            )
            _change_incoming(warehouse, {line.variant: line.quantity for line in lines}, user=user)
    except IntegrityError:
        if ExpectedReception.objects.filter(supplier=supplier, reference=reference).exists():
            raise InvalidOperation(
                MSG_DUPLICATE_ORDER % {"supplier": supplier.name, "reference": reference},
                code="duplicate_reference",
            ) from None
        raise
    return order


def _lock_open_order(order: ExpectedReception) -> ExpectedReception:
    order = (
        ExpectedReception.objects.select_for_update(of=("self",))
        .select_related("supplier", "warehouse")
        .get(pk=order.pk)
    )
    if not order.is_open:
        raise InvalidOperation(
            MSG_ORDER_NOT_OPEN
            % {"reference": order.reference, "status": order.get_status_display().lower()},
            code="order_not_open",
        )
    return order


def expected_reception_close(*, expected_reception: ExpectedReception, user=None):
    """Close an order by hand: what has not arrived is no longer expected (nor Incoming).

    Locks: the expected reception, then its stock lines.
    """
    with transaction.atomic():
        order = _lock_open_order(expected_reception)
        order_lines = list(order.lines.select_related("variant"))
        _change_incoming(
            order.warehouse, {line.variant: -line.outstanding for line in order_lines}, user=user
        )
        order.status = ExpectedReceptionStatus.CLOSED
        order.closed_at = clock.now()
        order.save(update_fields=["status", "closed_at"])
    return order


def reception_preview(
    *, lines: Sequence[StockQuantity], expected_reception: ExpectedReception | None
) -> list[ReceivedLine]:
    """Received against expected, per line (a read: nothing is locked or written). A line
    without a unit cost takes the order's, when the order gives one."""
    ordered = {}
    if expected_reception is not None:
        ordered = {line.variant_id: line for line in expected_reception.lines.all()}
    received = []
    for line in lines:
        order_line = ordered.get(line.variant.pk)
        cost = line.unit_cost
        if cost is None and order_line is not None:
            cost = order_line.unit_cost
        received.append(
            ReceivedLine(
                variant=line.variant,
                quantity=to_decimal(line.quantity),
                unit_cost=cost,
                expected=order_line.outstanding if order_line is not None else None,
            )
        )
    return received


def _over_received(received: list[ReceivedLine]) -> dict[str, Decimal]:
    return {
        line.variant.sku: line.quantity - (line.expected or ZERO)
        for line in received
        if line.expected is None or line.quantity > line.expected
    }


def reception_receive(
    *,
    warehouse: Warehouse,
    supplier: Supplier,
    delivery_note: str,
    lines: Iterable[StockQuantity],
    expected_reception: ExpectedReception | None = None,
    accept_over_reception: bool = False,
    note: str = "",
    user=None,
) -> Reception:
    """Enter a supplier's delivery: every line in one transaction, or none.

    Against an order, each line lowers what the order still expects (and Incoming) by what it
    brings, never below zero; a delivery that brings more than expected, or a SKU that was not
    ordered, is refused unless ``accept_over_reception``. The order is Received once nothing
    more is expected. Movements: one Entry per line, reason Supplier reception, reference
    "<supplier> / <delivery note>", with the line's unit cost (the order's when the line
    gives none).

    Locks: the expected reception, then the stock lines (``stock_receive``), then variants.
    """
    delivery_note = delivery_note.strip()
    if not delivery_note:
        raise InvalidOperation(MSG_DELIVERY_NOTE_REQUIRED, code="delivery_note_required")
    lines = _clean_lines(lines)
    reference = reception_reference(supplier, delivery_note)
    with transaction.atomic():
        order = None
        if expected_reception is not None:
            order = _lock_open_order(expected_reception)
            _check_order_matches(order, warehouse=warehouse, supplier=supplier)
        received = reception_preview(lines=lines, expected_reception=order)
        if order is not None and not accept_over_reception:
            excess = _over_received(received)
            if excess:
                raise OverReception(excess)
        movements = stock_receive(
            warehouse=warehouse,
            lines=[StockQuantity(line.variant, line.quantity, line.unit_cost) for line in received],
            user=user,
            reference=reference,
            note=note,
        )
        reception = Reception.objects.create(
            supplier=supplier,
            warehouse=warehouse,
            delivery_note=delivery_note,
            expected_reception=order,
            reference=reference,
            note=note,
            received_at=movements[0].created_at,
            received_by=user,
            operation=movements[0].operation,
        )
        insert_objects(
            [
                ReceptionLine(
                    reception=reception,
                    variant=line.variant,
                    quantity=line.quantity,
                    unit_cost=line.unit_cost,
                    ordered=line.expected,
                )
                for line in received
            ]
        )
        if order is not None:
            _record_on_order(order, received, user=user)
    return reception


def reception_reference(supplier: Supplier, delivery_note: str) -> str:
    """ "<supplier> / <delivery note>", shortening a long supplier name (never the note) to
    fit the movement's reference."""
    limit = Movement._meta.get_field("reference").max_length
    room = limit - len(" / ") - len(delivery_note)
    name = supplier.name if len(supplier.name) <= room else supplier.name[: room - 1] + "…"
    return f"{name} / {delivery_note}"


def _check_order_matches(order: ExpectedReception, *, warehouse, supplier) -> None:
    if order.warehouse_id != warehouse.pk:
        raise InvalidOperation(
            MSG_ORDER_ELSEWHERE
            % {
                "reference": order.reference,
                "expected": order.warehouse.code,
                "warehouse": warehouse.code,
            },
            code="order_other_warehouse",
        )
    if order.supplier_id != supplier.pk:
        raise InvalidOperation(
            MSG_ORDER_OTHER_SUPPLIER
            % {"reference": order.reference, "supplier": order.supplier.name},
            code="order_other_supplier",
        )


def _record_on_order(order: ExpectedReception, received: list[ReceivedLine], *, user) -> None:
    order_lines = {line.variant_id: line for line in order.lines.all()}
    changed, incoming = [], {}
    for line in received:
        order_line = order_lines.get(line.variant.pk)
        if order_line is None:
            continue
        incoming[line.variant] = -min(line.quantity, order_line.outstanding)
        order_line.received += line.quantity
        changed.append(order_line)
    update_objects(changed, ["received"])
    _change_incoming(order.warehouse, incoming, user=user)
    if all(line.outstanding == 0 for line in order_lines.values()):
        order.status = ExpectedReceptionStatus.RECEIVED
        order.closed_at = clock.now()
        order.save(update_fields=["status", "closed_at"])


@register_check
def incoming_matches_open_expected_receptions() -> list[str]:
    """Every line's incoming equals what the open expected receptions still expect of it."""
    expected = {
        (row["variant_id"], row["expected_reception__warehouse_id"]): row["total"]
        for row in ExpectedReceptionLine.objects.filter(
            expected_reception__status=ExpectedReceptionStatus.OPEN, quantity__gt=F("received")
        )
        .values("variant_id", "expected_reception__warehouse_id")
        .annotate(total=Sum(F("quantity") - F("received")))
        .order_by()
    }
    problems = []
    lines = StockLine.objects.exclude(incoming=0).values_list(
        "variant_id", "warehouse_id", "incoming", "variant__sku", "warehouse__code"
    )
    seen = set()
    for variant_id, warehouse_id, incoming, sku, code in lines.order_by("pk"):
        seen.add((variant_id, warehouse_id))
        total = expected.get((variant_id, warehouse_id), ZERO)
        if incoming != total:
            problems.append(_mismatch(sku, code, incoming, total))
    missing = [key for key in expected if key not in seen]
    if missing:
        # Expected, but the line's incoming is 0 (or it has no line at all).
        skus = dict(Variant.objects.filter(pk__in=[v for v, _ in missing]).values_list("pk", "sku"))
        codes = dict(Warehouse.objects.values_list("pk", "code"))
        for variant_id, warehouse_id in missing:
            total = expected[(variant_id, warehouse_id)]
            problems.append(_mismatch(skus[variant_id], codes[warehouse_id], ZERO, total))
    return problems


def _mismatch(sku, code, incoming, expected) -> str:
    return MSG_INCOMING_MISMATCH % {
        "sku": sku,
        "warehouse": code,
        "incoming": f"{incoming:f}",
        "expected": f"{Decimal(expected):.3f}",
    }
