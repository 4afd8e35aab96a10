"""Starting a count: the scope decides what is required; SKU lists are forgiving to paste."""

import pytest

from inventory.forms.counts import MSG_CATEGORY_REQUIRED, MSG_SKUS_REQUIRED, CountStartForm
from tests.factories import UserFactory, VariantFactory

pytestmark = pytest.mark.django_db


def start_form(warehouse, **fields):
    data = {"warehouse": warehouse.code, "scope": "all", "big_gap": "5"}
    data.update(fields)
    return CountStartForm(data, user=UserFactory(is_superuser=True))


def test_a_category_count_needs_its_category(warehouse):
    form = start_form(warehouse, scope="category")

    assert not form.is_valid()
    assert form.errors["category"] == [MSG_CATEGORY_REQUIRED]


def test_a_sku_list_count_needs_skus(warehouse):
    form = start_form(warehouse, scope="skus", skus="  ")

    assert not form.is_valid()
    assert form.errors["skus"] == [MSG_SKUS_REQUIRED]


def test_skus_may_be_separated_by_lines_commas_spaces_and_given_in_any_case(warehouse):
    first, second = VariantFactory(sku="AB-1"), VariantFactory(sku="AB-2")

    form = start_form(warehouse, scope="skus", skus="ab-1, AB-2\nAB-1;")

    assert form.is_valid(), form.errors
    assert sorted(v.pk for v in form.cleaned_data["variants"]) == [first.pk, second.pk]


def test_the_big_gap_threshold_cannot_be_negative(warehouse):
    form = start_form(warehouse, big_gap="-1")

    assert not form.is_valid()
    assert "big_gap" in form.errors
