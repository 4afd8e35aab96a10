"""Stock as it stood at a past moment T, valued at the average cost of that moment.

A stock line's on-hand quantity at T is the ``balance_after`` of its last movement written
strictly before T (``at=2026-01-01T00:00`` gives the closing stock of 2025); its unit cost is
its variant's average cost as of T (``selectors.valuation``). A line "existed then" when it had
a movement before T or was created before T; the others are left out.

On PostgreSQL each line costs one index-only probe of ``inventory_mv_line_created``
(stock_line, created_at) INCLUDE (balance_after), through a LATERAL join that reads the two
latest movements before T: when both have the same time (one operation can move a line twice),
the later one by id decides, which only then needs the table itself. Elsewhere (the SQLite demo)
a portable correlated subquery does the same.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery

from catalog.models import AverageCost, Product, Variant
from warehouses.models import Warehouse

from ..models import Movement, StockLine
from .valuation import COST_QUANTUM, cost_as_of, stock_value

ZERO = Decimal(0)
QUANTITY_QUANTUM = Decimal("0.001")
NO_QUANTITY = Decimal("0.000")
NO_VALUE = Decimal("0.00")
FETCH_SIZE = 2000


@dataclass(frozen=True)
class StockAtDateRow:
    product: str
    variant: str
    sku: str
    warehouse: str
    on_hand: Decimal
    #: The variant's average cost at that moment; None before its first costed reception.
    unit_cost: Decimal | None

    @property
    def value(self) -> Decimal | None:
        return stock_value(self.on_hand, self.unit_cost)


@dataclass
class WarehouseTotal:
    code: str
    lines: int = 0
    on_hand: Decimal = NO_QUANTITY
    #: The sum of the lines' values, each rounded to the cent.
    value: Decimal = NO_VALUE
    #: Lines with stock but no cost: their quantity is in ``on_hand``, not in ``value``.
    uncosted: int = 0


@dataclass
class TotalsAccumulator:
    """Per-warehouse totals of rows as they stream past, in warehouse-code order."""

    by_code: dict[str, WarehouseTotal] = field(default_factory=dict)

    def add(self, row: StockAtDateRow) -> None:
        total = self.by_code.setdefault(row.warehouse, WarehouseTotal(row.warehouse))
        total.lines += 1
        total.on_hand += row.on_hand
        value = row.value
        if value is None:
            total.uncosted += 1 if row.on_hand else 0
        else:
            total.value += value

    @property
    def totals(self) -> list[WarehouseTotal]:
        return [self.by_code[code] for code in sorted(self.by_code)]


def grand_total(totals: Sequence[WarehouseTotal]) -> WarehouseTotal:
    return WarehouseTotal(
        code="",
        lines=sum(t.lines for t in totals),
        on_hand=sum((t.on_hand for t in totals), NO_QUANTITY),
        value=sum((t.value for t in totals), NO_VALUE),
        uncosted=sum(t.uncosted for t in totals),
    )


def stock_at_date_rows(
    *,
    moment: datetime,
    warehouse_ids: Sequence[int],
    after: tuple[str, str] | None = None,
    limit: int | None = None,
) -> Iterator[StockAtDateRow]:
    """The stock lines of these warehouses as they stood at ``moment``, ordered by warehouse
    code then SKU; ``after`` = (code, sku) starts after that line (keyset pagination)."""
    if not warehouse_ids:
        return iter(())
    if connection.vendor == "postgresql":
        return _postgres_rows(moment, list(warehouse_ids), after, limit)
    return _portable_rows(moment, list(warehouse_ids), after, limit)


def stock_at_date_totals(*, moment: datetime, warehouse_ids: Sequence[int]) -> list[WarehouseTotal]:
    """Per-warehouse totals at ``moment`` over every line (not a page), in code order."""
    if not warehouse_ids:
        return []
    if connection.vendor == "postgresql":
        return _postgres_totals(moment, list(warehouse_ids))
    accumulator = TotalsAccumulator()
    for row in _portable_rows(moment, list(warehouse_ids), None, None):
        accumulator.add(row)
    return accumulator.totals


# --- Portable: correlated subqueries through the ORM --------------------------------------


def _portable_queryset(moment, warehouse_ids, after, limit):
    last = Movement.objects.filter(stock_line=OuterRef("pk"), created_at__lt=moment).order_by(
        "-created_at", "-id"
    )
    lines = (
        StockLine.objects.filter(warehouse_id__in=warehouse_ids)
        .annotate(
            balance=Subquery(last.values("balance_after")[:1]),
            cost=cost_as_of(OuterRef("variant_id"), moment),
        )
        .filter(Q(balance__isnull=False) | Q(created_at__lt=moment))
    )
    if after is not None:
        code, sku = after
        lines = lines.filter(
            Q(warehouse__code__gt=code) | Q(warehouse__code=code, variant__sku__gt=sku)
        )
    lines = lines.order_by("warehouse__code", "variant__sku").values_list(
        "variant__product__name",
        "variant__name",
        "variant__sku",
        "warehouse__code",
        "balance",
        "cost",
    )
    return lines[:limit] if limit is not None else lines


def _portable_rows(moment, warehouse_ids, after, limit) -> Iterator[StockAtDateRow]:
    rows = _portable_queryset(moment, warehouse_ids, after, limit)
    for product, variant, sku, code, balance, cost in rows.iterator(chunk_size=FETCH_SIZE):
        # SQLite hands subquery decimals back unscaled (41, 2.50000000000): scale them as
        # PostgreSQL returns them.
        yield StockAtDateRow(
            product,
            variant,
            sku,
            code,
            (balance or ZERO).quantize(QUANTITY_QUANTUM),
            None if cost is None else cost.quantize(COST_QUANTUM),
        )


# --- PostgreSQL: LATERAL joins with index-only probes ---------------------------------------


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "line": quote(StockLine._meta.db_table),
        "movement": quote(Movement._meta.db_table),
        "variant": quote(Variant._meta.db_table),
        "product": quote(Product._meta.db_table),
        "warehouse": quote(Warehouse._meta.db_table),
        "cost": quote(AverageCost._meta.db_table),
    }


#: One row per stock line that existed at %(at)s. ``last`` reads the two latest movements
#: before the moment from the covering index; ``tied`` says they share a time, in which case
#: the later by id is looked up.
LINES_AT_SQL = """
SELECT p.name AS product, v.name AS variant, v.sku AS sku, w.code AS warehouse,
       COALESCE(
           CASE WHEN last.tied THEN (
               SELECT t.balance_after FROM {movement} t
               WHERE t.stock_line_id = sl.id AND t.created_at = last.created_at
               ORDER BY t.id DESC LIMIT 1)
           ELSE last.balance_after END,
           0) AS on_hand,
       cost.average_cost AS unit_cost
