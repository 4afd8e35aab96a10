"""Figure 5: stock at a date a year back over every stock line, through the stock-at-date
selector (``inventory.selectors.stock_at_date``), beside the best raw SQL.

Two figures: the per-warehouse totals (quantity and value: what the page shows over all lines)
and every line's row streamed out (what the CSV writes). The floor is the fastest of several
raw formulations that give the right answer even when two movements of a line share a time (one
operation can move a line twice): how the last balance before the moment is found, times how the
average cost of that moment is found (per line, or once per variant and joined by hash). The
index-only query that ignores ties is reported beside them as a lower bound.
"""

from datetime import timedelta

from django.utils import timezone

from .context import Bench
from .report import AT_MOST, Figure, interleave, repeat

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
#: The same two, told apart by a window over them: the first row wins unless it ties with the
#: second, then the table decides.
WINDOW_TWO_LATEST = """LEFT JOIN LATERAL (
    SELECT CASE WHEN r.tied THEN (SELECT t.balance_after FROM inventory_movement t
                                  WHERE t.stock_line_id = sl.id AND t.created_at = r.created_at
                                  ORDER BY t.id DESC LIMIT 1)
                ELSE r.balance_after END AS balance_after
    FROM (SELECT m.created_at, m.balance_after,
                 m.created_at = lead(m.created_at) OVER (ORDER BY m.created_at DESC) AS tied
          FROM (SELECT created_at, balance_after FROM inventory_movement
                WHERE stock_line_id = sl.id AND created_at < %(at)s
                ORDER BY created_at DESC LIMIT 2) m
          ORDER BY m.created_at DESC LIMIT 1) r) b ON true"""
LATEST = {"by_id": BY_ID, "two_latest": TWO_LATEST, "window_two_latest": WINDOW_TWO_LATEST}

#: The average cost as of the moment, probed for each line...
COST_PER_LINE = (
    "",
    """LEFT JOIN LATERAL (
    SELECT c.average_cost FROM catalog_averagecost c
    WHERE c.variant_id = sl.variant_id AND c.effective_at < %(at)s
    ORDER BY c.effective_at DESC, c.id DESC LIMIT 1) c ON true""",
)
#: ...or once per variant, then joined to the lines by hash.
COST_PER_VARIANT = (
    """WITH costs AS (
    SELECT v.id AS variant_id, c.average_cost FROM catalog_variant v
    CROSS JOIN LATERAL (
        SELECT c.average_cost FROM catalog_averagecost c
        WHERE c.variant_id = v.id AND c.effective_at < %(at)s
        ORDER BY c.effective_at DESC, c.id DESC LIMIT 1) c)
""",
    "LEFT JOIN costs c ON c.variant_id = sl.variant_id",
)
COSTS = {"cost_per_line": COST_PER_LINE, "cost_per_variant": COST_PER_VARIANT}

TOTALS_SQL = """{with_costs}SELECT w.code, count(*), COALESCE(sum(COALESCE(b.balance_after, 0)), 0),
       COALESCE(sum(round(COALESCE(b.balance_after, 0) * c.average_cost, 2)), 0),
       count(*) FILTER (WHERE c.average_cost IS NULL AND COALESCE(b.balance_after, 0) <> 0)
FROM inventory_stockline sl JOIN warehouses_warehouse w ON w.id = sl.warehouse_id
{latest}
{cost}
WHERE b.balance_after IS NOT NULL OR sl.created_at < %(at)s
GROUP BY w.code ORDER BY w.code"""

ROWS_SQL = """{with_costs}SELECT p.name, v.name, v.sku, w.code, COALESCE(b.balance_after, 0),
       c.average_cost
FROM inventory_stockline sl
JOIN warehouses_warehouse w ON w.id = sl.warehouse_id
JOIN catalog_variant v ON v.id = sl.variant_id
JOIN catalog_product p ON p.id = v.product_id
{latest}
{cost}
WHERE b.balance_after IS NOT NULL OR sl.created_at < %(at)s
ORDER BY w.code, v.sku"""

FETCH_SIZE = 2000
#: A formulation slower than this times the fastest in its first run is not timed further.
PROBE_SLACK = 1.5


