"""The three roles as Django groups with real permissions.

Merchant: everything, including settings and thresholds. Warehouse staff: receives, adjusts,
transfers, locks and counts (optionally limited to assigned warehouses). Accountant: sees
and exports, changes nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_ALL = [
    ("catalog", "view_category"),
    ("catalog", "view_supplier"),
    ("catalog", "view_product"),
    ("catalog", "view_variant"),
    ("warehouses", "view_warehouse"),
    ("inventory", "view_stockline"),
    ("inventory", "view_movement"),
    ("inventory", "view_holdchange"),
]
STOCK_OPERATIONS = [
    ("inventory", "receive_stock"),
    ("inventory", "adjust_stock"),
    ("inventory", "transfer_stock"),
    ("inventory", "lock_stock"),
    ("inventory", "count_stock"),
]
ROLES = {
    "Merchant": VIEW_ALL
    + STOCK_OPERATIONS
    + [
        ("inventory", "reserve_stock"),
        ("inventory", "export_stock"),
        ("inventory", "change_stockline"),
        ("warehouses", "add_warehouse"),
        ("warehouses", "change_warehouse"),
    ]
    + [
        ("catalog", f"{action}_{model}")
        for model in ("category", "supplier", "product", "variant")
        for action in ("add", "change")
    ],
    "Warehouse staff": VIEW_ALL + STOCK_OPERATIONS,
    "Accountant": VIEW_ALL + [("inventory", "export_stock")],
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codenames:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_ledger_append_only"),
        ("catalog", "0001_initial"),
        ("warehouses", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
