"""Permissions on the models of the warehouse staff flows, granted to the roles.

Merchant: manages the adjustment reasons offered to staff (admin), sees everything.
Warehouse staff and Accountant: see expected receptions, receptions, count sessions and the
reasons. The operations themselves stay behind receive_stock, count_stock... (0003_roles).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [
    ("inventory", "view_adjustmentreason"),
    ("inventory", "view_expectedreception"),
    ("inventory", "view_expectedreceptionline"),
    ("inventory", "view_reception"),
    ("inventory", "view_receptionline"),
    ("inventory", "view_countsession"),
    ("inventory", "view_countline"),
]
GRANTS = {
    "Merchant": VIEW
    + [("inventory", "add_adjustmentreason"), ("inventory", "change_adjustmentreason")],
    "Warehouse staff": VIEW,
    "Accountant": VIEW,
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codenames:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="inventory",
                codename__in=[codename for _, codename in codenames],
            )
        )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_receptions_counts_reasons")]

    operations = [migrations.RunPython(grant, revoke)]
