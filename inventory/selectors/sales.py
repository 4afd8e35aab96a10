"""The pace at which stock sells: sales of the last weeks, days of cover, a fitting threshold.

Sales are the Exit movements with reason Sale (what ``stock_ship`` writes), over the last
``SALES_WEEKS`` weeks counted back from now (rolling weeks, the current one included).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES

from ..models import Movement, MovementReason, MovementType

SALES_WEEKS = 8
WINDOW_DAYS = SALES_WEEKS * 7
DEFAULT_REORDER_CYCLE_DAYS = 14
ZERO = Decimal(0)
WHOLE = Decimal(1)
QUANTUM = Decimal("0.001")


def _quantity_field() -> DecimalField:
    return DecimalField(max_digits=QUANTITY_DIGITS + 3, decimal_places=QUANTITY_PLACES)


def window_start(now: datetime) -> datetime:
    return now - timedelta(days=WINDOW_DAYS)


def sales_movements() -> QuerySet:
    return Movement.objects.filter(type=MovementType.EXIT, reason=MovementReason.SALE)


def with_recent_sales(lines: QuerySet, *, now: datetime) -> QuerySet:
    """Annotate ``sold_recently``: the quantity each line sold in the window (0 if none).

    A correlated subquery on the (stock_line, created_at) index, evaluated only for the rows
    a page shows.
    """
    sold = (
        sales_movements()
        .filter(stock_line=OuterRef("pk"), created_at__gte=window_start(now))
        .order_by()
        .values("stock_line")
        .annotate(sold=-Sum("quantity"))
        .values("sold")
    )
    return lines.annotate(
        sold_recently=Coalesce(
            Subquery(sold, output_field=_quantity_field()),
            ZERO,
            output_field=_quantity_field(),
        )
    )


def days_of_cover(available: Decimal, sold: Decimal, *, days: int = WINDOW_DAYS) -> int | None:
    """Whole days the available stock lasts at the pace of ``sold`` over ``days``.

    None when nothing sold (no pace to go by); 0 when nothing is available.
    """
    if sold <= 0:
        return None
    if available <= 0:
        return 0
    return int((available * days / sold).to_integral_value(rounding=ROUND_FLOOR))


def suggested_threshold(
    sold: Decimal, *, days: int = WINDOW_DAYS, cycle_days: int, allows_fractions: bool
) -> Decimal:
    """The stock that covers one reorder cycle at the pace of ``sold`` over ``days``.

    Rounded up: to a whole number for pieces, to the quantity's precision otherwise. Selling
    10 a week (80 in 8 weeks) with a 14-day cycle suggests 80 * 14 / 56 = 20.
    """
    if sold <= 0:
        return ZERO
    threshold = sold * cycle_days / days
    return threshold.quantize(QUANTUM if allows_fractions else WHOLE, rounding=ROUND_CEILING)


@dataclass(frozen=True)
class WeekOfSales:
    start: datetime
    end: datetime
    quantity: Decimal


@dataclass(frozen=True)
class SalesPace:
    """Sales of some stock lines over the window: per week (oldest first) and per line."""

    weeks: list[WeekOfSales]
    by_line: dict[int, Decimal]

    @property
    def total(self) -> Decimal:
        return sum((week.quantity for week in self.weeks), ZERO)

    @property
    def per_week(self) -> Decimal:
        return self.total / SALES_WEEKS


def sales_pace(line_ids: list[int], *, now: datetime) -> SalesPace:
    """Weekly sales of these lines, in one query: a sum per line and per week."""
    starts = [now - timedelta(days=7 * (SALES_WEEKS - index)) for index in range(SALES_WEEKS)]
    bounds = [*starts, now]
    sums = {
        f"week_{index}": -Sum(
            "quantity", filter=Q(created_at__gte=bounds[index], created_at__lt=bounds[index + 1])
        )
        for index in range(SALES_WEEKS)
    }
    rows = list(
        sales_movements()
        .filter(stock_line_id__in=line_ids, created_at__gte=bounds[0], created_at__lt=now)
        .order_by()
        .values("stock_line_id")
        .annotate(**sums)
    )
    weeks = [
        WeekOfSales(
            start=bounds[index],
            end=bounds[index + 1],
            quantity=sum((row[f"week_{index}"] or ZERO for row in rows), ZERO),
        )
        for index in range(SALES_WEEKS)
    ]
    by_line = {
        row["stock_line_id"]: sum((row[name] or ZERO for name in sums), ZERO) for row in rows
    }
    return SalesPace(weeks=weeks, by_line=by_line)
