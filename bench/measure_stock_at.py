"""Figure 5: stock at a date a year back over every stock line, through the stock-at-date
selector (``inventory.selectors.stock_at_date``), beside the best raw SQL.

Two figures: the per-warehouse totals (quantity and value: what the page shows over all lines)
and every line's row streamed out (what the CSV writes). The floor is the fastest of the raw
queries below that give the right answer even when two movements of a line share a time (one
operation can move a line twice); the index-only query that ignores such ties is reported
beside them as the lower bound.
"""

from datetime import timedelta

from django.utils import timezone

from .context import Bench
from .report import AT_MOST, Figure, interleave

#: The last movement before the moment: the later by id on a tie (reads the table).
BY_ID = """LEFT JOIN LATERAL (
    SELECT m.balance_after FROM inventory_movement m
    WHERE m.stock_line_id = sl.id AND m.created_at < %(at)s
    ORDER BY m.created_at DESC, m.id DESC LIMIT 1) b ON true"""
#: The two latest from the covering index; the table only when they share a time.
TWO_LATEST = """LEFT JOIN LATERAL (
    SELECT CASE WHEN count(*) = 2 AND min(r.created_at) = max(r.created_at)
                THEN (SELECT t.balance_after FROM inventory_movement t
                      WHERE t.stock_line_id = sl.id AND t.created_at = max(r.created_at)
                      ORDER BY t.id DESC LIMIT 1)
                ELSE (array_agg(r.balance_after ORDER BY r.created_at DESC))[1] END
           AS balance_after
    FROM (SELECT m.created_at, m.balance_after FROM inventory_movement m
          WHERE m.stock_line_id = sl.id AND m.created_at < %(at)s
          ORDER BY m.created_at DESC LIMIT 2) r) b ON true"""
#: Index-only, but wrong when the last two movements before the moment share a time.
IGNORING_TIES = """LEFT JOIN LATERAL (
    SELECT m.balance_after FROM inventory_movement m
    WHERE m.stock_line_id = sl.id AND m.created_at < %(at)s
    ORDER BY m.created_at DESC LIMIT 1) b ON true"""
COST = """LEFT JOIN LATERAL (
    SELECT c.average_cost FROM catalog_averagecost c
    WHERE c.variant_id = sl.variant_id AND c.effective_at < %(at)s
    ORDER BY c.effective_at DESC, c.id DESC LIMIT 1) c ON true"""

TOTALS_SQL = """SELECT w.code, count(*), COALESCE(sum(COALESCE(b.balance_after, 0)), 0),
       COALESCE(sum(round(COALESCE(b.balance_after, 0) * c.average_cost, 2)), 0),
       count(*) FILTER (WHERE c.average_cost IS NULL AND COALESCE(b.balance_after, 0) <> 0)
FROM inventory_stockline sl JOIN warehouses_warehouse w ON w.id = sl.warehouse_id
{latest}
{cost}
WHERE b.balance_after IS NOT NULL OR sl.created_at < %(at)s
GROUP BY w.code ORDER BY w.code"""

ROWS_SQL = """SELECT p.name, v.name, v.sku, w.code, COALESCE(b.balance_after, 0), c.average_cost
FROM inventory_stockline sl
JOIN warehouses_warehouse w ON w.id = sl.warehouse_id
JOIN catalog_variant v ON v.id = sl.variant_id
JOIN catalog_product p ON p.id = v.product_id
{latest}
{cost}
WHERE b.balance_after IS NOT NULL OR sl.created_at < %(at)s
ORDER BY w.code, v.sku"""

CANDIDATES = {"by_id": BY_ID, "two_latest": TWO_LATEST}
FETCH_SIZE = 2000


def _raw_totals(bench: Bench, latest: str, moment):
    return bench.sql(TOTALS_SQL.format(latest=latest, cost=COST), {"at": moment})


def _raw_rows(bench: Bench, latest: str, moment) -> int:
    count = 0
    with bench.raw.transaction(), bench.raw.cursor(name="stock_at_rows") as cursor:
        cursor.itersize = FETCH_SIZE
        cursor.execute(ROWS_SQL.format(latest=latest, cost=COST), {"at": moment})
        for _ in cursor:
            count += 1
    return count


def measure(bench: Bench) -> None:
    from inventory.selectors.stock_at_date import stock_at_date_rows, stock_at_date_totals
    from warehouses.models import Warehouse

    scale = bench.scale
    runs, warmups = scale.slow_runs, 1
    moment = timezone.now() - timedelta(days=365)
    warehouse_ids = list(Warehouse.objects.values_list("pk", flat=True))

    timed = interleave(
        {
            "selector": lambda: stock_at_date_totals(moment=moment, warehouse_ids=warehouse_ids),
            **{
                name: lambda sql=latest: _raw_totals(bench, sql, moment)
                for name, latest in {**CANDIDATES, "ignoring_ties": IGNORING_TIES}.items()
            },
        },
        runs=runs,
        warmups=warmups,
    )
    totals_timing, totals = timed.pop("selector")
    raw_totals = timed
    best = min(CANDIDATES, key=lambda name: raw_totals[name][0].median)
    expected = raw_totals[best][1]
    same = [(t.code, t.lines, t.on_hand, t.value, t.uncosted) for t in totals] == [
        tuple(row) for row in expected
    ]
    floor = raw_totals[best][0].median
    bench.add(
        Figure(
            key="stock_at.totals",
            label="Stock a year back, totals over all lines",
            unit="ms",
            stockroom=totals_timing.median * 1000,
            floor=floor * 1000,
            ratio=totals_timing.median / floor,
            target=(AT_MOST, 1.5),
            details={
                "selector": "inventory.selectors.stock_at_date.stock_at_date_totals",
                "moment": moment.isoformat(),
                "raw_ms": {name: t.median * 1000 for name, (t, _) in raw_totals.items()},
                "floor_query": best,
                "same_totals": same,
            },
            fails=[] if same else ["the selector's totals differ from the raw SQL's"],
        )
    )

    def selector_rows() -> int:
        return sum(1 for _ in stock_at_date_rows(moment=moment, warehouse_ids=warehouse_ids))

    timed = interleave(
        {
            "selector": selector_rows,
            **{
                name: lambda sql=latest: _raw_rows(bench, sql, moment)
                for name, latest in CANDIDATES.items()
            },
        },
        runs=runs,
        warmups=warmups,
    )
    rows_timing, count = timed.pop("selector")
    raw_rows = timed
    best = min(raw_rows, key=lambda name: raw_rows[name][0].median)
    floor = raw_rows[best][0].median
    bench.add(
        Figure(
            key="stock_at.rows",
            label=f"Stock a year back, all {count:,} lines streamed",
            unit="ms",
            stockroom=rows_timing.median * 1000,
            floor=floor * 1000,
            ratio=rows_timing.median / floor,
            target=(AT_MOST, 1.5),
            details={
                "selector": "inventory.selectors.stock_at_date.stock_at_date_rows",
                "raw_ms": {name: t.median * 1000 for name, (t, _) in raw_rows.items()},
                "floor_query": best,
                "rows": count,
                "raw_rows": raw_rows[best][1],
            },
            fails=[] if count == raw_rows[best][1] else ["row counts differ"],
        )
    )
