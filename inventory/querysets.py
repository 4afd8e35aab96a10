"""Read-side building blocks: QuerySet methods that chain like adjectives.

``StockLine.objects.in_warehouse(w).with_status().low_stock()``
"""

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce


class StockLineQuerySet(models.QuerySet):
    def in_warehouse(self, warehouse):
        return self.filter(warehouse=warehouse)

    def for_variant(self, variant):
        return self.filter(variant=variant)

    def visible_to(self, user):
        from warehouses.models import Warehouse

        if user.is_superuser or not user.assigned_warehouses.exists():
            return self
        return self.filter(warehouse__in=Warehouse.objects.visible_to(user))

    def with_catalog(self):
        return self.select_related("variant__product", "warehouse")

    def with_threshold(self):
        """Annotate ``threshold``: the line's own, else the variant's, else the product's."""
        return self.annotate(
            threshold=Coalesce(
                "alert_threshold",
                "variant__alert_threshold",
                "variant__product__alert_threshold",
            )
        )

    def with_status(self):
        from .models import StockStatus

        return self.with_threshold().annotate(
            status=Case(
                When(available__lte=0, then=Value(StockStatus.OUT)),
                When(
                    threshold__isnull=False,
                    available__lt=F("threshold"),
                    then=Value(StockStatus.LOW),
                ),
                default=Value(StockStatus.OK),
                output_field=models.CharField(),
            )
        )

    def stockout(self):
        return self.filter(available__lte=0)

    def low_stock(self):
        return self.with_threshold().filter(
            Q(available__gt=0) & Q(threshold__isnull=False) & Q(available__lt=F("threshold"))
        )

    def total_stockout(self):
        return self.filter(on_hand=0)


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
        from warehouses.models import Warehouse

        if user.is_superuser or not user.assigned_warehouses.exists():
            return self
        return self.filter(stock_line__warehouse__in=Warehouse.objects.visible_to(user))
