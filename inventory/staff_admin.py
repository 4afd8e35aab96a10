"""Admin pages of the warehouse staff flows (imported by inventory/admin.py).

Adjustment reasons are the merchant's to manage here. Expected receptions, receptions and
count sessions are read-only: they change stock (or Incoming), so they are created, received,
closed and applied on the staff screens, through the services.
"""

from django.contrib import admin

from warehouses.admin import VisibleWarehouseFilter
from warehouses.models import Warehouse

from .models import (
    AdjustmentReason,
    CountSession,
    ExpectedReception,
    ExpectedReceptionLine,
    Reception,
    ReceptionLine,
)


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class WarehouseScoped:
    def get_queryset(self, request):
        visible = Warehouse.objects.visible_to(request.user)
        return super().get_queryset(request).filter(warehouse__in=visible)


@admin.register(AdjustmentReason)
class AdjustmentReasonAdmin(admin.ModelAdmin):
    list_display = ("name", "ledger_reason", "is_active", "position")
    list_editable = ("is_active", "position")
    list_filter = ("ledger_reason", "is_active")
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        # Untick "offered" instead: the name stays readable in the notes that carry it.
        return False


class ExpectedReceptionLineInline(ReadOnly, admin.TabularInline):
    model = ExpectedReceptionLine
    fields = ("variant", "quantity", "received", "unit_cost")
    readonly_fields = fields
    extra = 0


@admin.register(ExpectedReception)
class ExpectedReceptionAdmin(ReadOnly, WarehouseScoped, admin.ModelAdmin):
    list_display = ("reference", "supplier", "warehouse", "expected_on", "status", "created_at")
    list_filter = ("status", ("warehouse", VisibleWarehouseFilter), "supplier")
    search_fields = ("reference", "supplier__name")
    list_select_related = ("supplier", "warehouse")
    inlines = [ExpectedReceptionLineInline]


class ReceptionLineInline(ReadOnly, admin.TabularInline):
    model = ReceptionLine
    fields = ("variant", "quantity", "ordered", "unit_cost")
    readonly_fields = fields
    extra = 0


@admin.register(Reception)
class ReceptionAdmin(ReadOnly, WarehouseScoped, admin.ModelAdmin):
    list_display = ("reference", "warehouse", "received_at", "received_by")
    list_filter = (("warehouse", VisibleWarehouseFilter), "supplier")
    search_fields = ("reference", "delivery_note", "supplier__name")
    list_select_related = ("supplier", "warehouse", "received_by")
    date_hierarchy = "received_at"
    inlines = [ReceptionLineInline]


@admin.register(CountSession)
class CountSessionAdmin(ReadOnly, WarehouseScoped, admin.ModelAdmin):
    list_display = ("__str__", "scope", "status", "created_at", "applied_at", "applied_by")
    list_filter = ("status", ("warehouse", VisibleWarehouseFilter))
    list_select_related = ("warehouse", "applied_by")
