"""The inventory list: pages of stock lines cut by keyset, the status counts, the CSV rows.

Paging is by keyset, never by OFFSET: a page is "the next 50 lines after this one in the
chosen order", so page 20,000 of a million lines costs what page 1 costs, and a bookmarked
page still starts where it did when lines are added or removed before it. The position
travels in the ``page`` parameter as an opaque token holding the sort values of the first or
last line shown. Each ordering ends with the line's id, so no two lines tie. How many lines
match is counted up to ``COUNT_CAP`` only ("More than 1,000"): an exact COUNT of a million
joined rows on every request would cost more than the page itself.
"""

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Lower

from core.csv_export import DATETIME, NUMBER, Column
from core.expressions import RowComparison, sharing_subqueries, with_clause
from core.streaming import stream_rows
from warehouses.models import Warehouse

from ..models import StockStatus
from ..models.stock_line import last_movement_or_never

PAGE_SIZE = 50
#: The counts above the list stop here. Counting costs the database a read of every entry
#: counted: at 10,000 the three counts took 2.8 ms of its time on every page, more than the
#: page's rows; at 1,000, 0.4 ms. Past a thousand lines to look at, "1,000+" is what a
#: merchant acts on: narrow by warehouse or status.
COUNT_CAP = 1_000
EXPORT_FETCH_SIZE = 2000
DEFAULT_ORDERING = "sku"

TEXT, DECIMAL, MOMENT = "text", "decimal", "moment"
#: Ids are 64-bit: a larger one in an edited token is refused before it reaches the database.
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class SortKey:
    expression: object
    kind: str


def _sku():
    # Lower(sku) is what the case-insensitive unique index on variants holds.
    return SortKey(Lower("variant__sku"), TEXT)


#: The contract's column keys and what each sorts by, before the id that breaks ties.
ORDERINGS: dict[str, tuple] = {
    "sku": (_sku, lambda: SortKey(F("warehouse__code"), TEXT)),
    "product": (lambda: SortKey(F("variant__product__name"), TEXT), _sku),
    "warehouse": (lambda: SortKey(F("warehouse__code"), TEXT), _sku),
    "available": (lambda: SortKey(F("available"), DECIMAL),),
    "reserved": (lambda: SortKey(F("reserved"), DECIMAL),),
    "total": (lambda: SortKey(F("on_hand"), DECIMAL),),
    # Lines that never moved sort as the oldest: first when sorting by oldest movement.
    "last_movement": (lambda: SortKey(last_movement_or_never(), MOMENT),),
}

#: The inventory CSV's columns, in the contract's order, and where each value comes from.
EXPORT = (
    (Column("Product"), "variant__product__name"),
    (Column("Variant"), "variant__name"),
    (Column("SKU"), "variant__sku"),
    (Column("Warehouse"), "warehouse__code"),
    (Column("Available", NUMBER), "available"),
    (Column("Reserved", NUMBER), "reserved"),
    (Column("Locked", NUMBER), "locked"),
    (Column("Total", NUMBER), "on_hand"),
    (Column("Incoming", NUMBER), "incoming"),
    (Column("Alert threshold", NUMBER), "effective_threshold"),
    (Column("Status"), "status"),
    (Column("Last movement", DATETIME), "last_movement_at"),
)
EXPORT_COLUMNS = tuple(column for column, _ in EXPORT)
EXPORT_FIELDS = tuple(field for _, field in EXPORT)
#: The contract's status texts, whatever the language of the page.
EXPORT_STATUS = {StockStatus.OK: "OK", StockStatus.LOW: "Low stock", StockStatus.OUT: "Stockout"}


class InvalidPageToken(ValueError):
    """A ``page`` value that is not one of our tokens (edited, truncated, or from elsewhere)."""


