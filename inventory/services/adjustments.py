"""Adjustments as staff make them: a signed quantity, or the quantity counted on the shelf,
for a built-in or a merchant's reason, with a note saying what happened."""

from django.db import transaction

from catalog.models import Variant
from warehouses.models import Warehouse

from ..models import Movement, MovementType
from .errors import InvalidOperation
from .reasons import adjustment_reason_resolve
from .stock import stock_adjust
from .validation import clean_quantity
from .writer import StockBatch

MSG_NOTE_REQUIRED = "Say what happened: a note is required for an adjustment."
MSG_QUANTITY_OR_COUNTED = "Give either a quantity to add or remove, or the counted quantity."
MSG_NO_CHANGE = "%(sku)s in %(warehouse)s is already at %(on_hand)s: nothing to change."


def adjustment_apply(
    *,
    variant: Variant,
    warehouse: Warehouse,
    reason: str,
    note: str,
    quantity=None,
    counted=None,
    reference: str = "",
    user=None,
) -> Movement:
    """Adjust a line by ``quantity`` (signed), or set it to ``counted``; one Adjustment
    movement. ``reason`` is a value of ``adjustment_reason_choices()``.

    With ``counted``, the change is computed under the line's lock, so a sale shipped while
    the form was open is not undone. Locks: the variant's stock line in ``warehouse``.
    """
    resolved = adjustment_reason_resolve(reason)
    note = (note or "").strip()
    if not note:
        raise InvalidOperation(MSG_NOTE_REQUIRED, code="note_required")
    if (quantity is None) == (counted is None):
        raise InvalidOperation(MSG_QUANTITY_OR_COUNTED, code="quantity_or_counted")
    if quantity is not None:
        return stock_adjust(
            variant=variant,
            warehouse=warehouse,
            quantity=quantity,
            reason=resolved.ledger_reason,
            note=resolved.note(note),
            reference=reference,
            user=user,
        )
    counted = clean_quantity(counted, variant=variant, sign="non_negative")
    with transaction.atomic():
        batch = StockBatch.lock([(variant.pk, warehouse.pk)], user=user)
        line = batch.line(variant, warehouse)
        change = counted - line.on_hand
        if not change:
            raise InvalidOperation(
                MSG_NO_CHANGE
                % {"sku": variant.sku, "warehouse": warehouse.code, "on_hand": f"{counted:f}"},
                code="no_change",
            )
        movement = batch.move(
            line,
            type=MovementType.ADJUSTMENT,
            reason=resolved.ledger_reason,
            quantity=change,
            reference=reference,
            note=resolved.note(note),
        )
        batch.commit()
    return movement
