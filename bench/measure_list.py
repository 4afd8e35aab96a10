"""Figure 1: the inventory list through the whole Django stack, beside the raw SQL for the same
rows and the Django admin's changelist with the same filter.

Each scenario is measured on its first page and on a page deep in the results (the middle of
the matching lines). The deep page's URL carries the list's own keyset token, made with its
own encoder (``inventory.selectors.stock_list.Position``) for the line before that position,
as following the "next" links would end up with; the first page's "next" link is followed once
to check that both agree with the raw SQL.

The floor is the fastest of a few equivalent SQL formulations of the page (PostgreSQL's plan
for a text search under LIMIT can be catastrophic in one and instant in another): each is tried
once under a statement timeout, and those within reach of the best are timed.
"""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

import psycopg

from .context import QUERY_LOG, Bench
from .report import AT_LEAST, AT_MOST, Figure, interleave, repeat
from .seed import SEARCH_TERM

PAGE_SIZE = 50
ADMIN_PAGE_SIZE = 100
LIST_PATH = "/inventory/"
ADMIN_PATH = "/admin/inventory/stockline/"
EMPTY_PATH = "/bench/empty/"
SKU_LINK = re.compile(r"/inventory/sku/([A-Za-z0-9._-]+)/")
PAGE_LINK = re.compile(r'href="([^"]*[?&](?:amp;)?page=[^"]+)"')
#: A floor formulation slower than this in its first run is left out of the timed runs.
PROBE_TIMEOUT_MS = 10_000
PROBE_SLACK = 3.0

COLUMNS = """sl.id, p.name, v.name, v.sku, w.code, sl.available, sl.reserved, sl.locked,
       sl.on_hand, sl.incoming, sl.effective_threshold, sl.status, sl.last_movement_at"""
JOINS = """FROM inventory_stockline sl
JOIN catalog_variant v ON v.id = sl.variant_id
JOIN catalog_product p ON p.id = v.product_id
JOIN warehouses_warehouse w ON w.id = sl.warehouse_id"""
#: Ordering key -> the sort expressions, in the list's order (the id breaks ties).
SORTS = {
    "sku": ("lower(v.sku)", "w.code", "sl.id"),
    "last_movement": ("COALESCE(sl.last_movement_at, '1970-01-01 00:00:00+00')", "sl.id"),
}
#: The list's search (``StockLineQuerySet.search``): variants whose SKU or barcode starts with
#: the text (pattern indexes) or whose name or product name contains it (trigram indexes).
MATCHING_VARIANTS = """SELECT id FROM catalog_variant
    WHERE upper(sku) LIKE %(prefix)s OR upper(name) LIKE %(like)s
       OR upper(barcode) LIKE %(prefix)s
    UNION
    SELECT v2.id FROM catalog_variant v2 JOIN catalog_product p2 ON p2.id = v2.product_id
    WHERE upper(p2.name) LIKE %(like)s"""


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    #: The contract's query string of the list.
    query: dict
    #: The same filter in the admin changelist's own terms.
    admin_query: dict
    ordering: str
    #: The condition on lines, in SQL over ``sl`` (and ``v``).
    where: str
    params: dict = field(default_factory=dict)
    #: A text search: the condition is on the variant (``MATCHING_VARIANTS``).
    search: bool = False


def _search(text: str) -> dict:
    escaped = text.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"like": f"%{escaped}%", "prefix": f"{escaped}%"}