FROM {line} sl
JOIN {warehouse} w ON w.id = sl.warehouse_id
JOIN {variant} v ON v.id = sl.variant_id
JOIN {product} p ON p.id = v.product_id
CROSS JOIN LATERAL (
    SELECT max(r.created_at) AS created_at,
           (array_agg(r.balance_after ORDER BY r.created_at DESC))[1] AS balance_after,
           count(*) = 2 AND min(r.created_at) = max(r.created_at) AS tied
    FROM (SELECT m.created_at, m.balance_after FROM {movement} m
          WHERE m.stock_line_id = sl.id AND m.created_at < %(at)s
          ORDER BY m.created_at DESC LIMIT 2) r
) last
LEFT JOIN LATERAL (
    SELECT c.average_cost FROM {cost} c
    WHERE c.variant_id = sl.variant_id AND c.effective_at < %(at)s
    ORDER BY c.effective_at DESC, c.id DESC LIMIT 1
) cost ON true
WHERE sl.warehouse_id = ANY(%(warehouses)s)
  AND (last.created_at IS NOT NULL OR sl.created_at < %(at)s)
"""

TOTALS_SQL = """
SELECT warehouse, count(*), COALESCE(sum(on_hand), 0),
       COALESCE(sum(round(on_hand * unit_cost, 2)), 0),
       count(*) FILTER (WHERE unit_cost IS NULL AND on_hand <> 0)
FROM ({lines}) lines
GROUP BY warehouse
ORDER BY warehouse
"""


def _postgres_query(moment, warehouse_ids, after, limit, *, ordered=True) -> tuple[str, dict]:
    sql = LINES_AT_SQL.format(**_tables())
    params: dict = {"at": moment, "warehouses": warehouse_ids}
    if after is not None:
        sql += "  AND (w.code, v.sku) > (%(after_code)s, %(after_sku)s)\n"
        params.update(after_code=after[0], after_sku=after[1])
    if ordered:
        sql += "ORDER BY w.code, v.sku\n"
    if limit is not None:
        sql += "LIMIT %(limit)s\n"
        params["limit"] = limit
    return sql, params


def _postgres_rows(moment, warehouse_ids, after, limit) -> Iterator[StockAtDateRow]:
    sql, params = _postgres_query(moment, warehouse_ids, after, limit)
    if limit is not None:  # a page: one plain query
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        yield from (StockAtDateRow(*row) for row in rows)
        return
    # A server-side cursor inside a transaction streams the rows as they are read; outside one,
    # PostgreSQL would materialise the whole result first (WITH HOLD).
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_SIZE):
            for row in batch:
                yield StockAtDateRow(*row)


def _postgres_totals(moment, warehouse_ids) -> list[WarehouseTotal]:
    lines, params = _postgres_query(moment, warehouse_ids, None, None, ordered=False)
    with connection.cursor() as cursor:
        cursor.execute(TOTALS_SQL.format(lines=lines), params)
        return [
            WarehouseTotal(code, lines, on_hand, value, uncosted)
            for code, lines, on_hand, value, uncosted in cursor.fetchall()
        ]