@dataclass(frozen=True)
class Ordering:
    """A contract ordering key such as ``-available``, resolved to sort keys."""

    key: str
    descending: bool

    @classmethod
    def parse(cls, value: str | None) -> "Ordering":
        value = value or DEFAULT_ORDERING
        descending = value.startswith("-")
        key = value.removeprefix("-")
        if key not in ORDERINGS:
            key, descending = DEFAULT_ORDERING, False
        return cls(key, descending)

    @property
    def value(self) -> str:
        return f"-{self.key}" if self.descending else self.key

    def sort_keys(self) -> list[SortKey]:
        return [make() for make in ORDERINGS[self.key]]

    def names(self) -> list[str]:
        return [f"sort_{index}" for index in range(len(ORDERINGS[self.key]))]

    def apply(self, lines: QuerySet, *, reverse: bool = False) -> QuerySet:
        """Annotate the sort values (``sort_0``...) and order by them, then by id."""
        keys = self.sort_keys()
        names = self.names()
        lines = lines.annotate(
            **{name: key.expression for name, key in zip(names, keys, strict=True)}
        )
        descending = self.descending != reverse
        sign = "-" if descending else ""
        return lines.order_by(*(f"{sign}{name}" for name in names), f"{sign}id")


@dataclass(frozen=True)
class Position:
    """Where a page starts: after (``forward``) or before the line with these sort values."""

    forward: bool
    values: tuple

    def encode(self) -> str:
        payload = json.dumps(
            ["n" if self.forward else "p", [_dump(value) for value in self.values]],
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, ordering: Ordering) -> "Position":
        try:
            padded = token + "=" * (-len(token) % 4)
            direction, raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
            kinds = [key.kind for key in ordering.sort_keys()] + ["id"]
            if direction not in ("n", "p") or len(raw) != len(kinds):
                raise InvalidPageToken(token)
            values = tuple(_load(value, kind) for value, kind in zip(raw, kinds, strict=True))
        except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeDecodeError):
            raise InvalidPageToken(token) from None
        return cls(direction == "n", values)