def formulations(template: str, *, with_lower_bound: bool = False) -> dict[str, str]:
    sql = {}
    for latest_name, latest in LATEST.items():
        for cost_name, (with_costs, cost) in COSTS.items():
            sql[f"{latest_name}+{cost_name}"] = template.format(
                with_costs=with_costs, latest=latest, cost=cost
            )
    if with_lower_bound:
        with_costs, cost = COST_PER_VARIANT
        sql["ignoring_ties"] = template.format(
            with_costs=with_costs, latest=IGNORING_TIES, cost=cost
        )
    return sql


def _raw_rows(bench: Bench, sql: str, moment) -> int:
    count = 0
    with bench.raw.transaction(), bench.raw.cursor(name="stock_at_rows") as cursor:
        cursor.itersize = FETCH_SIZE
        cursor.execute(sql, {"at": moment})
        for _ in cursor:
            count += 1
    return count


def _best(bench: Bench, selector, calls: dict, *, runs: int) -> tuple:
    """Probe every raw call once (a warm-up too), then time the selector and the raw calls
    that were in reach of the fastest, taking turns. Returns (selector timing and result,
    {name: (timing, result)} of the timed raw calls, {name: first-run ms})."""
    probes = {}
    for name, call in calls.items():
        timing, _ = repeat(call, runs=1, warmups=0)
        probes[name] = timing.median * 1000
    fastest = min(ms for name, ms in probes.items() if name != "ignoring_ties")
    kept = {
        name: call
        for name, call in calls.items()
        if name == "ignoring_ties" or probes[name] <= fastest * PROBE_SLACK
    }
    timed = interleave({"selector": selector, **kept}, runs=runs, warmups=0)
    return timed.pop("selector"), timed, probes


def measure(bench: Bench) -> None:
    from inventory.selectors.stock_at_date import stock_at_date_rows, stock_at_date_totals
    from warehouses.models import Warehouse

    runs = bench.scale.slow_runs
    moment = timezone.now() - timedelta(days=365)
    warehouse_ids = list(Warehouse.objects.values_list("pk", flat=True))

    def selector_totals():
        return stock_at_date_totals(moment=moment, warehouse_ids=warehouse_ids)

    selector_totals()  # warm-up
    (timing, totals), raw, probes = _best(
        bench,
        selector_totals,
        {
            name: lambda sql=sql: bench.sql(sql, {"at": moment})
            for name, sql in formulations(TOTALS_SQL, with_lower_bound=True).items()
        },
        runs=runs,
    )
    best = min((name for name in raw if name != "ignoring_ties"), key=lambda n: raw[n][0].median)
    floor = raw[best][0].median
    same = [(t.code, t.lines, t.on_hand, t.value, t.uncosted) for t in totals] == [
        tuple(row) for row in raw[best][1]
    ]
    bench.add(
        Figure(
            key="stock_at.totals",
            label="Stock a year back, totals over all lines",
            unit="ms",
            stockroom=timing.median * 1000,
            floor=floor * 1000,
            ratio=timing.median / floor,
            target=(AT_MOST, 1.5),
            details={
                "selector": "inventory.selectors.stock_at_date.stock_at_date_totals",
                "moment": moment.isoformat(),
                "raw_ms": {name: t.median * 1000 for name, (t, _) in raw.items()},
                "raw_first_run_ms": probes,
                "floor_query": best,
                "same_totals": same,
            },
            fails=[] if same else ["the selector's totals differ from the raw SQL's"],
        )
    )

    def selector_rows() -> int:
        return sum(1 for _ in stock_at_date_rows(moment=moment, warehouse_ids=warehouse_ids))

    selector_rows()  # warm-up
    (timing, count), raw, probes = _best(
        bench,
        selector_rows,
        {
            name: lambda sql=sql: _raw_rows(bench, sql, moment)
            for name, sql in formulations(ROWS_SQL).items()
        },
        runs=runs,
    )
    best = min(raw, key=lambda name: raw[name][0].median)
    floor = raw[best][0].median
    bench.add(
        Figure(
            key="stock_at.rows",
            label=f"Stock a year back, all {count:,} lines streamed",
            unit="ms",
            stockroom=timing.median * 1000,
            floor=floor * 1000,
            ratio=timing.median / floor,
            target=(AT_MOST, 1.5),
            details={
                "selector": "inventory.selectors.stock_at_date.stock_at_date_rows",
                "raw_ms": {name: t.median * 1000 for name, (t, _) in raw.items()},
                "raw_first_run_ms": probes,
                "floor_query": best,
                "rows": count,
                "raw_rows": raw[best][1],
            },
            fails=[] if count == raw[best][1] else ["row counts differ"],
        )
    )
