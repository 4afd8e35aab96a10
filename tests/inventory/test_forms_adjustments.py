"""The adjustment form: the mode decides which quantity is needed; the preview is a read."""

import pytest

from inventory.forms.adjustments import (
    MSG_COUNTED_REQUIRED,
    MSG_QUANTITY_REQUIRED,
    AdjustmentForm,
)
from inventory.models import AdjustmentReason, Movement, MovementReason
from tests.factories import UserFactory
from tests.helpers import d, receive

pytestmark = pytest.mark.django_db


def form(variant, warehouse, **fields):
    data = {
        "sku": variant.sku,
        "warehouse": warehouse.code,
        "mode": "change",
        "reason": "loss",
        "note": "Not on the shelf",
    }
    data.update(fields)
    return AdjustmentForm(data, user=UserFactory(is_superuser=True))


def test_each_mode_requires_its_own_quantity(variant, warehouse):
    change = form(variant, warehouse, quantity="")
    counted = form(variant, warehouse, mode="counted", quantity="4", counted="")

    assert not change.is_valid() and change.errors["quantity"] == [MSG_QUANTITY_REQUIRED]
    assert not counted.is_valid() and counted.errors["counted"] == [MSG_COUNTED_REQUIRED]


def test_the_other_modes_quantity_is_ignored(variant, warehouse):
    adjustment = form(variant, warehouse, mode="counted", quantity="-4", counted="7")

    assert adjustment.is_valid()
    assert adjustment.cleaned_data["quantity"] is None


def test_the_preview_of_a_counted_quantity_writes_nothing(variant, warehouse):
    receive(variant, warehouse, 10)
    adjustment = form(variant, warehouse, mode="counted", counted="6")
    assert adjustment.is_valid()

    preview = adjustment.preview()

    assert (preview.before.total, preview.after.total, preview.change) == (d(10), d(6), d(-4))
    assert Movement.objects.filter(reason=MovementReason.LOSS).count() == 0


def test_the_reasons_offered_are_the_built_ins_then_the_merchants_active_ones(variant, warehouse):
    AdjustmentReason.objects.create(name="Expired", ledger_reason=MovementReason.LOSS, position=1)
    AdjustmentReason.objects.create(name="Retired", is_active=False)

    labels = [label for _, label in form(variant, warehouse).fields["reason"].choices]

    assert labels == [
        "Choose a reason",
        "Breakage",
        "Loss",
        "Found",
        "Count correction",
        "Manual",
        "Expired (Loss)",
    ]