def _dump(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _load(value, kind: str):
    if kind == "id":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
            raise InvalidPageToken(value)
        return value
    if not isinstance(value, str):
        raise InvalidPageToken(value)
    if kind == DECIMAL:
        number = Decimal(value)
        if not number.is_finite():
            raise InvalidPageToken(value)
        return number
    if kind == MOMENT:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise InvalidPageToken(value)
        return moment
    return value


def _beyond(names: list[str], values: tuple, descending: bool) -> Q:
    """Lines strictly beyond ``values`` in the order of ``names``: one row comparison,
    ``(sort_0, ..., id) > (v0, ..., id0)``, which seeks in an index on the same columns
    whatever the number of lines sharing ``v0`` (a count applied at once gives 100,000 lines
    the same last movement).

    The first key also gets a plain bound (``sort_0 >= v0``): when the keys span several
    tables (SKU, then warehouse code) no index holds the whole row, and the bound still lets
    the database start its scan of the first key's index where the page starts.
    """
    loosely = "lte" if descending else "gte"
    return Q(**{f"{names[0]}__{loosely}": values[0]}) & Q(
        RowComparison(names, "<" if descending else ">", values)
    )


@dataclass(slots=True)
class ListedLine:
    """A row of the inventory list, read as plain values: a line with its variant, product
    and warehouse as four model instances took a millisecond of a 50-row page."""

    pk: int
    status: str
    available: Decimal
    reserved: Decimal
    locked: Decimal
    on_hand: Decimal
    incoming: Decimal
    effective_threshold: Decimal | None
    last_movement_at: datetime | None
    sku: str
    variant_name: str
    product_name: str
    warehouse_code: str
    warehouse_name: str
    #: The ordering's sort values, then the id: what the page tokens hold.
    position: tuple = ()
    #: With ``selectors.sales.with_recent_sales``: sold in the last weeks, and how long the
    #: available stock lasts at that pace (set by the caller).
    sold_recently: Decimal | None = None
    days_of_cover: int | None = None


#: The values a row of the list shows (``templatetags.stock_display.stock_list_rows``), in the
#: order of ``ListedLine``'s fields.
ROW_VALUES = (
    "pk",
    "status",
    "available",
    "reserved",
    "locked",
    "on_hand",
    "incoming",
    "effective_threshold",
    "last_movement_at",
    "variant__sku",
    "variant__name",
    "variant__product__name",
    "warehouse__code",
    "warehouse__name",
)
#: An annotation a caller may add to the lines, carried by the rows when present.
RECENT_SALES = "sold_recently"


@dataclass(frozen=True)
class StockPage:
    lines: list[ListedLine]
    ordering: Ordering
    next_token: str | None
    previous_token: str | None
    is_first: bool


def stock_list_page(
    lines: QuerySet,
    *,
    ordering: Ordering,
    token: str | None,
    page_size: int = PAGE_SIZE,
    branch_by_warehouse: bool = True,
    warehouses: list[Warehouse] | None = None,
) -> StockPage:
    """One page of ``lines`` in ``ordering`` from the position ``token`` (first page: None).

    ``branch_by_warehouse``: sort by warehouse one warehouse at a time (see
    ``_rows_by_warehouse``); turn it off when ``lines`` carry a costly filter, such as a
    search, that each branch would evaluate again; ``warehouses``: the ones the lines can be
    in, when the caller has them already (else they are read). Raises ``InvalidPageToken``
    for a token this ordering cannot read.
    """
    position = Position.decode(token, ordering) if token else None
    forward = position is None or position.forward
    rows = _rows(
        lines,
        ordering,
        position,
        reverse=not forward,
        limit=page_size + 1,
        branch_by_warehouse=branch_by_warehouse,
        warehouses=warehouses,
    )
    more = len(rows) > page_size
    rows = rows[:page_size]
    if forward:
        has_previous, has_next = position is not None, more
    else:
        rows.reverse()
        has_previous, has_next = more, True
    return StockPage(
        lines=rows,
        ordering=ordering,
        next_token=_token(rows[-1], forward=True) if rows and has_next else None,
        previous_token=_token(rows[0], forward=False) if rows and has_previous else None,
        is_first=not has_previous,
    )


def _rows(
    lines,
    ordering: Ordering,
    position: Position | None,
    *,
    reverse: bool,
    limit: int,
    branch_by_warehouse: bool,
    warehouses: list[Warehouse] | None = None,
) -> list[ListedLine]:
    """The first ``limit`` lines beyond ``position`` in ``ordering`` (or in its reverse)."""
    descending = ordering.descending != reverse
    ordered = ordering.apply(lines, reverse=reverse)
    if position is not None:
        ordered = ordered.filter(_beyond([*ordering.names(), "id"], position.values, descending))
    if ordering.key == "warehouse" and branch_by_warehouse and connection.vendor == "postgresql":
        return _rows_by_warehouse(ordered, ordering, position, descending, limit, warehouses)
    return _listed(ordered[:limit], ordering)


def _rows_by_warehouse(
    ordered, ordering, position, descending: bool, limit: int, warehouses=None
) -> list[ListedLine]:
    """Lines sorted by warehouse code, then SKU: one branch per warehouse, in one query.

    The database cannot walk one index in (warehouse code, SKU) order, the two being in
    different tables, so a plain ORDER BY sorts every line of a warehouse (400 ms at 100,000
    lines a warehouse). Each branch here reads at most ``limit`` lines of its warehouse in SKU
    order (the SKU index, then the line's (variant, warehouse) index) and the branches are
    merged: the cost grows with the number of warehouses, not of lines.
    """
    if warehouses is None:
        warehouses = list(Warehouse.objects.all())
    warehouses = sorted(warehouses, key=lambda warehouse: warehouse.code, reverse=descending)
    if position is not None:
        code = position.values[0]
        warehouses = [w for w in warehouses if (w.code <= code if descending else w.code >= code)]
    names = ordering.names()
    sign = "-" if descending else ""
    # Within a branch the warehouse is one: sorting by its code too would hide the SKU order.
    branches = [
        ordered.filter(warehouse_id=warehouse_id)
        .order_by(*(f"{sign}{name}" for name in names[1:]), f"{sign}id")
        .values_list("pk", *names)[:limit]
        for warehouse_id in (warehouse.pk for warehouse in warehouses)
    ]
    if len(branches) <= 1:
        merged = branches[0] if branches else []
    else:
        merged = (
            branches[0]
            .union(*branches[1:], all=True)
            .order_by(*(f"{sign}{name}" for name in names), f"{sign}id")[:limit]
        )
    order = [row[0] for row in merged]
    # The page's lines with their sort values and whatever the caller annotated.
    found = {line.pk: line for line in _listed(ordered.filter(pk__in=order), ordering)}
    return [found[pk] for pk in order]


def _listed(ordered: QuerySet, ordering: Ordering) -> list[ListedLine]:
    names = [*ordering.names(), "pk"]
    with_sales = RECENT_SALES in ordered.query.annotations
    values = ordered.values_list(*ROW_VALUES, *names, *([RECENT_SALES] if with_sales else []))
    shown, sorted_by = len(ROW_VALUES), len(ROW_VALUES) + len(names)
    return [
        ListedLine(
            *row[:shown],
            position=row[shown:sorted_by],
            sold_recently=row[sorted_by] if with_sales else None,
        )
        for row in values
    ]


def _token(line: ListedLine, *, forward: bool) -> str:
    return Position(forward, line.position).encode()


def capped_counts(*querysets: QuerySet, cap: int = COUNT_CAP) -> list[tuple[int, bool]]:
    """How many rows each queryset matches, counting no further than ``cap``, all in ONE
    statement (one scalar subquery each): [(count, True if more), ...]. Subqueries they share
    (``core.expressions.SharedSubquery``) are computed once for all."""
    parts, params = [], []
    connection = connections[querysets[0].db]
    with sharing_subqueries() as shared:
        for position, queryset in enumerate(querysets):
            limited = queryset.order_by().values("pk")[: cap + 1]
            try:
                sql, sql_params = limited.query.get_compiler(using=limited.db).as_sql()
            except EmptyResultSet:  # e.g. a search that matches no variant: nothing to count
                parts.append("0")
                continue
            parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped_{position})")
            params.extend(sql_params)
    prelude, prelude_params = with_clause(shared, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"{prelude}SELECT {', '.join(parts)}", [*prelude_params, *params])
        found = cursor.fetchone()
    return [(min(count, cap), count > cap) for count in found]


