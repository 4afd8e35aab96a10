from django.contrib import admin

from .models import Warehouse


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "allow_negative_stock")
    list_filter = ("is_active", "allow_negative_stock")
    search_fields = ("code", "name")
    filter_horizontal = ("assigned_staff",)
