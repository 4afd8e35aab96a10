"""Stock lines and movements in the admin's export (django-import-export). Export only: the
admin never changes a quantity (a stock import would be a reception or a count, through the
services). Columns follow the app's own CSVs; Warehouse is the warehouse's code."""

from import_export import fields

from core.admin_csv import SafeResource

from .models import Movement, StockLine


class StockLineResource(SafeResource):
    product = fields.Field(attribute="variant__product__name", column_name="Product")
    variant = fields.Field(attribute="variant__name", column_name="Variant")
    sku = fields.Field(attribute="variant__sku", column_name="SKU")
    warehouse = fields.Field(attribute="warehouse__code", column_name="Warehouse")
    available = fields.Field(attribute="available", column_name="Available")
    reserved = fields.Field(attribute="reserved", column_name="Reserved")
    locked = fields.Field(attribute="locked", column_name="Locked")
    on_hand = fields.Field(attribute="on_hand", column_name="Total")
    incoming = fields.Field(attribute="incoming", column_name="Incoming")
    alert_threshold = fields.Field(
        attribute="alert_threshold", column_name="Alert threshold in this warehouse"
    )
    last_movement_at = fields.Field(attribute="last_movement_at", column_name="Last movement")

    class Meta:
        model = StockLine
        fields = (
            "product",
            "variant",
            "sku",
            "warehouse",
            "available",
            "reserved",
            "locked",
            "on_hand",
            "incoming",
            "alert_threshold",
            "last_movement_at",
        )

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("variant__product", "warehouse")


class MovementResource(SafeResource):
    created_at = fields.Field(attribute="created_at", column_name="Date")
    sku = fields.Field(attribute="stock_line__variant__sku", column_name="SKU")
    product = fields.Field(attribute="stock_line__variant__product__name", column_name="Product")
    variant = fields.Field(attribute="stock_line__variant__name", column_name="Variant")
    warehouse = fields.Field(attribute="stock_line__warehouse__code", column_name="Warehouse")
    type = fields.Field(column_name="Type")
    reason = fields.Field(column_name="Reason")
    quantity = fields.Field(attribute="quantity", column_name="Quantity")
    balance_after = fields.Field(attribute="balance_after", column_name="Balance after")
    unit_cost = fields.Field(attribute="unit_cost", column_name="Unit cost")
    reference = fields.Field(attribute="reference", column_name="Reference")
    note = fields.Field(attribute="note", column_name="Note")
    user = fields.Field(attribute="created_by__username", column_name="User")

    class Meta:
        model = Movement
        fields = (
            "created_at",
            "sku",
            "product",
            "variant",
            "warehouse",
            "type",
            "reason",
            "quantity",
            "balance_after",
            "unit_cost",
            "reference",
            "note",
            "user",
        )

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related(
            "stock_line__variant__product", "stock_line__warehouse", "created_by"
        )

    def dehydrate_type(self, movement) -> str:
        return movement.get_type_display()

    def dehydrate_reason(self, movement) -> str:
        return movement.get_reason_display()
