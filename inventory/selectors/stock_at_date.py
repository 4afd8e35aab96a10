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

from django.db import connection
from django.db.models import OuterRef, Q, Subquery

from catalog.models import AverageCost, Product, Variant
from core.streaming import stream_rows, streaming_transaction
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
    *, moment: datetime, warehouse_ids: Sequence[int]
) -> Iterator[StockAtDateRow]:
    """Every stock line of these warehouses as it stood at ``moment``, ordered by warehouse
    code then SKU, streamed (a server-side cursor on PostgreSQL)."""
    if not warehouse_ids:
        return iter(())
    if connection.vendor == "postgresql":
        return _postgres_rows(moment, list(warehouse_ids))
    return _portable_rows(moment, list(warehouse_ids), None, None)


def stock_at_date_page(
    *,
    moment: datetime,
    warehouse_ids: Sequence[int],
    after: tuple[str, str] | None = None,
    size: int,
) -> list[StockAtDateRow]:
    """``size`` lines in the same order, after the line ``after`` = (code, sku) if given:
    keyset pages, so that the last page costs what the first one costs."""
    if not warehouse_ids:
        return []
    if connection.vendor == "postgresql":
        return _postgres_page(moment, list(warehouse_ids), after, size)
    return list(_portable_rows(moment, list(warehouse_ids), after, size))


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
    for product, variant, sku, code, balance, cost in stream_rows(rows, chunk_size=FETCH_SIZE):
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


#: The stock lines of the chosen warehouses that existed at %(at)s, with their on-hand quantity
#: then. ``last`` reads the two latest movements before the moment from the covering index
#: (index-only); ``tied`` says they share a time (one operation moved the line twice), and only
#: then is the later one by id looked up in the table.
LINES_SQL = """
SELECT sl.id, sl.warehouse_id, sl.variant_id,
       COALESCE(
           CASE WHEN last.tied THEN (
               SELECT t.balance_after FROM {movement} t
               WHERE t.stock_line_id = sl.id AND t.created_at = last.created_at
               ORDER BY t.id DESC LIMIT 1)
           ELSE last.balance_after END,
           0) AS on_hand
FROM {line} sl
LEFT JOIN LATERAL (
    SELECT r.created_at, r.balance_after,
           r.created_at = lead(r.created_at) OVER (ORDER BY r.created_at DESC) AS tied
    FROM (SELECT m.created_at, m.balance_after FROM {movement} m
          WHERE m.stock_line_id = sl.id AND m.created_at < %(at)s
          ORDER BY m.created_at DESC LIMIT 2) r
    ORDER BY r.created_at DESC LIMIT 1
) last ON true
WHERE {in_warehouses}
  AND (last.created_at IS NOT NULL OR sl.created_at < %(at)s)
"""

#: The average cost of every variant at %(at)s: one index-only probe per variant, which a whole
#: report joins by hash (a variant has a line in several warehouses).
COSTS_SQL = """
SELECT v.id AS variant_id, c.average_cost
FROM {variant} v
CROSS JOIN LATERAL (
    SELECT c.average_cost FROM {cost} c
    WHERE c.variant_id = v.id AND c.effective_at < %(at)s
    ORDER BY c.effective_at DESC, c.id DESC LIMIT 1
) c
"""

#: A whole report (every line, for the CSV; the totals) computes the lines and the costs once
#: each (MATERIALIZED), then joins them. Inlined, they were only as good as the planner's
#: estimates: on tables filled since autovacuum last saw them empty, it nested them under the
#: joins and computed them again for each line or variant (a test's few hundred rows once ran
#: for over 300 s). At a million lines, materializing measured the same (totals 3.2 -> 3.5 s,
#: every row 8.4 -> 7.7 s, within a run's noise).
ALL_ROWS_SQL = """
WITH lines AS MATERIALIZED ({lines}), costs AS MATERIALIZED ({costs})
SELECT p.name, v.name, v.sku, w.code, l.on_hand, c.average_cost
FROM lines l
JOIN {variant} v ON v.id = l.variant_id
JOIN {product} p ON p.id = v.product_id
JOIN {warehouse} w ON w.id = l.warehouse_id
LEFT JOIN costs c ON c.variant_id = l.variant_id
ORDER BY w.code, v.sku
"""

