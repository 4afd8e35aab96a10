"""The count session screens: the sheet, the gaps, the figures. Reads only.

Each line is shown with what it is now (on hand and available, read through the line's stock
line: one index probe per row) so that the gaps screen says what applying will do; a page of
lines and the session's figures cost one query each, whatever the session's size.
"""

from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from ..models import ZERO, CountLine, CountSession, StockLine
from ..uploads import SkuRef

QUANTITY = DecimalField(max_digits=16, decimal_places=3)


def on_hand_now(warehouse_id: int):
    """The on hand of the line's variant in the warehouse, now (0 without a stock line)."""
    return Coalesce(
        Subquery(
            StockLine.objects.filter(
                variant_id=OuterRef("variant_id"), warehouse_id=warehouse_id
            ).values("on_hand")[:1]
        ),
        Value(ZERO),
        output_field=QUANTITY,
    )


@dataclass(frozen=True)
class CountSummary:
    lines: int
    counted: int
    with_gap: int
    big_gaps: int
    #: None when not computed (the counting screen does without it).
    would_go_negative: int | None

    @property
    def uncounted(self) -> int:
        return self.lines - self.counted


def count_lines_with_gaps(session: CountSession):
    """The session's lines with what the gaps screen shows: ``gap_value``, ``on_hand_now``,
    ``moved_now`` (on hand now minus expected), ``after`` (on hand once applied),
    ``available_after``, and the flags ``big`` and ``goes_negative``. One query a page."""
    warehouse_id = session.warehouse_id
    available_now = Coalesce(
        Subquery(
            StockLine.objects.filter(
                variant_id=OuterRef("variant_id"), warehouse_id=warehouse_id
            ).values("available")[:1]
        ),
        Value(ZERO),
        output_field=QUANTITY,
    )
    gap = F("counted") - F("expected")
    return (
        CountLine.objects.filter(session=session)
        .select_related("variant__product")
        .annotate(
            gap_value=gap,
            on_hand_now=on_hand_now(warehouse_id),
            available_now=available_now,
        )
        .annotate(
            moved_now=F("on_hand_now") - F("expected"),
            after=F("on_hand_now") + gap,
            available_after=F("available_now") + gap,
        )
        .annotate(
            big=ExpressionWrapper(big_gap_condition(session), output_field=BooleanField()),
            goes_negative=ExpressionWrapper(
                negative_condition(session), output_field=BooleanField()
            ),
        )
        .order_by("pk")
    )


def big_gap_condition(session: CountSession) -> Q:
    """Counted, and the gap is at least the session's threshold, either way."""
    return Q(counted__isnull=False) & (
        Q(gap_value__gte=session.big_gap) | Q(gap_value__lte=-session.big_gap)
    )


def negative_condition(session: CountSession) -> Q:
    """Applying would take available stock below zero where the warehouse forbids it (the
    stock writer's rule: only a line whose available goes down is refused)."""
    if session.warehouse.allow_negative_stock:
        return Q(pk__isnull=True)  # never
    return Q(counted__isnull=False, available_after__lt=0) & Q(gap_value__lt=0)


def count_summary(session: CountSession, *, with_negative: bool = True) -> CountSummary:
    """The figures of a session: one aggregate over its own lines (no join), then, with
    ``with_negative``, a second query that looks at stock lines only for the lines whose
    count is below what was expected (the only ones that can go below available)."""
    gap = F("counted") - F("expected")
    big = Q(counted__isnull=False) & (Q(gap__gte=session.big_gap) | Q(gap__lte=-session.big_gap))
    totals = (
        CountLine.objects.filter(session=session)
        .annotate(gap=gap)
        .aggregate(  # n_: an aggregate may not share a field's name ("counted")
            n_lines=Count("pk"),
            n_counted=Count("pk", filter=Q(counted__isnull=False)),
            n_with_gap=Count("pk", filter=Q(counted__isnull=False) & ~Q(gap=0)),
            n_big_gaps=Count("pk", filter=big),
        )
    )
    negative = None
    if with_negative:
        negative = lines_going_negative(session).count()
    figures = {name.removeprefix("n_"): value for name, value in totals.items()}
    return CountSummary(**figures, would_go_negative=negative)


def lines_going_negative(session: CountSession):
    """Counted lines that applying would take below available where that is forbidden."""
    shortfalls = count_lines_with_gaps(session).filter(
        counted__isnull=False, counted__lt=F("expected")
    )
    return shortfalls.filter(negative_condition(session))


def count_sheet_variants(session: CountSession) -> dict[str, SkuRef]:
    """The session's variants by lower-cased SKU, in one query (an upload's lookup)."""
    rows = CountLine.objects.filter(session=session).values_list(
        "variant_id", "variant__sku", "variant__unit"
    )
    return {sku.lower(): SkuRef(pk, sku, unit) for pk, sku, unit in rows.order_by()}


def count_sheet_rows(session: CountSession):
    """The count sheet, in sheet order: (SKU, product, variant name, barcode)."""
    return (
        CountLine.objects.filter(session=session)
        .order_by("pk")
        .values_list("variant__sku", "variant__product__name", "variant__name", "variant__barcode")
    )
