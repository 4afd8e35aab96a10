"""The weighted average cost of each variant, kept by receptions.

A reception with a unit cost moves the variant's average towards that cost in proportion to the
quantities: ``(on_hand * average + quantity * cost) / (on_hand + quantity)``, where ``on_hand``
is the variant's stock across every warehouse just before the reception. A reception without a
cost enters the goods at the current average, which it leaves unchanged. Each change of the
average is also written to the cost history (``catalog.AverageCost``) at the reception's time,
so that stock can be valued at any past moment.

Only ``stock_receive`` uses this, inside its transaction, after ``StockBatch.lock``: stock lines
are always locked before variant rows, in that order everywhere, so operations queue instead of
deadlocking.
"""

import decimal
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.db import connection
from django.db.models import Sum

from catalog.models import COST_DIGITS, COST_PLACES, AverageCost, Variant

from ..models import StockLine
from .errors import InvalidQuantity
from .validation import to_decimal

COST_QUANTUM = Decimal(1).scaleb(-COST_PLACES)
MAX_COST = Decimal(10) ** (COST_DIGITS - COST_PLACES)
#: Quantities (15 digits) times costs (14 digits) need more than the default 28 digits.
ARITHMETIC = decimal.Context(prec=60)
#: SQLite refuses statements with too many bound parameters.
CHUNK = 5000

MSG_COST_NEGATIVE = "A unit cost cannot be negative."
MSG_COST_TOO_MANY_DECIMALS = "Use at most 4 decimal places for a unit cost."
MSG_COST_TOO_LARGE = "This unit cost is too large."


def clean_unit_cost(value) -> Decimal | None:
    """Return a unit cost as a Decimal with 4 places (None stays None), or raise
    ``InvalidQuantity`` with code ``invalid_unit_cost``."""
    if value is None or value == "":
        return None
    try:
        cost = to_decimal(value)
    except InvalidQuantity as error:
        raise InvalidQuantity(error.message, code="invalid_unit_cost") from None
    if cost < 0:
        raise InvalidQuantity(MSG_COST_NEGATIVE, code="invalid_unit_cost")
    if cost >= MAX_COST:
        raise InvalidQuantity(MSG_COST_TOO_LARGE, code="invalid_unit_cost")
    # Read the digits rather than quantize: a 200-digit fraction must be refused, not crash.
    _, digits, exponent = cost.as_tuple()
    extra = -exponent - COST_PLACES
    if extra > 0 and any(digits[-extra:]):
        raise InvalidQuantity(MSG_COST_TOO_MANY_DECIMALS, code="invalid_unit_cost")
    return cost.quantize(COST_QUANTUM, context=ARITHMETIC)


def weighted_average(
    *, on_hand: Decimal, average: Decimal | None, quantity: Decimal, unit_cost: Decimal
) -> Decimal:
    """The average after receiving ``quantity`` at ``unit_cost`` on top of ``on_hand`` units
    valued at ``average``. With nothing (or less than nothing) on hand, or no average yet, the
    received cost becomes the average: there is no other stock to weigh it against."""
    if average is None or on_hand <= 0:
        return unit_cost
    total = ARITHMETIC.add(
        ARITHMETIC.multiply(on_hand, average), ARITHMETIC.multiply(quantity, unit_cost)
    )
    return ARITHMETIC.divide(total, on_hand + quantity).quantize(
        COST_QUANTUM, rounding=ROUND_HALF_UP, context=ARITHMETIC
    )


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    step = CHUNK if connection.vendor == "sqlite" else max(len(ids), 1)
    for start in range(0, len(ids), step):
        yield ids[start : start + step]


class CostBook:
    """The locked variants of one reception and their running averages."""

    def __init__(self, variants: dict[int, Variant], on_hand: dict[int, Decimal]):
        self.variants = variants
        self.average = {pk: variant.average_cost for pk, variant in variants.items()}
        self.on_hand = on_hand
        self._changed: set[int] = set()

    @classmethod
    def lock(cls, variant_ids: Iterable[int]) -> "CostBook":
        """Lock the variant rows (``SELECT ... FOR UPDATE`` ordered by pk) and read their stock
        across every warehouse. Call after the stock lines are locked."""
        ids = sorted(set(variant_ids))
        variants: dict[int, Variant] = {}
        on_hand: dict[int, Decimal] = dict.fromkeys(ids, Decimal(0))
        for chunk in _chunks(ids):
            for variant in Variant.objects.filter(pk__in=chunk).order_by("pk").select_for_update():
                variants[variant.pk] = variant
            totals = (
                StockLine.objects.filter(variant_id__in=chunk)
                .values("variant_id")
                .annotate(total=Sum("on_hand"))
                .values_list("variant_id", "total")
            )
            on_hand.update(totals)
        return cls(variants, on_hand)

    def receive(self, variant: Variant, quantity: Decimal, unit_cost: Decimal | None):
        """Account for ``quantity`` received at ``unit_cost``; return the cost the movement
        records: the given one, or the current average when none is given."""
        pk = variant.pk
        held = self.on_hand[pk]
        self.on_hand[pk] = held + quantity
        if unit_cost is None:
            return self.average[pk]
        average = weighted_average(
            on_hand=held, average=self.average[pk], quantity=quantity, unit_cost=unit_cost
        )
        if average != self.average[pk]:
            self.average[pk] = average
            self._changed.add(pk)
        return unit_cost

    def save(self, *, moment: datetime, operation: UUID, received: Iterable[Variant]) -> None:
        """Write the changed averages on the variants and in the cost history."""
        if not self._changed:
            return
        changed = sorted(self._changed)
        AverageCost.objects.bulk_create(
            [
                AverageCost(
                    variant_id=pk,
                    effective_at=moment,
                    average_cost=self.average[pk],
                    on_hand_after=self.on_hand[pk],
                    operation=operation,
                )
                for pk in changed
            ],
            batch_size=CHUNK,
        )
        field = Variant._meta.get_field("average_cost")
        quote = connection.ops.quote_name
        sql = (
            f"UPDATE {quote(Variant._meta.db_table)} SET {quote(field.column)} = %s "
            f"WHERE {quote(Variant._meta.pk.column)} = %s"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                sql,
                [[field.get_db_prep_value(self.average[pk], connection), pk] for pk in changed],
            )
        # The caller's objects show the new average too.
        for variant in received:
            if variant.pk in self._changed:
                variant.average_cost = self.average[variant.pk]
