"""The alert threshold of each stock line, kept as a copy on the line.

A line's status (OK, Low stock, Stockout) compares its available quantity with the threshold
that applies to it: the line's own, else its variant's, else its product's. The database
computes ``StockLine.status`` from a copy of that threshold, ``effective_threshold``, so that
the status filter and its counts are an index scan at a million lines instead of a three-table
join. This module keeps the copy right:

- a product, variant or stock line saved anywhere (admin, import, shell, the SKU page) refreshes
  the lines it governs: the post_save receivers in ``inventory.receivers`` call
  ``stock_lines_refresh_thresholds``, which rewrites only the lines whose copy differs;
- the stock writer gives a new line its variant's threshold (``variant_thresholds``);
- a change that bypasses ``save()`` (``QuerySet.update``, ``bulk_update``, set-based SQL) must
  call ``stock_lines_refresh_thresholds()`` afterwards (``manage.py refresh_thresholds``);
  ``verify_ledger`` reports any line whose copy is stale.
"""

import logging
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, LessThan

from catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES, Variant

from ..models import StockLine
from .validation import clean_quantity

logger = logging.getLogger(__name__)

#: Lines locked and rewritten per transaction by a refresh over many lines.
REFRESH_CHUNK = 2000
#: Variants looked up per query (SQLite limits the number of bound parameters).
LOOKUP_CHUNK = 5000
#: Thresholds are never negative: a stand-in for "none" when comparing old and new copies.
NO_THRESHOLD = Value(Decimal(-1), output_field=DecimalField())


def _threshold_field() -> DecimalField:
    return DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)


def _variant_threshold():
    """The variant's threshold, else its product's (a subquery on the line's variant)."""
    return Subquery(
        Variant.objects.filter(pk=OuterRef("variant_id"))
        .order_by()
        .values(applies=Coalesce("alert_threshold", "product__alert_threshold"))[:1],
        output_field=_threshold_field(),
    )


def threshold_that_applies():
    """An expression on stock lines: the threshold that applies to each line now."""
    return Coalesce(F("alert_threshold"), _variant_threshold(), output_field=_threshold_field())


def variant_thresholds(variant_ids: Iterable[int]) -> dict[int, Decimal | None]:
    """The threshold a new stock line of each variant takes: the variant's, else the product's.

    ``LOOKUP_CHUNK`` variants per query: a 100,000-line reception stays within SQLite's limit
    on bound parameters.
    """
    ids = sorted(set(variant_ids))
    thresholds = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        thresholds.update(
            Variant.objects.filter(pk__in=ids[start : start + LOOKUP_CHUNK])
            .order_by()
            .values_list("pk", Coalesce("alert_threshold", "product__alert_threshold"))
        )
    return thresholds


def _joined_threshold():
    # Read through joins (one hash join over a million lines) rather than the correlated
    # subquery an UPDATE needs: checking every line takes seconds, not tens of seconds.
    return Coalesce(
        "alert_threshold",
        "variant__alert_threshold",
        "variant__product__alert_threshold",
        output_field=_threshold_field(),
    )


def stale_threshold_lines():
    """Stock lines whose ``effective_threshold`` is not the threshold that applies to them."""
    current = Coalesce(F("effective_threshold"), NO_THRESHOLD)
    wanted = Coalesce(_joined_threshold(), NO_THRESHOLD)
    return StockLine.objects.annotate(wanted_threshold=_joined_threshold()).filter(
        Q(LessThan(current, wanted)) | Q(GreaterThan(current, wanted))
    )


def stock_lines_refresh_thresholds(
    *,
    line_ids: Iterable[int] | None = None,
    variant_ids: Iterable[int] | None = None,
    product_ids: Iterable[int] | None = None,
) -> int:
    """Rewrite ``effective_threshold`` on the lines whose copy is stale; return how many.

    Without arguments, every line is checked. Lines are locked ``FOR UPDATE`` in primary-key
    order, as the stock services lock them, so a refresh and a stock operation on the same
    lines queue instead of deadlocking; a line whose copy is right is neither locked nor
    written. Runs one transaction per ``REFRESH_CHUNK`` lines.
    """
    scopes = {
        "pk__in": line_ids,
        "variant_id__in": variant_ids,
        "variant__product_id__in": product_ids,
    }
    given = {lookup: list(ids) for lookup, ids in scopes.items() if ids is not None}
    if given and not any(given.values()):
        return 0
    scope = Q()
    for lookup, ids in given.items():
        if ids:
            scope |= Q(**{lookup: ids})
    candidates = stale_threshold_lines().filter(scope).order_by("pk")
    refreshed = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            ids = list(
                candidates.filter(pk__gt=last_pk)
                .select_for_update(of=("self",))
                .values_list("pk", flat=True)[:REFRESH_CHUNK]
            )
            if ids:
                refreshed += StockLine.objects.filter(pk__in=ids).update(
                    effective_threshold=threshold_that_applies()
                )
        if len(ids) < REFRESH_CHUNK:
            return refreshed
        last_pk = ids[-1]


def variant_set_alert_threshold(*, variant: Variant, threshold, user=None) -> Variant:
    """Set (or, with ``None``, clear) a variant's alert threshold; its lines follow.

    The threshold respects the variant's unit (whole pieces) like any quantity; a bad value
    raises ``InvalidQuantity`` and changes nothing. Saving the variant refreshes its stock
    lines' copies in the same transaction (``inventory.receivers``).
    """
    if threshold is not None:
        threshold = clean_quantity(threshold, variant=variant, sign="non_negative")
    with transaction.atomic():
        variant.alert_threshold = threshold
        variant.save(update_fields=["alert_threshold"])
    logger.info(
        "alert threshold of %s set to %s by %s",
        variant.sku,
        "none" if threshold is None else f"{threshold:f}",
        getattr(user, "username", None) or "a script",
    )
    return variant
