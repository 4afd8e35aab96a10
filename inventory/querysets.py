"""Read-side building blocks: QuerySet methods that chain like adjectives.

``StockLine.objects.in_warehouse(w).with_status().low_stock()``
"""

from django.db import models
from django.db.models import F

from warehouses.models import warehouse_scope


class StockLineQuerySet(models.QuerySet):
    def in_warehouse(self, warehouse):
        return self.filter(warehouse=warehouse)

    def for_variant(self, variant):
        return self.filter(variant=variant)

    def visible_to(self, user):
        scope = warehouse_scope(user)
        return self if scope is None else self.filter(warehouse_id__in=scope)

    def with_catalog(self):
        return self.select_related("variant__product", "warehouse")

    def with_threshold(self):
        """Annotate ``threshold``: the line's own, else the variant's, else the product's
        (``effective_threshold``, the copy inventory.services.thresholds keeps)."""
        return self.annotate(threshold=F("effective_threshold"))

    def with_status(self):
        """``status`` is a column computed by the database; kept so that callers chain."""
        return self

    def in_status(self, *statuses):
        """Lines in any of these statuses.

        A single Low stock or Stockout also bounds ``available`` as the status implies
        (Low: above 0; Stockout: 0 or less), so that sorting them by available starts the
        index scan where they are instead of stepping over the other status first.
        """
        from .models import StockStatus

        statuses = set(statuses)
        lines = self.filter(status__in=sorted(statuses))
        if statuses == {StockStatus.LOW}:
            lines = lines.filter(available__gt=0)
        elif statuses == {StockStatus.OUT}:
            lines = lines.filter(available__lte=0)
        return lines

    def stockout(self):
        from .models import StockStatus

        return self.filter(status=StockStatus.OUT)

    def low_stock(self):
        from .models import StockStatus

        return self.filter(status=StockStatus.LOW)

    def total_stockout(self):
        # Nothing on hand means nothing available either (reserved and locked are never
        # negative): the implied bound lets a sort by available start where these lines are.
        return self.filter(on_hand=0, available__lte=0)

    def search(self, text: str, *, walk_variants: bool = True):
        """Lines whose product or variant name contains ``text``, or whose SKU or barcode
        starts with it; in any case.

        SKUs and barcodes are matched from their start, as they are typed or scanned: SKUs
        share long prefixes ("TSH-2024-..."), which trigrams cannot tell apart, while a
        pattern index finds a prefix in a few pages (migration 0009). The matching variants
        come from two index scans, one on the variant's own fields and one on the product
        name; an OR across the joined tables would read every line.

        See ``StockSearch`` for how the lines are found, quickly whatever the term.
        """
        from .selectors.search import StockSearch

        return self.filter(StockSearch.read(text).condition(walk_variants=walk_variants))

    def not_moved_since(self, moment):
        """Lines whose last movement is before ``moment``, and lines that never moved."""
        from .models.stock_line import last_movement_or_never

        return self.alias(last_moved=last_movement_or_never()).filter(last_moved__lt=moment)


class MovementQuerySet(models.QuerySet):
    def for_line(self, stock_line):
        return self.filter(stock_line=stock_line)

    def with_catalog(self):
        return self.select_related(
            "stock_line__variant__product", "stock_line__warehouse", "created_by"
        )

    def before(self, moment):
        return self.filter(created_at__lt=moment)

    def visible_to(self, user):
        """Movements of the warehouses ``user`` may see (see StockLineQuerySet.visible_to)."""
        scope = warehouse_scope(user)
        return self if scope is None else self.filter(stock_line__warehouse_id__in=scope)
