"""Warehouses in the admin's import and export (django-import-export), keyed by code.

Staff assignments are not part of the file: who may see which warehouse is set in the admin.
"""

from import_export import fields, widgets
from import_export.instance_loaders import CachedInstanceLoader

from core.admin_csv import SafeResource, TextWidget

from .models import Warehouse


class WarehouseResource(SafeResource):
    code = fields.Field(attribute="code", column_name="Code", widget=TextWidget())
    name = fields.Field(attribute="name", column_name="Name", widget=TextWidget())
    address = fields.Field(attribute="address", column_name="Address")
    is_active = fields.Field(
        attribute="is_active",
        column_name="Active",
        widget=widgets.BooleanWidget(),
        saves_null_values=False,
    )
    allow_negative_stock = fields.Field(
        attribute="allow_negative_stock",
        column_name="Allow negative stock",
        widget=widgets.BooleanWidget(),
        saves_null_values=False,
    )

    class Meta:
        model = Warehouse
        fields = ("code", "name", "address", "is_active", "allow_negative_stock")
        import_id_fields = ("code",)
        instance_loader_class = CachedInstanceLoader
        skip_unchanged = True
        report_skipped = False
