"""Catalog resources for the admin's import and export (django-import-export).

Products (keyed by ID), suppliers and categories (keyed by name); the catalog of variants
keyed by SKU is ``catalog_import.CatalogResource``.
"""

from django.core.exceptions import ValidationError
from import_export import fields, widgets
from import_export.instance_loaders import CachedInstanceLoader

from core.admin_csv import DecimalWidget, SafeResource, TextWidget

from .catalog_import import CatalogResource
from .models import Category, Product, Supplier

__all__ = ["CatalogResource", "CategoryResource", "ProductResource", "SupplierResource"]

CATEGORY = "Category"
MSG_UNKNOWN_CATEGORY = "There is no category named “%(name)s”."
MSG_UNKNOWN_PRODUCT_ID = "There is no product with ID %(id)s: leave the ID blank to add a product."


class CategoryWidget(widgets.ForeignKeyWidget):
    """A category by its name; blank for none."""

    def __init__(self, **kwargs):
        super().__init__(Category, field="name", **kwargs)

    def clean(self, value, row=None, **kwargs):
        name = str(value or "").strip()
        if not name:
            return None
        try:
            return Category.objects.get(name=name)
        except Category.DoesNotExist:
            raise ValueError(MSG_UNKNOWN_CATEGORY % {"name": name}) from None


class ProductResource(SafeResource):
    """Product details, keyed by ID (a blank ID creates a product); variants are in the
    catalog import."""

    id = fields.Field(attribute="id", column_name="ID", widget=widgets.IntegerWidget())
    name = fields.Field(attribute="name", column_name="Name", widget=TextWidget())
    category = fields.Field(attribute="category", column_name=CATEGORY, widget=CategoryWidget())
    description = fields.Field(attribute="description", column_name="Description")
    alert_threshold = fields.Field(
        attribute="alert_threshold", column_name="Default alert threshold", widget=DecimalWidget()
    )
    weight_kg = fields.Field(
        attribute="weight_kg", column_name="Weight (kg)", widget=DecimalWidget()
    )
    length_cm = fields.Field(
        attribute="length_cm", column_name="Length (cm)", widget=DecimalWidget()
    )
    width_cm = fields.Field(attribute="width_cm", column_name="Width (cm)", widget=DecimalWidget())
    height_cm = fields.Field(
        attribute="height_cm", column_name="Height (cm)", widget=DecimalWidget()
    )
    is_active = fields.Field(
        attribute="is_active",
        column_name="Active",
        widget=widgets.BooleanWidget(),
        saves_null_values=False,
    )
    skus = fields.Field(column_name="SKUs", readonly=True)

    class Meta:
        model = Product
        fields = (
            "id",
            "name",
            "category",
            "description",
            "alert_threshold",
            "weight_kg",
            "length_cm",
            "width_cm",
            "height_cm",
            "is_active",
            "skus",
        )
        import_id_fields = ("id",)
        instance_loader_class = CachedInstanceLoader
        skip_unchanged = True
        report_skipped = False

    def get_or_init_instance(self, instance_loader, row):
        instance, new = super().get_or_init_instance(instance_loader, row)
        given = str(row.get("ID") or "").strip()
        if new and given:
            raise ValidationError({"id": MSG_UNKNOWN_PRODUCT_ID % {"id": given}})
        return instance, new

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("category").prefetch_related("variants")

    def dehydrate_skus(self, product) -> str:
        return " ".join(sorted(variant.sku for variant in product.variants.all()))


class SupplierResource(SafeResource):
    """Suppliers keyed by name."""

    name = fields.Field(attribute="name", column_name="Name", widget=TextWidget())
    email = fields.Field(attribute="email", column_name="Email", widget=TextWidget())
    phone = fields.Field(attribute="phone", column_name="Phone", widget=TextWidget())
    address = fields.Field(attribute="address", column_name="Address")
    is_active = fields.Field(
        attribute="is_active",
        column_name="Active",
        widget=widgets.BooleanWidget(),
        saves_null_values=False,
    )

    class Meta:
        model = Supplier
        fields = ("name", "email", "phone", "address", "is_active")
        import_id_fields = ("name",)
        instance_loader_class = CachedInstanceLoader
        skip_unchanged = True
        report_skipped = False


class CategoryResource(SafeResource):
    """Categories keyed by name."""

    name = fields.Field(attribute="name", column_name="Name", widget=TextWidget())

    class Meta:
        model = Category
        fields = ("name",)
        import_id_fields = ("name",)
        instance_loader_class = CachedInstanceLoader
        skip_unchanged = True
        report_skipped = False
