"""What orders hold, proved against the stock ledger; registered with ``verify_ledger``.

For each order line, the reservation, the deduction and the restocked return it records must
equal what the ledger rows written by the order's own stock operations add up to (linked by
``StockEffect.operation``). Closed orders hold nothing, and no stock line has less reserved than
its open orders hold. With inventory's own check (reserved = the sum of the line's hold
changes), every reserved unit of a line is accounted for: held by an open order, or reserved
outside the pipeline by a direct call to the stock services.
"""

import heapq
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import groupby

from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from inventory.models import HoldChange, Movement, MovementReason, StockLine

from .models import OrderLine, Stage, StockEffect

ITERATOR_CHUNK = 5000
ZERO = Decimal(0)
#: Stages at which an order cannot hold a reservation any more.
CLOSED_STAGES = (Stage.DELIVERED, Stage.CANCELLED, Stage.RETURNED, Stage.RETURN_RESTOCKED)


def _q(value) -> str:
    """A quantity as 3 decimals, however the database returned the sum."""
    return f"{Decimal(value):.3f}"


def _order_of_operation():
    return Subquery(
        StockEffect.objects.filter(operation=OuterRef("operation")).values("order_id")[:1]
    )


def _ledger_holds() -> Iterable[dict]:
    return (
        HoldChange.objects.filter(operation__in=StockEffect.objects.values("operation"))
        .annotate(order_id=_order_of_operation())
        .values("order_id", "stock_line__variant_id", "stock_line__warehouse_id")
        .annotate(reserved=Sum("reserved_delta"))
        .order_by("order_id", "stock_line__variant_id", "stock_line__warehouse_id")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )


def _ledger_movements() -> Iterable[dict]:
    return (
        Movement.objects.filter(operation__in=StockEffect.objects.values("operation"))
        .annotate(order_id=_order_of_operation())
        .values("order_id", "stock_line__variant_id", "stock_line__warehouse_id")
        .annotate(
            sold=Coalesce(Sum("quantity", filter=Q(reason=MovementReason.SALE)), ZERO),
            restocked=Coalesce(
                Sum("quantity", filter=Q(reason=MovementReason.RETURN_RESTOCKED)), ZERO
            ),
        )
        .order_by("order_id", "stock_line__variant_id", "stock_line__warehouse_id")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )


def _order_lines() -> Iterable[dict]:
    return (
        OrderLine.objects.values(
            "order_id",
            "variant_id",
            "order__warehouse_id",
            "order__reference",
            "variant__sku",
            "reserved",
            "shipped",
            "restocked",
        )
        .order_by("order_id", "variant_id")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )


def _keyed(rows: Iterable[dict], source: str, variant: str, warehouse: str):
    for row in rows:
        yield (row["order_id"], row[variant], row[warehouse]), source, row


def _line_problems() -> Iterator[str]:
    """Compare each order line with the ledger rows of its order's operations (a merge join of
    three streams sorted by order, variant and warehouse)."""
    streams = heapq.merge(
        _keyed(_order_lines(), "order", "variant_id", "order__warehouse_id"),
        _keyed(_ledger_holds(), "holds", "stock_line__variant_id", "stock_line__warehouse_id"),
        _keyed(_ledger_movements(), "moves", "stock_line__variant_id", "stock_line__warehouse_id"),
        key=lambda item: item[0],
    )
    for key, group in groupby(streams, key=lambda item: item[0]):
        found = {source: row for _, source, row in group}
        line = found.get("order")
        holds = found.get("holds", {"reserved": ZERO})
        moves = found.get("moves", {"sold": ZERO, "restocked": ZERO})
        if line is None:
            yield (
                f"order #{key[0]}: its stock operations touched variant #{key[1]} in warehouse "
                f"#{key[2]}, which is not one of its lines"
            )
            continue
        label = f"order {line['order__reference']} / {line['variant__sku']}"
        if line["reserved"] != holds["reserved"]:
            yield (
                f"{label}: the order holds {_q(line['reserved'])} reserved but its reservations in "
                f"the ledger sum to {_q(holds['reserved'])}"
            )
        if line["shipped"] != -moves["sold"]:
            yield (
                f"{label}: the order shipped {_q(line['shipped'])} but its Sale movements sum to "
                f"{_q(-moves['sold'])}"
            )
        if line["restocked"] != moves["restocked"]:
            yield (
                f"{label}: the order restocked {_q(line['restocked'])} but its Return restocked "
                f"movements sum to {_q(moves['restocked'])}"
            )


def _closed_orders_holding_stock() -> Iterator[str]:
    rows = (
        OrderLine.objects.filter(reserved__gt=0, order__stage__in=CLOSED_STAGES)
        .values_list("order__reference", "order__stage", "variant__sku", "reserved")
        .order_by("order_id", "variant_id")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )
    for reference, stage, sku, reserved in rows:
        yield f"order {reference} / {sku}: {stage} but still holds {_q(reserved)} reserved"


def _lines_reserving_less_than_orders_hold() -> Iterator[str]:
    held = (
        OrderLine.objects.filter(
            variant=OuterRef("variant"), order__warehouse=OuterRef("warehouse"), reserved__gt=0
        )
        .order_by()
        .values("variant")
        .annotate(total=Sum("reserved"))
        .values("total")[:1]
    )
    rows = (
        StockLine.objects.annotate(held=Subquery(held))
        .filter(held__gt=F("reserved"))
        .values_list("variant__sku", "warehouse__code", "reserved", "held")
        .order_by("pk")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )
    for sku, code, reserved, total in rows:
        yield f"{sku} @ {code}: reserved {_q(reserved)} but open orders hold {_q(total)}"


def order_holdings_problems() -> list[str]:
    """The problems ``verify_ledger`` reports for the order pipeline (none when all is well)."""
    return [
        *_line_problems(),
        *_closed_orders_holding_stock(),
        *_lines_reserving_less_than_orders_hold(),
    ]
