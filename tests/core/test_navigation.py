"""The top bar's links: the pages a user may open, the current one marked."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.template import Context, Template
from django.test import RequestFactory

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EVERY_LINK = [
    "Inventory",
    "Orders",
    "Stock at date",
    "Movements",
    "Receptions",
    "Adjust",
    "Transfer",
    "Locks",
    "Counts",
]


def nav(user, path: str = "/inventory/") -> str:
    request = RequestFactory().get(path)
    request.user = type(user).objects.get(pk=user.pk)  # no permission cache
    return Template("{% load navigation %}{% main_nav %}").render(Context({"request": request}))


def labels(html: str) -> list[str]:
    return re.findall(r">([^<]+)</a>", html)


def current(html: str) -> list[str]:
    return re.findall(r'aria-current="page">([^<]+)</a>', html)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("Merchant", EVERY_LINK),
        ("Warehouse staff", EVERY_LINK),
        ("Accountant", ["Inventory", "Orders", "Stock at date", "Movements"]),
    ],
)
def test_each_role_sees_the_pages_it_may_open(role, expected):
    assert labels(nav(UserFactory(role=role))) == expected


def test_a_page_needing_two_permissions_shows_with_both_only():
    user = UserFactory()
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="inventory", codename="view_stockline")
    )
    assert labels(nav(user)) == ["Inventory"]

    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="inventory", codename="view_movement")
    )
    assert labels(nav(user)) == ["Inventory", "Stock at date", "Movements"]


def test_staff_and_superusers():
    assert labels(nav(UserFactory(is_staff=True)))[-1] == "Admin"
    assert labels(nav(UserFactory(is_superuser=True, is_staff=True))) == [*EVERY_LINK, "Admin"]


@pytest.mark.parametrize(
    ("path", "marked"),
    [
        ("/inventory/", ["Inventory"]),
        ("/inventory/adjust/", ["Adjust"]),
        ("/inventory/sku/MUG-1/", []),
        ("/inventory/counts/12/sheet/", ["Counts"]),
        ("/inventory/transfers/new/", ["Transfer"]),
        ("/orders/42/", ["Orders"]),
        ("/inventory/at/", ["Stock at date"]),
    ],
)
def test_the_current_page_or_section_is_marked(path, marked):
    assert current(nav(UserFactory(role="Merchant"), path)) == marked


def test_one_query_for_the_permissions(django_assert_num_queries):
    user = UserFactory(role="Merchant")
    request = RequestFactory().get("/inventory/")
    request.user = type(user).objects.get(pk=user.pk)
    template = Template("{% load navigation %}{% main_nav %}")
    with django_assert_num_queries(1):
        template.render(Context({"request": request}))
