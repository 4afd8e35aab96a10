"""Costs and values: the average cost of a variant at any moment, and losses over a period.

The average cost of a variant as of a moment T is the latest row of its cost history
(``catalog.AverageCost``) strictly before T. The ``unit_cost`` recorded on a reception movement
is the price paid for that delivery, not the average, so it cannot value stock by itself; the
history holds the average as it stood after each reception that changed it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import OuterRef, Subquery

from catalog.models import AverageCost, Variant
from core.streaming import stream_rows

from ..models import MovementReason, MovementType

CENT = Decimal("0.01")
ZERO = Decimal(0)
NO_QUANTITY = Decimal("0.000")
NO_VALUE = Decimal("0.00")
COST_QUANTUM = Decimal("0.0001")

#: The reasons the losses report lists, in this order: every reason an adjustment can have.
LOSS_REPORT_REASONS = (
    MovementReason.BREAKAGE,
    MovementReason.LOSS,
    MovementReason.COUNT_CORRECTION,
    MovementReason.PHYSICAL_COUNT,
    MovementReason.FOUND,
    MovementReason.MANUAL,
)


def money(value: Decimal) -> Decimal:
    """A value rounded to the cent, halves away from zero (as PostgreSQL's round())."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def stock_value(on_hand: Decimal, unit_cost: Decimal | None) -> Decimal | None:
    """The value of a quantity at a unit cost, to the cent; None when the cost is unknown."""
    if unit_cost is None:
        return None
    return money(on_hand * unit_cost)


def cost_as_of(variant_ref, moment_ref, *, inclusive: bool = False) -> Subquery:
    """The average cost of ``variant_ref`` (an OuterRef or expression) as of ``moment_ref``:
    the latest history row before it (or at it, with ``inclusive``)."""
    lookup = "effective_at__lte" if inclusive else "effective_at__lt"
    rows = AverageCost.objects.filter(variant=variant_ref, **{lookup: moment_ref}).order_by(
        "-effective_at", "-id"
    )
    return Subquery(rows.values("average_cost")[:1])


def average_cost_at(variant: Variant, moment: datetime) -> Decimal | None:
    """The average cost ``variant`` had just before ``moment``; None before its first cost."""
    return (
        AverageCost.objects.filter(variant=variant, effective_at__lt=moment)
        .order_by("-effective_at", "-id")
        .values_list("average_cost", flat=True)
        .first()
    )


@dataclass
class LossLine:
    """One reason of the losses report: quantities and values lost and found."""

    reason: str
    label: str
    movements: int = 0
    lost_quantity: Decimal = NO_QUANTITY
    found_quantity: Decimal = NO_QUANTITY
    lost_value: Decimal = NO_VALUE
    found_value: Decimal = NO_VALUE
    #: Movements of variants that had no cost yet: counted in quantities, not in values.
    uncosted: int = 0

    @property
    def net_quantity(self) -> Decimal:
        return self.found_quantity - self.lost_quantity

    @property
    def net_value(self) -> Decimal:
        return self.found_value - self.lost_value

    def add(self, quantity: Decimal, unit_cost: Decimal | None) -> None:
        self.movements += 1
        value = None if unit_cost is None else quantity * unit_cost
        if unit_cost is None:
            self.uncosted += 1
        if quantity < 0:
            self.lost_quantity -= quantity
            self.lost_value -= value or ZERO
        else:
            self.found_quantity += quantity
            self.found_value += value or ZERO

    def rounded(self) -> "LossLine":
        """The same line with values rounded to the cent (after summing, not before)."""
        return LossLine(
            reason=self.reason,
            label=self.label,
            movements=self.movements,
            lost_quantity=self.lost_quantity,
            found_quantity=self.found_quantity,
            lost_value=money(self.lost_value),
            found_value=money(self.found_value),
            uncosted=self.uncosted,
        )


@dataclass
class LossReport:
    lines: list[LossLine] = field(default_factory=list)
    total: LossLine = field(default_factory=lambda: LossLine(reason="", label="Total"))


def loss_movements(movements, *, start: datetime | None = None, end: datetime | None = None):
    """Adjustments in ``[start, end)`` with the average cost their variant had at that time."""
    movements = movements.filter(type=MovementType.ADJUSTMENT, reason__in=LOSS_REPORT_REASONS)
    if start is not None:
        movements = movements.filter(created_at__gte=start)
    if end is not None:
        movements = movements.filter(created_at__lt=end)
    return movements.annotate(
        cost=cost_as_of(OuterRef("stock_line__variant_id"), OuterRef("created_at"), inclusive=True)
    )


def losses_by_reason(
    movements, *, start: datetime | None = None, end: datetime | None = None
) -> LossReport:
    """The losses report over ``movements`` (already limited to what the user may see):
    one line per adjustment reason, in quantity and in value at the average cost of the day.

    One query, streamed: the sums are exact decimals on every database."""
    labels = dict(MovementReason.choices)
    by_reason = {
        reason: LossLine(reason=reason, label=labels[reason]) for reason in LOSS_REPORT_REASONS
    }
    rows: Iterable = stream_rows(
        loss_movements(movements, start=start, end=end)
        .order_by()
        .values_list("reason", "quantity", "cost"),
        chunk_size=5000,
    )
    for reason, quantity, cost in rows:
        # SQLite hands subquery decimals back unscaled: scale the cost as PostgreSQL returns it.
        by_reason[reason].add(quantity, None if cost is None else cost.quantize(COST_QUANTUM))
    lines = [line.rounded() for line in by_reason.values()]
    # The total adds up the rounded lines, so that it matches them to the cent.
    total = LossLine(
        reason="",
        label="Total",
        movements=sum(line.movements for line in lines),
        lost_quantity=sum((line.lost_quantity for line in lines), NO_QUANTITY),
        found_quantity=sum((line.found_quantity for line in lines), NO_QUANTITY),
        lost_value=sum((line.lost_value for line in lines), NO_VALUE),
        found_value=sum((line.found_value for line in lines), NO_VALUE),
        uncosted=sum(line.uncosted for line in lines),
    )
    return LossReport(lines=lines, total=total)
