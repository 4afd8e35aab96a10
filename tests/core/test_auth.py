"""The authentication backend reads exactly Django's permissions, in one query."""

import pytest
from django.contrib.auth import backends
from django.contrib.auth.models import Group, Permission

from core.auth import ModelBackend
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permission cache


@pytest.fixture
def user_with_permissions():
    user = UserFactory()
    user.user_permissions.add(_permission("inventory", "adjust_stock"))
    packers = Group.objects.create(name="packers")
    packers.permissions.add(
        _permission("inventory", "view_stockline"), _permission("inventory", "adjust_stock")
    )
    viewers = Group.objects.create(name="viewers")
    viewers.permissions.add(_permission("orders", "view_order"))
    user.groups.add(packers, viewers)
    Group.objects.create(name="others").permissions.add(_permission("inventory", "count_stock"))
    return user


def test_own_and_group_permissions_as_django_reads_them(user_with_permissions):
    ours = ModelBackend().get_all_permissions(_fresh(user_with_permissions))
    assert ours == backends.ModelBackend().get_all_permissions(_fresh(user_with_permissions))
    assert ours == {"inventory.adjust_stock", "inventory.view_stockline", "orders.view_order"}


def test_one_query_then_cached(user_with_permissions, django_assert_num_queries):
    user = _fresh(user_with_permissions)
    backend = ModelBackend()
    with django_assert_num_queries(1):
        assert backend.has_perm(user, "inventory.view_stockline")
        assert not backend.has_perm(user, "inventory.count_stock")
        assert backend.get_all_permissions(user) == backend.get_all_permissions(user)


def test_superuser_has_every_permission():
    superuser = UserFactory(is_superuser=True)
    assert len(ModelBackend().get_all_permissions(_fresh(superuser))) == Permission.objects.count()


def test_inactive_user_has_none(user_with_permissions):
    user_with_permissions.is_active = False
    user_with_permissions.save()
    assert ModelBackend().get_all_permissions(_fresh(user_with_permissions)) == set()


def test_user_without_permissions_has_none():
    assert ModelBackend().get_all_permissions(_fresh(UserFactory())) == set()
