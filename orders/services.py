"""Every write of the order pipeline. Each function is atomic: an order's stage change and its
effect on stock (through ``inventory.services``) are committed together or not at all.

Locks: the order's row first (``SELECT ... FOR UPDATE``, or the unique reference of a new
order), then its stock lines, which the stock services lock in primary-key order. Nothing locks
them the other way round, so concurrent orders queue instead of deadlocking.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import Variant
from inventory.services import (
    StockQuantity,
    stock_release,
    stock_reserve,
    stock_restock_return,
    stock_ship,
)
from inventory.services.clock import now as clock_now
from inventory.services.validation import clean_quantity
from warehouses.models import Warehouse

from .errors import (
    MSG_DUPLICATE_SKU,
    MSG_INACTIVE_WAREHOUSE,
    MSG_NO_LINES,
    MSG_NOT_A_CREATION_STAGE,
    MSG_REFERENCE_CONFLICT,
    MSG_TOO_MANY_LINES,
    MSG_UNKNOWN_STAGE,
    InvalidOrder,
    ReferenceConflict,
)
from .models import (
    Order,
    OrderLine,
    OrderStageChange,
    PipelineSettings,
    Stage,
    StockEffect,
    StockEffectKind,
    reference_validator,
)
from .pipeline import CREATION_STAGES, OrderState, plan_stage_change

#: Beyond this an order is refused: one request must stay one short transaction.
MAX_LINES = 500


@dataclass(frozen=True)
class OrderLineInput:
    variant: Variant
    quantity: Decimal | int | str


def _clean_reference(reference: str) -> str:
    try:
        reference_validator(reference)
    except ValidationError as error:
        raise InvalidOrder(error.messages[0], code="invalid_reference") from None
    return reference


def _clean_lines(lines: Sequence[OrderLineInput]) -> list[OrderLineInput]:
    if not lines:
        raise InvalidOrder(MSG_NO_LINES, code="no_lines")
    if len(lines) > MAX_LINES:
        raise InvalidOrder(MSG_TOO_MANY_LINES % {"max": MAX_LINES}, code="too_many_lines")
    seen: set[int] = set()
    cleaned = []
    for line in lines:
        if line.variant.pk in seen:
            raise InvalidOrder(MSG_DUPLICATE_SKU % {"sku": line.variant.sku}, code="duplicate_sku")
        seen.add(line.variant.pk)
        cleaned.append(
            OrderLineInput(line.variant, clean_quantity(line.quantity, variant=line.variant))
        )
    return cleaned


def order_fingerprint(*, warehouse: Warehouse, lines: Sequence[OrderLineInput], stage: str) -> str:
    """What identifies an order's content, whatever the order of its lines or how its
    quantities are written ("2", 2, "2.000")."""
    content = {
        "warehouse": warehouse.pk,
        "stage": stage,
        "lines": sorted([line.variant.pk, f"{Decimal(line.quantity):.3f}"] for line in lines),
    }
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()


def _existing(reference: str, fingerprint: str) -> Order | None:
    """The order already stored under ``reference``, if its content is the same."""
    order = Order.objects.select_related("warehouse").filter(reference=reference).first()
    if order is not None and order.fingerprint != fingerprint:
        raise ReferenceConflict(MSG_REFERENCE_CONFLICT % {"reference": reference})
    return order


def order_create(
    *,
    reference: str,
    warehouse: Warehouse,
    lines: Sequence[OrderLineInput],
    stage: str = Stage.NEW,
    user=None,
    api_token: str = "",
) -> tuple[Order, bool]:
    """Store an order and apply the stock effects of every stage up to ``stage``; return
    ``(order, created)``.

    Idempotent: the same reference with the same content returns the stored order unchanged
    (``created`` is False), even when both requests arrive at once; with other content it
    raises ``ReferenceConflict``. An order whose lines cannot all be reserved raises the stock
    services' ``InsufficientStock`` and is not stored at all, so the shop can post it again
    once there is stock.

    Locks: the new reference (a concurrent request for it waits), then the order's stock lines.
    """
    reference = _clean_reference(reference)
    if stage not in CREATION_STAGES:
        raise InvalidOrder(
            MSG_NOT_A_CREATION_STAGE
            % {"stages": ", ".join(str(s) for s in CREATION_STAGES), "stage": stage},
            code="invalid_stage",
        )
    lines = _clean_lines(lines)
    fingerprint = order_fingerprint(warehouse=warehouse, lines=lines, stage=stage)
    existing = _existing(reference, fingerprint)
    if existing is not None:
        return existing, False
    if not warehouse.is_active:
        raise InvalidOrder(
            MSG_INACTIVE_WAREHOUSE % {"warehouse": warehouse.code}, code="inactive_warehouse"
        )
    try:
        with transaction.atomic():
            moment = clock_now()
            order = Order.objects.create(
                reference=reference,
                warehouse=warehouse,
                stage=Stage.NEW,
                fingerprint=fingerprint,
                created_at=moment,
                stage_changed_at=moment,
                created_by=user,
            )
            order_lines = OrderLine.objects.bulk_create(
                [
                    OrderLine(order=order, variant=line.variant, quantity=line.quantity)
                    for line in lines
                ]
            )
            _move(order, order_lines, stage, user=user, api_token=api_token, created_at=moment)
    except IntegrityError:
        # Another request stored the same reference first: same content, same answer.
        existing = _existing(reference, fingerprint)
        if existing is None:
            raise
        return existing, False
    return order, True


def order_set_stage(
    *, order: Order, stage: str, user=None, api_token: str = ""
) -> tuple[Order, bool]:
    """Move ``order`` to ``stage`` with its effect on stock; return ``(order, changed)``.

    Repeating the current stage changes nothing (``changed`` is False). An impossible change
    raises ``IllegalStageChange``; a reservation that does not fit raises ``InsufficientStock``
    and leaves the order as it was.

    Locks: the order's row, then its stock lines.
    """
    if stage not in Stage.values:
        raise InvalidOrder(
            MSG_UNKNOWN_STAGE % {"stage": stage, "stages": ", ".join(Stage.values)},
            code="unknown_stage",
        )
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("warehouse")
            .get(pk=order.pk)
        )
        if order.stage == stage:
            return order, False
        lines = list(order.lines.select_related("variant").order_by("pk"))
        _move(order, lines, stage, user=user, api_token=api_token)
    return order, True


def _move(
    order: Order,
    lines: list[OrderLine],
    target: str,
    *,
    user,
    api_token: str,
    created_at=None,
) -> None:
    """Apply the plan of moving the (locked) ``order`` to ``target`` and record it.

    ``created_at``: the order is being created at that moment (its history starts there)."""
    creation = created_at is not None
    effects: list[tuple[str, object]] = []
    if creation or target != order.stage:
        state = OrderState(
            stage="" if creation else order.stage,
            reserved=any(line.reserved for line in lines),
            deducted=any(line.shipped for line in lines),
            restocked=any(line.restocked for line in lines),
        )
        plan = plan_stage_change(
            reference=order.reference, state=state, target=target, config=PipelineSettings.load()
        )
        effects = _apply(order, lines, plan, user=user)
        OrderLine.objects.bulk_update(lines, ["reserved", "shipped", "restocked"])
    moment = created_at or clock_now()
    change = OrderStageChange.objects.create(
        order=order,
        created_at=moment,
        from_stage="" if creation else order.stage,
        to_stage=target,
        user=user,
        api_token=api_token,
    )
    StockEffect.objects.bulk_create(
        StockEffect(stage_change=change, order=order, kind=kind, operation=operation)
        for kind, operation in effects
    )
    if target != order.stage:
        order.stage = target
        order.stage_changed_at = moment
        order.save(update_fields=["stage", "stage_changed_at"])


def _apply(order: Order, lines: list[OrderLine], plan, *, user) -> list[tuple[str, object]]:
    """Call the stock services the plan asks for, in order; update the lines' quantities."""
    warehouse, reference = order.warehouse, order.reference
    effects = []
    if plan.reserve:
        changes = stock_reserve(
            warehouse=warehouse,
            lines=[StockQuantity(line.variant, line.quantity) for line in lines],
            reference=reference,
            user=user,
        )
        effects.append((StockEffectKind.RESERVE, changes[0].operation))
        for line in lines:
            line.reserved = line.quantity
    if plan.deduct:
        movements = stock_ship(
            warehouse=warehouse,
            lines=[StockQuantity(line.variant, line.reserved) for line in lines],
            reference=reference,
            user=user,
        )
        effects.append((StockEffectKind.DEDUCT, movements[0].operation))
        for line in lines:
            line.shipped += line.reserved
            line.reserved = 0
    if plan.release:
        changes = stock_release(
            warehouse=warehouse,
            lines=[StockQuantity(line.variant, line.reserved) for line in lines],
            reference=reference,
            user=user,
        )
        effects.append((StockEffectKind.RELEASE, changes[0].operation))
        for line in lines:
            line.reserved = 0
    if plan.restock:
        movements = stock_restock_return(
            warehouse=warehouse,
            lines=[StockQuantity(line.variant, line.shipped - line.restocked) for line in lines],
            reference=reference,
            note=f"Return of order {reference}",
            user=user,
        )
        effects.append((StockEffectKind.RESTOCK, movements[0].operation))
        for line in lines:
            line.restocked = line.shipped
    return effects
