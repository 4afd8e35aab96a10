"""Lines typed or scanned: blanks ignored, the same variant added up, half rows refused."""

import pytest

from inventory.forms.lines import MSG_NO_LINES, MSG_QUANTITY_MISSING, MSG_SKU_MISSING, lines_formset
from tests.factories import VariantFactory
from tests.helpers import d

pytestmark = pytest.mark.django_db

LinesFormSet = lines_formset(costed=True, max_num=5)


def formset(*rows):
    data = {"lines-TOTAL_FORMS": str(len(rows)), "lines-INITIAL_FORMS": "0"}
    for index, (sku, quantity, cost) in enumerate(rows):
        data.update(
            {
                f"lines-{index}-sku": sku,
                f"lines-{index}-quantity": quantity,
                f"lines-{index}-unit_cost": cost,
            }
        )
    return LinesFormSet(data, prefix="lines")


def test_a_variant_scanned_by_sku_and_by_barcode_is_one_line_with_the_quantities_added():
    variant = VariantFactory(barcode="111")
    lines = formset((variant.sku, "2", "1.5"), ("", "", ""), ("111", "3", ""))

    assert lines.is_valid()
    [line] = lines.stock_quantities()
    assert (line.variant, line.quantity, line.unit_cost) == (variant, d(5), d("1.5"))


def test_half_filled_rows_are_refused_on_the_missing_half():
    variant = VariantFactory()
    lines = formset((variant.sku, "", ""), ("", "3", ""))

    assert not lines.is_valid()
    assert lines.forms[0].errors["quantity"] == [MSG_QUANTITY_MISSING]
    assert lines.forms[1].errors["sku"] == [MSG_SKU_MISSING]


def test_no_line_at_all_is_refused():
    lines = formset(("", "", ""))

    assert not lines.is_valid()
    assert lines.non_form_errors() == [MSG_NO_LINES]


def test_more_rows_than_allowed_are_refused():
    variant = VariantFactory()
    lines = formset(*[(variant.sku, "1", "")] * 6)

    assert not lines.is_valid()
