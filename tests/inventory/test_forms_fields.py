"""The shared fields: a SKU typed or scanned, warehouses limited to the user's."""

import pytest
from django import forms

from inventory.forms.fields import MSG_UNKNOWN_CODE, StaffForm, VariantField, WarehouseField
from tests.factories import UserFactory, VariantFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


class ScanForm(StaffForm):
    sku = VariantField()
    warehouse = WarehouseField(required=False)


def clean_sku(value, user=None):
    form = ScanForm({"sku": value}, user=user or UserFactory())
    form.is_valid()
    return form


def test_a_sku_is_found_whatever_its_case_and_surrounding_spaces():
    variant = VariantFactory(sku="Mug-Blue")

    assert clean_sku("  mug-BLUE ").cleaned_data["sku"] == variant


def test_a_barcode_finds_its_variant():
    variant = VariantFactory(barcode="5901234123457")

    assert clean_sku("5901234123457").cleaned_data["sku"] == variant


def test_an_unknown_or_overlong_code_is_refused_with_the_code_in_the_message():
    assert clean_sku("NOPE").errors["sku"] == [MSG_UNKNOWN_CODE % {"code": "NOPE"}]
    assert clean_sku("X" * 300).errors["sku"] == [MSG_UNKNOWN_CODE % {"code": "X" * 64}]


def test_the_warehouse_field_offers_active_warehouses_the_user_may_work_in():
    mine, theirs = WarehouseFactory(), WarehouseFactory()
    WarehouseFactory(is_active=False)
    user = UserFactory(role="Warehouse staff")
    mine.assigned_staff.add(user)

    field = ScanForm(user=user).fields["warehouse"]

    assert list(field.queryset) == [mine]
    assert isinstance(field, forms.ModelChoiceField)
    assert theirs not in field.queryset
