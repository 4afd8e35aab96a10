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

from django.db import connection
from django.db.models import Exists, F, OuterRef, Subquery, Sum

from core.streaming import stream_rows, streaming_transaction
from inventory.models import HoldChange, Movement, MovementReason, StockLine

from .models import OrderLine, Stage, StockEffect

ITERATOR_CHUNK = 5000
ZERO = Decimal(0)
QUANTUM = Decimal("0.001")
#: Stages at which an order cannot hold a reservation any more.
CLOSED_STAGES = (Stage.DELIVERED, Stage.CANCELLED, Stage.RETURNED, Stage.RETURN_RESTOCKED)


def _q(value) -> str:
    """A quantity as 3 decimals, however the database returned the sum."""
    return f"{Decimal(value):.3f}"


def _quantity(value) -> Decimal:
    # SQLite sums decimals as floats: back to 3 places, as the database stores them.
    return Decimal(str(value or 0)).quantize(QUANTUM)


def _by_order_operation(ledger_model, sums: dict[str, str], params: list) -> Iterator[dict]:
    """Sums (``sums``: name -> SQL) of the ledger rows that each order's own operations
    wrote, per order, variant and warehouse, in that order. The ledger and the stock effects
    are joined on ``operation``, which no foreign key links: one hash join in SQL rather than
    a lookup per ledger row. Streamed (a server-side cursor on PostgreSQL, always: Django's
    chunked cursor ignores DISABLE_SERVER_SIDE_CURSORS), in the caller's transaction."""
    quote = connection.ops.quote_name
    columns = ", ".join(f"{expression} AS {name}" for name, expression in sums.items())
    sql = f"""
        SELECT e.order_id, l.variant_id, l.warehouse_id, {columns}
        FROM {quote(StockEffect._meta.db_table)} e
        JOIN {quote(ledger_model._meta.db_table)} r ON r.operation = e.operation
        JOIN {quote(StockLine._meta.db_table)} l ON l.id = r.stock_line_id
        GROUP BY e.order_id, l.variant_id, l.warehouse_id
        ORDER BY e.order_id, l.variant_id, l.warehouse_id
    """
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(ITERATOR_CHUNK):
            for order_id, variant_id, warehouse_id, *totals in rows:
                row = {"order_id": order_id, "variant_id": variant_id, "warehouse_id": warehouse_id}
                row.update(zip(sums, map(_quantity, totals), strict=True))
                yield row


def _ledger_holds() -> Iterator[dict]:
    return _by_order_operation(HoldChange, {"reserved": "SUM(r.reserved_delta)"}, [])


def _ledger_movements() -> Iterator[dict]:
    return _by_order_operation(
        Movement,
        {
            "sold": "SUM(CASE WHEN r.reason = %s THEN r.quantity ELSE 0 END)",
            "restocked": "SUM(CASE WHEN r.reason = %s THEN r.quantity ELSE 0 END)",
        },
        [MovementReason.SALE.value, MovementReason.RETURN_RESTOCKED.value],
    )


def _order_lines() -> Iterable[dict]:
    return stream_rows(
        OrderLine.objects.values(
            "order_id",
            "variant_id",
            "order__warehouse_id",
            "order__reference",
            "variant__sku",
            "reserved",
            "shipped",
            "restocked",
        ).order_by("order_id", "variant_id"),
        chunk_size=ITERATOR_CHUNK,
    )


def _keyed(rows: Iterable[dict], source: str, variant: str, warehouse: str):
    for row in rows:
        yield (row["order_id"], row[variant], row[warehouse]), source, row


def _line_problems() -> Iterator[str]:
    """Compare each order line with the ledger rows of its order's operations (a merge join of
    three streams sorted by order, variant and warehouse)."""
    streams = heapq.merge(
        _keyed(_order_lines(), "order", "variant_id", "order__warehouse_id"),
        _keyed(_ledger_holds(), "holds", "variant_id", "warehouse_id"),
        _keyed(_ledger_movements(), "moves", "variant_id", "warehouse_id"),
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
    rows = stream_rows(
        OrderLine.objects.filter(reserved__gt=0, order__stage__in=CLOSED_STAGES)
        .values_list("order__reference", "order__stage", "variant__sku", "reserved")
        .order_by("order_id", "variant_id"),
        chunk_size=ITERATOR_CHUNK,
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
    open_lines = OrderLine.objects.filter(
        variant=OuterRef("variant"), order__warehouse=OuterRef("warehouse"), reserved__gt=0
    )
    rows = stream_rows(
        # EXISTS first: a semi-join against the (few) open order lines, not a probe per line.
        StockLine.objects.filter(Exists(open_lines))
        .annotate(held=Subquery(held))
        .filter(held__gt=F("reserved"))
        .values_list("variant__sku", "warehouse__code", "reserved", "held")
        .order_by("pk"),
        chunk_size=ITERATOR_CHUNK,
    )
    for sku, code, reserved, total in rows:
        yield f"{sku} @ {code}: reserved {_q(reserved)} but open orders hold {_q(total)}"


def order_holdings_problems() -> list[str]:
    """The problems ``verify_ledger`` reports for the order pipeline (none when all is well).

    In one transaction (``verify_ledger``'s, when it calls): the merge reads three streams side
    by side."""
    with streaming_transaction():
        return [
            *_line_problems(),
            *_closed_orders_holding_stock(),
            *_lines_reserving_less_than_orders_hold(),
        ]
