"""Order permissions for the roles, and the pipeline settings row with its defaults.

Everyone sees orders; the Merchant changes them (stage changes in the app) and the pipeline
settings. Reserving stock through the API needs inventory.reserve_stock, which only the
Merchant has (inventory/migrations/0003_roles.py).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_ORDERS = [
    ("orders", "view_order"),
    ("orders", "view_orderline"),
    ("orders", "view_orderstagechange"),
    ("orders", "view_stockeffect"),
    ("orders", "view_pipelinesettings"),
]
ROLES = {
    "Merchant": VIEW_ORDERS + [("orders", "change_order"), ("orders", "change_pipelinesettings")],
    "Warehouse staff": VIEW_ORDERS,
    "Accountant": VIEW_ORDERS,
}


def grant(apps, schema_editor):
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
    apps.get_model("orders", "PipelineSettings").objects.get_or_create(pk=1)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="orders", codename__in=[c for _, c in codenames]
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("inventory", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
