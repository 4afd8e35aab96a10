from django.contrib import admin

from core.admin_csv import SafeImportExportMixin

from .models import Warehouse
from .resources import WarehouseResource


class VisibleWarehouseFilter(admin.RelatedFieldListFilter):
    """A warehouse filter offering only the warehouses the user may see: staff assigned to
    some warehouses must not learn the others from a changelist's sidebar."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        visible = Warehouse.objects.visible_to(request.user)
        return field.get_choices(
            include_blank=False, ordering=ordering, limit_choices_to={"pk__in": visible}
        )


@admin.register(Warehouse)
class WarehouseAdmin(SafeImportExportMixin, admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "allow_negative_stock")
    list_filter = ("is_active", "allow_negative_stock")
    search_fields = ("code", "name")
    filter_horizontal = ("assigned_staff",)
    resource_classes = [WarehouseResource]

    def get_queryset(self, request):
        return Warehouse.objects.visible_to(request.user)
