from django.contrib import admin

from .models import Category, Product, Supplier, Variant


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("sku", "name", "barcode", "unit", "alert_threshold", "is_active")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "alert_threshold", "is_active", "updated_at")
    list_filter = ("is_active", "category")
    search_fields = ("name", "variants__sku")
    inlines = [VariantInline]


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ("sku", "product", "name", "barcode", "unit", "alert_threshold", "is_active")
    list_filter = ("is_active", "unit", "product__category")
    search_fields = ("sku", "barcode", "name", "product__name")
    list_select_related = ("product",)
    autocomplete_fields = ("product",)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "email")
