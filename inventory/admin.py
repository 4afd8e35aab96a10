"""The admin shows stock and the ledger; it never changes a quantity by itself.

Stock lines: only the per-warehouse alert threshold is editable. Movements and hold changes
are read-only (and the database refuses UPDATE and DELETE on them anyway).
"""

from django.contrib import admin

from core.admin_csv import SafeExportMixin
from warehouses.admin import VisibleWarehouseFilter
from warehouses.models import Warehouse

from . import staff_admin  # noqa: F401  (registers the staff flows' models)
from .models import HoldChange, Movement, StockLine
from .resources import MovementResource, StockLineResource


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockLine)
class StockLineAdmin(SafeExportMixin, admin.ModelAdmin):
    list_display = (
        "variant",
        "warehouse",
        "available",
        "reserved",
        "locked",
        "on_hand",
        "alert_threshold",
        "last_movement_at",
    )
    list_filter = (("warehouse", VisibleWarehouseFilter),)
    search_fields = ("variant__sku", "variant__product__name")
    list_select_related = ("variant__product", "warehouse")
    fields = (
        "variant",
        "warehouse",
        "on_hand",
        "reserved",
        "locked",
        "available",
        "alert_threshold",
        "last_movement_at",
        "ledger_head",
    )
    readonly_fields = tuple(f for f in fields if f != "alert_threshold")
    show_full_result_count = False
    resource_classes = [StockLineResource]
    streamed_alternative = "the inventory CSV (/inventory/export.csv)"

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Movement)
class MovementAdmin(SafeExportMixin, ReadOnlyAdmin):
    list_display = (
        "created_at",
        "stock_line",
        "type",
        "reason",
        "quantity",
        "balance_after",
        "reference",
        "created_by",
    )
    list_filter = ("type", "reason", ("stock_line__warehouse", VisibleWarehouseFilter))
    search_fields = ("stock_line__variant__sku", "reference", "note")
    list_select_related = ("stock_line__variant__product", "stock_line__warehouse", "created_by")
    date_hierarchy = "created_at"
    show_full_result_count = False
    resource_classes = [MovementResource]
    streamed_alternative = "the movement journal's CSV (/movements/export.csv)"

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


@admin.register(HoldChange)
class HoldChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "stock_line",
        "kind",
        "reason",
        "reserved_delta",
        "locked_delta",
        "reference",
        "created_by",
    )
    list_filter = ("kind", "reason", ("stock_line__warehouse", VisibleWarehouseFilter))
    search_fields = ("stock_line__variant__sku", "reference")
    list_select_related = ("stock_line__variant__product", "stock_line__warehouse", "created_by")
    show_full_result_count = False

    def get_queryset(self, request):
        visible = Warehouse.objects.visible_to(request.user)
        return super().get_queryset(request).filter(stock_line__warehouse__in=visible)