def scenarios(bench: Bench) -> list[Scenario]:
    from inventory.admin import StockLineAdmin

    codes = bench.sql("SELECT id, code FROM warehouses_warehouse ORDER BY code")
    warehouse_id, warehouse_code = codes[min(2, len(codes) - 1)]
    (middle_sku,) = bench.sql(
        "SELECT sku FROM catalog_variant ORDER BY id OFFSET %s LIMIT 1",
        [bench.scale.variants // 2],
    )[0]
    prefix = middle_sku[:9]
    last_movement_column = list(StockLineAdmin.list_display).index("last_movement_at") + 1
    search = f"sl.variant_id IN ({MATCHING_VARIANTS})"
    return [
        Scenario("none", "no filter", {}, {}, "sku", "TRUE"),
        Scenario(
            "warehouse",
            f"warehouse {warehouse_code}",
            {"warehouse": warehouse_code},
            {"warehouse__id__exact": warehouse_id},
            "sku",
            "sl.warehouse_id = %(warehouse)s",
            {"warehouse": warehouse_id},
        ),
        Scenario(
            "low",
            "status Low stock",
            {"status": "low"},
            {"status__exact": "low"},
            "sku",
            "sl.status = 'low'",
        ),
        Scenario(
            "search",
            f"name search “{SEARCH_TERM}”",
            {"q": SEARCH_TERM},
            {"q": SEARCH_TERM},
            "sku",
            search,
            _search(SEARCH_TERM),
            search=True,
        ),
        Scenario(
            "sku_prefix",
            f"SKU prefix “{prefix}”",
            {"q": prefix},
            {"q": prefix},
            "sku",
            search,
            _search(prefix),
            search=True,
        ),
        Scenario(
            "stagnant",
            "stagnating (oldest movement first)",
            {"ordering": "last_movement"},
            {"o": str(last_movement_column)},
            "last_movement",
            "TRUE",
        ),
    ]


def _keyset(sort: tuple[str, ...]) -> tuple[str, str]:
    """(a plain bound on the first sort key, so that an index scan starts at the page; the
    strict row comparison that makes the page start after the given line)."""
    placeholders = ", ".join(f"%(after_{index})s" for index in range(len(sort)))
    return f"{sort[0]} >= %(after_0)s", f"({', '.join(sort)}) > ({placeholders})"


def floor_candidates(scenario: Scenario, *, after: bool) -> dict[str, str]:
    """Equivalent SQL for the page's rows, by name."""
    sort = SORTS[scenario.ordering]
    order = f"ORDER BY {', '.join(sort)} LIMIT {PAGE_SIZE}"
    conditions = [f"({scenario.where})"]
    if after:
        conditions += list(_keyset(sort))
    candidates = {"joined": f"SELECT {COLUMNS}\n{JOINS}\nWHERE {' AND '.join(conditions)}\n{order}"}
    if scenario.search:
        any_array = scenario.where.replace("sl.variant_id IN (", "sl.variant_id = ANY(ARRAY(", 1)
        candidates["any_array"] = candidates["joined"].replace(scenario.where, any_array + ")")
        # The matching variants sorted first, then their lines: a LIMIT stops the walk early.
        bound = "AND lower(v.sku) >= %(after_0)s" if after else ""
        keyset = f"WHERE {_keyset(sort)[1]}" if after else ""
        candidates["variants_first"] = f"""SELECT {COLUMNS}
FROM (SELECT v.id, v.sku, v.name, v.product_id FROM catalog_variant v
      WHERE v.id IN ({MATCHING_VARIANTS}) {bound} ORDER BY lower(v.sku)) v
JOIN inventory_stockline sl ON sl.variant_id = v.id
JOIN catalog_product p ON p.id = v.product_id
JOIN warehouses_warehouse w ON w.id = sl.warehouse_id
{keyset}
{order}"""
    return candidates


def _position(bench: Bench, scenario: Scenario, offset: int) -> tuple:
    """The sort values of the line just before ``offset`` (untimed: where the deep page is)."""
    sort = ", ".join(SORTS[scenario.ordering])
    sql = f"SELECT {sort} {JOINS} WHERE ({scenario.where}) ORDER BY {sort} OFFSET %(o)s LIMIT 1"
    return bench.sql(sql, {**scenario.params, "o": offset - 1})[0]


def _list_token(values: tuple) -> str:
    """The list's own "next page" token for a page starting after the line with ``values``."""
    from inventory.selectors.stock_list import Position

    return Position(True, tuple(values)).encode()


def _url(path: str, query: dict) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def _get_ok(bench: Bench, url: str):
    answer = bench.client.get(url)
    if answer.status != 200:
        raise AssertionError(f"GET {url}: {answer.status}")
    return answer


def _rows_match(html: str, rows: list[tuple]) -> bool | None:
    shown = set(SKU_LINK.findall(html))
    if not shown:
        return None  # the page links no SKU: nothing to compare
    return shown == {row[3] for row in rows}


def query_breakdown(bench: Bench, url: str) -> list[dict]:
    """The queries of one (untimed) request for ``url`` and their times, from the server's
    query log (see bench.middleware)."""
    log = bench.workdir / QUERY_LOG
    bench.client.get(url, headers={"X-Bench-Log": "1"})
    if not log.exists():
        return []
    last = log.read_text().splitlines()[-1]
    return [
        {"ms": round(query["ms"], 2), "sql": " ".join(query["sql"].split())[:300]}
        for query in json.loads(last)["queries"]
    ]


def floor_calls(bench: Bench, candidates: dict[str, str], params: dict):
    """The candidates that finish their first run in reach of the fastest, as calls to time
    (named ``floor:<name>``), and every candidate's first-run ms."""
    probes: dict[str, float | None] = {}
    with bench.raw.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {PROBE_TIMEOUT_MS}")
        for name, sql in candidates.items():
            try:
                timing, _ = repeat(lambda s=sql: bench.sql(s, params), runs=1, warmups=0)
                probes[name] = timing.median * 1000
            except psycopg.errors.QueryCanceled:
                probes[name] = None
        cursor.execute("RESET statement_timeout")
    finished = {name: ms for name, ms in probes.items() if ms is not None}
    if not finished:
        raise AssertionError(f"every floor query took over {PROBE_TIMEOUT_MS} ms")
    fastest = min(finished.values())
    return {
        f"floor:{name}": lambda s=candidates[name]: bench.sql(s, params)
        for name, ms in finished.items()
        if ms <= fastest * PROBE_SLACK + 5
    }, probes


def measure(bench: Bench) -> None:
    scale = bench.scale
    runs, warmups = scale.list_runs or scale.runs, scale.warmups
    empty_answer = _get_ok(bench, EMPTY_PATH)
    empty_queries = int(empty_answer.header("x-bench-queries", "0"))
    queries: dict[str, int] = {}
    for scenario in scenarios(bench):
        matching = bench.sql(
            f"SELECT count(*) FROM inventory_stockline sl WHERE ({scenario.where})",
            scenario.params,
        )[0][0]
        pages = [("first", 0)]
        if matching > PAGE_SIZE:
            pages.append(("deep", max(PAGE_SIZE, matching // 2 // PAGE_SIZE * PAGE_SIZE)))
        for page, offset in pages:
            query, admin_query = dict(scenario.query), dict(scenario.admin_query)
            params = dict(scenario.params)
            if offset:
                values = _position(bench, scenario, offset)
                query["page"] = _list_token(values)
                params.update({f"after_{index}": value for index, value in enumerate(values)})
                admin_query["p"] = str(offset // ADMIN_PAGE_SIZE + 1)
            url, admin_url = _url(LIST_PATH, query), _url(ADMIN_PATH, admin_query)
            floors, probes = floor_calls(
                bench, floor_candidates(scenario, after=bool(offset)), params
            )
            timed = interleave(
                {
                    "list": lambda u=url: _get_ok(bench, u),
                    "empty": lambda: _get_ok(bench, EMPTY_PATH),
                    **floors,
                },
                runs=runs,
                warmups=max(warmups, 1),
            )
            listed, answer = timed.pop("list")
            empty, _ = timed.pop("empty")
            name = min(timed, key=lambda key: timed[key][0].median)
            raw, rows = timed[name]
            name = name.removeprefix("floor:")
            admin_runs = scale.runs if page == "first" else scale.slow_runs
            admin, admin_answer = repeat(
                lambda u=admin_url: _get_ok(bench, u), runs=admin_runs, warmups=1
            )
            count = int(answer.header("x-bench-queries", "-1"))
            queries[f"{scenario.key}.{page}"] = count - empty_queries
            floor = raw.median + empty.median
            details = {
                "url": url,
                "matching_lines": matching,
                "offset": offset,
                "samples_ms": [s * 1000 for s in listed.samples],
                "server_ms": float(answer.header("x-bench-server-ms", "nan")),
                "raw_sql_ms": raw.median * 1000,
                "raw_sql_query": name,
                "raw_sql_first_runs_ms": probes,
                "empty_view_ms": empty.median * 1000,
                "ratio_to_raw_sql_only": listed.median / raw.median,
                "admin_url": admin_url,
                "admin_ms": admin.median * 1000,
                "admin_queries": int(admin_answer.header("x-bench-queries", "-1")),
                "queries": count,
                "rows_match_raw_sql": _rows_match(answer.text, rows),
                "query_breakdown": query_breakdown(bench, url),
            }
            if page == "first" and scenario.key == "none":
                details["next_link"] = _follow_next(bench, answer.text, scenario)
            label = "first page" if page == "first" else f"deep page (line {offset + 1:,})"
            bench.add(
                Figure(
                    key=f"list.{page}.{scenario.key}",
                    label=f"List, {label}: {scenario.label}",
                    unit="ms",
                    stockroom=listed.median * 1000,
                    floor=floor * 1000,
                    ratio=listed.median / floor,
                    admin=admin.median * 1000,
                    target=(AT_MOST, 2.0 if page == "first" else 3.0),
                    details=details,
                )
            )
            if page == "deep":
                bench.add(
                    Figure(
                        key=f"list.admin.{scenario.key}",
                        label=f"List, deep page, times faster than the admin: {scenario.label}",
                        unit="ms",
                        stockroom=listed.median * 1000,
                        admin=admin.median * 1000,
                        ratio=admin.median / listed.median,
                        target=(AT_LEAST, 10.0),
                        details={"admin_url": admin_url, "admin_ms": admin.median * 1000},
                    )
                )
    _queries_figure(bench, queries, empty_queries)


def _follow_next(bench: Bench, html: str, scenario: Scenario) -> dict:
    """Follow the first page's own "next" link; its lines must be the raw SQL's 51st-100th."""
    match = PAGE_LINK.search(html)
    if not match:
        return {"found": False}
    href = match.group(1).replace("&amp;", "&")
    url = href if href.startswith("/") else f"{LIST_PATH}{href}"
    answer = _get_ok(bench, url)
    sort = ", ".join(SORTS[scenario.ordering])
    rows = bench.sql(
        f"SELECT {COLUMNS} {JOINS} WHERE ({scenario.where}) ORDER BY {sort} "
        f"OFFSET {PAGE_SIZE} LIMIT {PAGE_SIZE}",
        scenario.params,
    )
    return {"found": True, "url": url, "rows_match_raw_sql": _rows_match(answer.text, rows)}


def _queries_figure(bench: Bench, queries: dict[str, int], empty_queries: int) -> None:
    fails = []
    for key in sorted({name.split(".")[0] for name in queries}):
        first, deep = queries.get(f"{key}.first"), queries.get(f"{key}.deep")
        if deep is not None and first != deep:
            fails.append(f"{key}: {first} queries on the first page, {deep} on a deep one")
    bench.add(
        Figure(
            key="list.queries",
            label=f"List, SQL queries per page (most of any page; beyond the {empty_queries} "
            "of an empty logged-in view)",
            unit="queries",
            stockroom=max(queries.values()),
            target=(AT_MOST, 5),
            details={"per_page": queries, "empty_view_queries": empty_queries},
            fails=fails,
        )
    )
