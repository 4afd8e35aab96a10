"""inventory/roles.py: the role groups and their permissions survive a flush and stay in sync."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from inventory.roles import ROLES, roles_sync


def granted() -> dict[str, set[tuple[str, str]]]:
    return {
        group.name: set(group.permissions.values_list("content_type__app_label", "codename"))
        for group in Group.objects.filter(name__in=ROLES)
    }


def expected() -> dict[str, set[tuple[str, str]]]:
    return {name: set(codenames) for name, codenames in ROLES.items()}


@pytest.mark.django_db
def test_the_migrated_groups_hold_exactly_the_mapping():
    """The data migrations and the mapping agree: nothing granted outside it, nothing missing."""
    assert granted() == expected()


@pytest.mark.django_db
def test_every_permission_of_the_mapping_exists():
    existing = set(Permission.objects.values_list("content_type__app_label", "codename"))

    assert {key for codenames in ROLES.values() for key in codenames} <= existing


@pytest.mark.django_db
def test_sync_restores_a_removed_permission_and_keeps_one_granted_by_hand():
    accountant = Group.objects.get(name="Accountant")
    accountant.permissions.remove(Permission.objects.get(codename="export_stock"))
    by_hand = Permission.objects.get(codename="add_supplier")
    accountant.permissions.add(by_hand)

    roles_sync()
    roles_sync()  # idempotent

    assert ("inventory", "export_stock") in granted()["Accountant"]
    assert accountant.permissions.filter(pk=by_hand.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_groups_come_back_with_their_permissions_after_a_flush():
    call_command("flush", interactive=False, verbosity=0)

    assert granted() == expected()
