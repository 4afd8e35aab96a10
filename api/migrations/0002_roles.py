"""The Merchant manages their own API tokens in the admin (the admin shows each non-superuser
only their own tokens, and creates tokens only for them)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["add_apitoken", "view_apitoken", "delete_apitoken"]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Merchant")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="api", codename__in=CODENAMES)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Merchant"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="api", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("inventory", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