#: One page of lines after (%(after_code)s, %(after_sku)s): the cost is looked up for those only.
PAGE_SQL = """
WITH lines AS ({lines})
SELECT p.name, v.name, v.sku, w.code, l.on_hand, cost.average_cost
FROM lines l
JOIN {variant} v ON v.id = l.variant_id
JOIN {product} p ON p.id = v.product_id
JOIN {warehouse} w ON w.id = l.warehouse_id
LEFT JOIN LATERAL (
    SELECT c.average_cost FROM {cost} c
    WHERE c.variant_id = l.variant_id AND c.effective_at < %(at)s
    ORDER BY c.effective_at DESC, c.id DESC LIMIT 1
) cost ON true
WHERE (w.code, v.sku) > (%(after_code)s, %(after_sku)s)
ORDER BY w.code, v.sku
LIMIT %(limit)s
"""

TOTALS_SQL = """
WITH lines AS MATERIALIZED ({lines}), costs AS MATERIALIZED ({costs})
SELECT w.code, t.lines, t.on_hand, t.value, t.uncosted
FROM (
    SELECT l.warehouse_id, count(*) AS lines,
           COALESCE(sum(l.on_hand), 0) AS on_hand,
           COALESCE(sum(round(l.on_hand * c.average_cost, 2)), 0) AS value,
           count(*) FILTER (WHERE c.average_cost IS NULL AND l.on_hand <> 0) AS uncosted
    FROM lines l LEFT JOIN costs c ON c.variant_id = l.variant_id
    GROUP BY l.warehouse_id
) t
JOIN {warehouse} w ON w.id = t.warehouse_id
ORDER BY w.code
"""


#: The lines' warehouses, when not every warehouse is chosen.
IN_WAREHOUSES = "sl.warehouse_id = ANY(%(warehouses)s)"


def _sql(template: str, *, every_warehouse: bool = False) -> str:
    """``every_warehouse``: no condition on the lines' warehouse. Measured before the lines
    were materialized: over every line, PostgreSQL read them in variant order and merged them
    with the costs (3.0 s at a million lines); under a condition that every line meets, it
    took a hash join instead, which probed the movements out of their order (5.2 s)."""
    tables = _tables()
    in_warehouses = "TRUE" if every_warehouse else IN_WAREHOUSES
    return template.format(
        lines=LINES_SQL.format(in_warehouses=in_warehouses, **tables),
        costs=COSTS_SQL.format(**tables),
        **tables,
    )


def _every_warehouse(warehouse_ids: Sequence[int]) -> bool:
    return set(warehouse_ids) >= set(Warehouse.objects.values_list("pk", flat=True))


def _postgres_page(moment, warehouse_ids, after, size) -> list[StockAtDateRow]:
    code, sku = after or ("", "")
    params = {
        "at": moment,
        "warehouses": warehouse_ids,
        "after_code": code,
        "after_sku": sku,
        "limit": size,
    }
    with connection.cursor() as cursor:
        cursor.execute(_sql(PAGE_SQL), params)
        return [StockAtDateRow(*row) for row in cursor.fetchall()]


def _postgres_rows(moment, warehouse_ids) -> Iterator[StockAtDateRow]:
    # A server-side cursor inside a transaction streams the rows as they are read; outside one,
    # PostgreSQL would materialise the whole result first (WITH HOLD). See core/streaming.py.
    with streaming_transaction(), connection.chunked_cursor() as cursor:
        sql = _sql(ALL_ROWS_SQL, every_warehouse=_every_warehouse(warehouse_ids))
        cursor.execute(sql, {"at": moment, "warehouses": warehouse_ids})
        while batch := cursor.fetchmany(FETCH_SIZE):
            for row in batch:
                yield StockAtDateRow(*row)


def _postgres_totals(moment, warehouse_ids) -> list[WarehouseTotal]:
    with connection.cursor() as cursor:
        sql = _sql(TOTALS_SQL, every_warehouse=_every_warehouse(warehouse_ids))
        cursor.execute(sql, {"at": moment, "warehouses": warehouse_ids})
        return [
            WarehouseTotal(code, lines, on_hand, value, uncosted)
            for code, lines, on_hand, value, uncosted in cursor.fetchall()
        ]
