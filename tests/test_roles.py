"""The roles migration: three groups with real permissions, and warehouse assignment."""

import pytest
from django.contrib.auth.models import Group

from inventory.models import StockLine
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import receive
from warehouses.models import Warehouse

pytestmark = pytest.mark.django_db

STOCK_OPERATIONS = {
    "inventory.receive_stock",
    "inventory.adjust_stock",
    "inventory.transfer_stock",
    "inventory.lock_stock",
    "inventory.count_stock",
}
VIEW_ALL = {
    "catalog.view_category",
    "catalog.view_supplier",
    "catalog.view_product",
    "catalog.view_variant",
    "warehouses.view_warehouse",
    "inventory.view_stockline",
    "inventory.view_movement",
    "inventory.view_holdchange",
}


def permissions_of(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_the_roles_migration_creates_the_three_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Merchant",
        "Warehouse staff",
        "Accountant",
    }


def test_merchant_changes_stock_lines_and_runs_every_stock_operation():
    permissions = permissions_of("Merchant")

    assert permissions >= VIEW_ALL | STOCK_OPERATIONS
    assert {
        "inventory.change_stockline",
        "inventory.reserve_stock",
        "inventory.export_stock",
        "catalog.change_variant",
        "catalog.add_product",
        "warehouses.change_warehouse",
    } <= permissions


def test_warehouse_staff_moves_stock_but_neither_exports_nor_edits_lines():
    permissions = permissions_of("Warehouse staff")

    assert permissions >= VIEW_ALL | STOCK_OPERATIONS
    assert "inventory.export_stock" not in permissions
    assert "inventory.change_stockline" not in permissions
    assert not any(p.split(".")[1].startswith(("add_", "delete_")) for p in permissions)


def test_accountant_sees_and_exports_and_changes_nothing():
    permissions = permissions_of("Accountant")

    assert permissions >= VIEW_ALL | {"inventory.export_stock"}
    assert {p for p in permissions if not p.split(".")[1].startswith("view_")} == {
        "inventory.export_stock"
    }


def test_nobody_may_change_or_delete_the_ledger():
    for role in ("Merchant", "Warehouse staff", "Accountant"):
        permissions = permissions_of(role)
        for model in ("movement", "holdchange"):
            assert f"inventory.change_{model}" not in permissions
            assert f"inventory.delete_{model}" not in permissions


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        ("Merchant", "inventory.change_stockline", "inventory.delete_movement"),
        ("Warehouse staff", "inventory.adjust_stock", "inventory.export_stock"),
        ("Accountant", "inventory.export_stock", "inventory.adjust_stock"),
    ],
)
def test_a_user_gets_the_permissions_of_their_role(role, allowed, refused):
    user = UserFactory(role=role)

    assert user.has_perm(allowed)
    assert not user.has_perm(refused)


def test_staff_assigned_to_warehouses_only_see_those():
    paris, lyon, _bordeaux = WarehouseFactory(), WarehouseFactory(), WarehouseFactory()
    staff = UserFactory(role="Warehouse staff")
    paris.assigned_staff.add(staff)
    lyon.assigned_staff.add(staff)
    variant = VariantFactory()
    for warehouse in Warehouse.objects.all():
        receive(variant, warehouse, 1)

    assert set(Warehouse.objects.visible_to(staff)) == {paris, lyon}
    assert {line.warehouse for line in StockLine.objects.visible_to(staff)} == {paris, lyon}


def test_unassigned_staff_are_not_limited():
    warehouses = {WarehouseFactory(), WarehouseFactory()}
    staff = UserFactory(role="Warehouse staff")

    assert set(Warehouse.objects.visible_to(staff)) == warehouses


def test_a_superuser_is_never_limited_by_an_assignment():
    paris, lyon = WarehouseFactory(), WarehouseFactory()
    admin = UserFactory(is_superuser=True)
    paris.assigned_staff.add(admin)

    assert set(Warehouse.objects.visible_to(admin)) == {paris, lyon}
