"""One SKU's page: its stock per warehouse, thresholds, sales pace, chart and history.

Everything is limited to the warehouses the user may see. The page costs a fixed number of
queries whatever the number of warehouses or movements: the lines with their starting
balances (one query), the sales per week and line (one), the chart's movements (one), and
one page of history (a count and a page).
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from catalog.models import SKU_PATTERN, Variant

from ..charts import Series
from ..models import Movement, StockLine
from . import sales

ZERO = Decimal(0)
#: Periods the chart can show, in days; the first is the default.
CHART_PERIODS = (90, 30, 180, 365)
QUANTITIES = ("on_hand", "reserved", "locked", "available", "incoming")


def variant_by_sku(sku: str) -> Variant | None:
    """The variant with this SKU, in any case (the case-insensitive unique index); None for
    an unknown SKU or text that cannot be one."""
    if not re.fullmatch(SKU_PATTERN, sku):
        return None
    return (
        Variant.objects.select_related("product")
        .annotate(sku_lower=Lower("sku"))
        .filter(sku_lower=sku.lower())
        .first()
    )


@dataclass
class SkuLine:
    """One warehouse's line of the SKU, with its pace of sales."""

    line: StockLine
    sold: Decimal
    days_of_cover: int | None

    @property
    def threshold_source(self) -> str:
        """Where the threshold in force comes from: this warehouse, the variant or product."""
        variant = self.line.variant
        if self.line.alert_threshold is not None:
            return "warehouse"
        if variant.alert_threshold is not None:
            return "variant"
        if variant.product.alert_threshold is not None:
            return "product"
        return ""


@dataclass
class SkuOverview:
    variant: Variant
    lines: list[SkuLine]
    totals: dict[str, Decimal]
    pace: sales.SalesPace
    days_of_cover: int | None
    cycle_days: int
    suggested_threshold: Decimal
    chart_series: list[Series]
    chart_start: datetime
    chart_end: datetime

    @property
    def shared_threshold(self) -> Decimal | None:
        """The threshold every line uses, when they all use the same one (drawn on the chart)."""
        thresholds = {item.line.effective_threshold for item in self.lines}
        return thresholds.pop() if len(thresholds) == 1 else None


def sku_lines(variant: Variant, *, user) -> QuerySet:
    return (
        StockLine.objects.visible_to(user)
        .filter(variant=variant)
        .select_related("warehouse")
        .order_by("warehouse__code")
    )


def sku_overview(
    variant: Variant, *, user, now: datetime, cycle_days: int, chart_days: int
) -> SkuOverview:
    chart_start = now - timedelta(days=chart_days)
    balance_before = (
        Movement.objects.filter(stock_line=OuterRef("pk"), created_at__lt=chart_start)
        .order_by("-created_at", "-id")
        .values("balance_after")[:1]
    )
    lines = list(sku_lines(variant, user=user).annotate(balance_at_start=Subquery(balance_before)))
    for line in lines:
        line.variant = variant  # already loaded, with its product
    pace = sales.sales_pace([line.pk for line in lines], now=now)
    items = [
        SkuLine(
            line=line,
            sold=pace.by_line.get(line.pk, ZERO),
            days_of_cover=sales.days_of_cover(line.available, pace.by_line.get(line.pk, ZERO)),
        )
        for line in lines
    ]
    totals = {name: sum((getattr(line, name) for line in lines), ZERO) for name in QUANTITIES}
    return SkuOverview(
        variant=variant,
        lines=items,
        totals=totals,
        pace=pace,
        days_of_cover=sales.days_of_cover(totals["available"], pace.total),
        cycle_days=cycle_days,
        suggested_threshold=sales.suggested_threshold(
            pace.total, cycle_days=cycle_days, allows_fractions=variant.allows_fractions
        ),
        chart_series=on_hand_series(lines, start=chart_start, end=now),
        chart_start=chart_start,
        chart_end=now,
    )


def on_hand_series(lines: list[StockLine], *, start: datetime, end: datetime) -> list[Series]:
    """Each line's on-hand quantity from ``start`` to ``end``: its balance at ``start``, then
    its closing balance of each day with movements (a day's last ``balance_after``).

    Lines annotated with ``balance_at_start`` (None: no movement before ``start``, so 0).
    One query reads the movements of the period through the (stock_line, created_at) index.
    """
    closing: dict[int, dict] = {line.pk: {} for line in lines}
    movements = (
        Movement.objects.filter(stock_line__in=[line.pk for line in lines], created_at__gte=start)
        .filter(created_at__lte=end)
        .order_by("created_at", "id")
        .values_list("stock_line_id", "created_at", "balance_after")
    )
    for line_id, moment, balance in movements:
        day = timezone.localdate(moment)
        # The day's last movement wins; it is plotted at that movement's time.
        closing[line_id][day] = (moment, balance)
    series = []
    for line in lines:
        points = [(start, line.balance_at_start or ZERO)]
        points.extend(closing[line.pk].values())
        series.append(Series(label=line.warehouse.code, points=points))
    return series


def sku_history(variant: Variant, *, user) -> QuerySet:
    """The SKU's movements in the warehouses ``user`` may see, newest first."""
    return (
        Movement.objects.filter(stock_line__in=sku_lines(variant, user=user).values("pk"))
        .select_related("stock_line__warehouse", "created_by")
        .order_by("-created_at", "-id")
    )