def capped_count(lines: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many lines match, counting no further than ``cap``: (count, True if more)."""
    return capped_counts(lines, cap=cap)[0]


@dataclass(frozen=True)
class StatusCounts:
    """Lines in Low stock and in Stockout, each counted up to ``COUNT_CAP``."""

    low: int
    out: int
    low_more: bool = False
    out_more: bool = False


def _status_querysets(lines: QuerySet) -> tuple[QuerySet, QuerySet]:
    # status= alone (not in_status's bounds on available, which help sorting only): the
    # (status, warehouse) index then answers without reading the table.
    return lines.filter(status=StockStatus.LOW), lines.filter(status=StockStatus.OUT)


def status_counts(lines: QuerySet, cap: int = COUNT_CAP) -> StatusCounts:
    """How many of ``lines`` are Low stock and Stockout: two capped counts.

    Each reads at most ``cap`` + 1 entries of a status index, so the counts cost the same
    under any filter (a stagnant or total-stockout filter matching 100,000 lines included);
    past the cap the page says "1,000+" (see ``COUNT_CAP``).
    """
    (low, low_more), (out, out_more) = capped_counts(*_status_querysets(lines), cap=cap)
    return StatusCounts(low=low, out=out, low_more=low_more, out_more=out_more)


def list_counts(
    matching: QuerySet, status_base: QuerySet, cap: int = COUNT_CAP
) -> tuple[tuple[int, bool], StatusCounts]:
    """The figures above the list in one statement: the lines matching every filter, and
    the Low stock / Stockout lines among those matching every filter but the status."""
    total, (low, low_more), (out, out_more) = capped_counts(
        matching, *_status_querysets(status_base), cap=cap
    )
    return total, StatusCounts(low=low, out=out, low_more=low_more, out_more=out_more)


def export_rows(lines: QuerySet, *, ordering: Ordering) -> Iterator[tuple]:
    """Every matching line as a CSV row, in the list's order, streamed from the database
    ``EXPORT_FETCH_SIZE`` at a time (core.streaming: inside a transaction on PostgreSQL).

    The export itself takes the quicker road of selectors.stock_export on PostgreSQL (COPY).
    """
    rows = stream_rows(
        ordering.apply(lines).values_list(*EXPORT_FIELDS), chunk_size=EXPORT_FETCH_SIZE
    )
    status = EXPORT_FIELDS.index("status")
    for row in rows:
        yield (*row[:status], EXPORT_STATUS[row[status]], *row[status + 1 :])
