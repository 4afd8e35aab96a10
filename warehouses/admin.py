from django.contrib import admin

from catalog.csv_formats import SafeImportExportMixin

from .models import Warehouse
from .resources import WarehouseResource


@admin.register(Warehouse)
class WarehouseAdmin(SafeImportExportMixin, admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "allow_negative_stock")
    list_filter = ("is_active", "allow_negative_stock")
    search_fields = ("code", "name")
    filter_horizontal = ("assigned_staff",)
    resource_classes = [WarehouseResource]
