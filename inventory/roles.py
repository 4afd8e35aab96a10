"""The three roles and their permissions, kept on the groups after every migrate and flush.

The data migrations (inventory 0003 and 0008, orders 0002, api 0002) create the groups once. A
flush (run by every ``transaction=True`` test, or by hand) empties the auth tables, and Django
emits ``post_migrate`` after it: ``roles_sync`` puts the groups back with their permissions, and
adds any permission granted here but missing in a production database. It only adds: a
permission an administrator granted by hand stays.

This mapping is the single list of what each role may do; tests/test_roles.py and
tests/security/ check the groups against it.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS

VIEW_ALL = [
    ("catalog", "view_category"),
    ("catalog", "view_supplier"),
    ("catalog", "view_product"),
    ("catalog", "view_variant"),
    ("warehouses", "view_warehouse"),
    ("inventory", "view_stockline"),
    ("inventory", "view_movement"),
    ("inventory", "view_holdchange"),
    ("inventory", "view_adjustmentreason"),
    ("inventory", "view_expectedreception"),
    ("inventory", "view_expectedreceptionline"),
    ("inventory", "view_reception"),
    ("inventory", "view_receptionline"),
    ("inventory", "view_countsession"),
    ("inventory", "view_countline"),
    ("orders", "view_order"),
    ("orders", "view_orderline"),
    ("orders", "view_orderstagechange"),
    ("orders", "view_stockeffect"),
    ("orders", "view_pipelinesettings"),
]
STOCK_OPERATIONS = [
    ("inventory", "receive_stock"),
    ("inventory", "adjust_stock"),
    ("inventory", "transfer_stock"),
    ("inventory", "lock_stock"),
    ("inventory", "count_stock"),
]
ROLES: dict[str, list[tuple[str, str]]] = {
    "Merchant": VIEW_ALL
    + STOCK_OPERATIONS
    + [
        ("inventory", "reserve_stock"),
        ("inventory", "export_stock"),
        ("inventory", "change_stockline"),
        ("inventory", "add_adjustmentreason"),
        ("inventory", "change_adjustmentreason"),
        ("warehouses", "add_warehouse"),
        ("warehouses", "change_warehouse"),
        ("orders", "change_order"),
        ("orders", "change_pipelinesettings"),
        ("api", "add_apitoken"),
        ("api", "view_apitoken"),
        ("api", "delete_apitoken"),
    ]
    + [
        ("catalog", f"{action}_{model}")
        for model in ("category", "supplier", "product", "variant")
        for action in ("add", "change")
    ],
    "Warehouse staff": VIEW_ALL + STOCK_OPERATIONS,
    "Accountant": [*VIEW_ALL, ("inventory", "export_stock")],
}


def roles_sync(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the groups that are missing and grant each the permissions it lacks."""
    from django.contrib.auth.models import Group, Permission

    # Permissions are created per app by auth's own post_migrate receiver, in app order:
    # orders and api come after inventory, so create them all now (idempotent).
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    wanted = {key for codenames in ROLES.values() for key in codenames}
    permissions = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.using(using)
        .filter(content_type__app_label__in={app_label for app_label, _ in wanted})
        .values_list("pk", "content_type__app_label", "codename")
    }
    for name, codenames in ROLES.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*(permissions[key] for key in codenames if key in permissions))


def roles_post_migrate(sender, *, using=DEFAULT_DB_ALIAS, plan=None, **kwargs) -> None:
    """post_migrate receiver (connected in InventoryConfig.ready for the inventory app)."""
    # Rolling migrations back (a plan of backwards steps) must not re-create what they remove.
    if plan and all(backwards for _, backwards in plan):
        return
    if not global_apps.is_installed("django.contrib.auth"):
        return
    roles_sync(using=using)
