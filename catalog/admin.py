from django.contrib import admin

from core.admin_csv import SafeImportExportMixin

from .models import AverageCost, Category, Product, Supplier, Variant
from .resources import CatalogResource, CategoryResource, ProductResource, SupplierResource


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("sku", "name", "barcode", "unit", "alert_threshold", "is_active")


@admin.register(Product)
class ProductAdmin(SafeImportExportMixin, admin.ModelAdmin):
    list_display = ("name", "category", "alert_threshold", "is_active", "updated_at")
    list_filter = ("is_active", "category")
    search_fields = ("name", "variants__sku")
    list_select_related = ("category",)
    inlines = [VariantInline]
    resource_classes = [ProductResource]


@admin.register(Variant)
class VariantAdmin(SafeImportExportMixin, admin.ModelAdmin):
    list_display = (
        "sku",
        "product",
        "name",
        "barcode",
        "unit",
        "alert_threshold",
        "average_cost",
        "is_active",
    )
    list_filter = ("is_active", "unit", "product__category")
    search_fields = ("sku", "barcode", "name", "product__name")
    list_select_related = ("product",)
    autocomplete_fields = ("product",)
    #: Kept by the reception service; shown, never edited.
    readonly_fields = ("average_cost",)
    #: The catalog import: products and variants, one row per SKU.
    resource_classes = [CatalogResource]


@admin.register(Category)
class CategoryAdmin(SafeImportExportMixin, admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)
    resource_classes = [CategoryResource]


@admin.register(Supplier)
class SupplierAdmin(SafeImportExportMixin, admin.ModelAdmin):
    list_display = ("name", "email", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "email")
    resource_classes = [SupplierResource]


@admin.register(AverageCost)
class AverageCostAdmin(admin.ModelAdmin):
    """The cost history is written by receptions only: read-only here."""

    list_display = ("effective_at", "variant", "average_cost", "on_hand_after", "operation")
    list_filter = ("variant__product__category",)
    search_fields = ("variant__sku", "variant__product__name")
    list_select_related = ("variant__product",)
    date_hierarchy = "effective_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
