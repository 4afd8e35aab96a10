"""The movement journal: every movement across SKUs and warehouses, newest first on screen,
in time order in the CSV.

Pages are cut by keyset on (created_at, id), never by OFFSET: page 10,000 costs what page 1
costs (a descent of the ``inventory_mv_created`` index). The CSV streams from a server-side
cursor, so memory stays flat whatever the number of movements.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet

from core.csv_export import DATETIME, NUMBER, Column
from core.expressions import RowComparison
from core.streaming import stream_rows

from ..models import Movement, MovementReason, MovementType
from .stock_list import MAX_ID

PAGE_SIZE = 50
FETCH_SIZE = 2000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

JOURNAL_COLUMNS = (
    Column("Date", DATETIME),
    Column("SKU"),
    Column("Product"),
    Column("Variant"),
    Column("Warehouse"),
    Column("Type"),
    Column("Reason"),
    Column("Quantity", NUMBER),
    Column("Balance after", NUMBER),
    Column("Reference"),
    Column("Note"),
    Column("User"),
)


@dataclass(frozen=True)
class Cursor:
    """A position in the journal: the (created_at, id) of a movement, as ``<µs>-<id>``."""

    created_at: datetime
    id: int

    @classmethod
    def of(cls, movement: Movement) -> "Cursor":
        return cls(movement.created_at, movement.pk)

    @classmethod
    def parse(cls, text: str | None) -> "Cursor | None":
        """The cursor in ``text``, or None when it is missing or malformed."""
        micros, _, pk = (text or "").partition("-")
        if not (micros.isdigit() and pk.isdigit()) or int(pk) > MAX_ID:
            return None
        try:
            return cls(EPOCH + int(micros) * MICROSECOND, int(pk))
        except OverflowError:
            return None

    def __str__(self):
        return f"{(self.created_at - EPOCH) // MICROSECOND}-{self.id}"


@dataclass(frozen=True)
class JournalPage:
    movements: list[Movement]
    #: Cursor of the next (older) page, None on the last page.
    older: Cursor | None
    #: Cursor of the previous (newer) page, None on the first page.
    newer: Cursor | None


def older_than(movements: QuerySet, cursor: Cursor) -> QuerySet:
    # One row comparison, which seeks in the (created_at, id) index even among the 100,000
    # movements a count writes at one moment.
    return movements.filter(
        RowComparison(["created_at", "id"], "<", (cursor.created_at, cursor.id))
    )


def newer_than(movements: QuerySet, cursor: Cursor) -> QuerySet:
    return movements.filter(
        RowComparison(["created_at", "id"], ">", (cursor.created_at, cursor.id))
    )


def journal_page(
    movements: QuerySet,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> JournalPage:
    """One page of ``movements``, newest first: the page after (older than) ``after``, or the
    page before (newer than) ``before``, or the newest page. One query."""
    movements = movements.with_catalog()
    if before is not None and after is None:
        found = list(newer_than(movements, before).order_by("created_at", "id")[: size + 1])
        more_newer = len(found) > size
        page = list(reversed(found[:size]))
        return JournalPage(
            movements=page,
            older=Cursor.of(page[-1]) if page else None,
            newer=Cursor.of(page[0]) if page and more_newer else None,
        )
    if after is not None:
        movements = older_than(movements, after)
    found = list(movements.order_by("-created_at", "-id")[: size + 1])
    page = found[:size]
    return JournalPage(
        movements=page,
        older=Cursor.of(page[-1]) if len(found) > size else None,
        newer=Cursor.of(page[0]) if page and after is not None else None,
    )


def journal_rows(movements: QuerySet) -> Iterator[tuple]:
    """The CSV rows of ``movements`` in time order (oldest first), streamed."""
    types = {value: str(label) for value, label in MovementType.choices}
    reasons = {value: str(label) for value, label in MovementReason.choices}
    rows = movements.order_by("created_at", "id").values_list(
        "created_at",
        "stock_line__variant__sku",
        "stock_line__variant__product__name",
        "stock_line__variant__name",
        "stock_line__warehouse__code",
        "type",
        "reason",
        "quantity",
        "balance_after",
        "reference",
        "note",
        "created_by__username",
    )
    for row in stream_rows(rows, chunk_size=FETCH_SIZE):
        (at, sku, product, variant, code, type_, reason, qty, balance, ref, note, user) = row
        yield (
            at,
            sku,
            product,
            variant,
            code,
            types.get(type_, type_),
            reasons.get(reason, reason),
            qty,
            balance,
            ref,
            note,
            user or "",
        )
