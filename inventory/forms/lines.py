"""Lines of a multi-line operation (a transfer, a reception), typed or scanned: a formset
whose rows are a SKU (or barcode) and a quantity, and for receptions a unit cost.

Empty rows are ignored; a SKU scanned once by its barcode and once by its SKU is one line,
with the quantities added up.
"""

from django import forms

from ..services import StockQuantity
from .fields import QuantityField, VariantField

MSG_QUANTITY_MISSING = "Enter the quantity."
MSG_SKU_MISSING = "Enter the SKU."
MSG_NO_LINES = "Add at least one line: scan or type a SKU and its quantity."


class LineForm(forms.Form):
    sku = VariantField(required=False, help_text="")
    quantity = QuantityField(label="Quantity", required=False, min_value=0)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        sku, quantity = cleaned.get("sku"), cleaned.get("quantity")
        if sku is not None and quantity is None:
            self.add_error("quantity", MSG_QUANTITY_MISSING)
        if sku is None and quantity is not None:
            self.add_error("sku", MSG_SKU_MISSING)
        return cleaned

    @property
    def is_blank(self) -> bool:
        return not self.errors and self.cleaned_data.get("sku") is None


class CostedLineForm(LineForm):
    unit_cost = forms.DecimalField(
        label="Unit cost", required=False, min_value=0, max_digits=14, decimal_places=4
    )


class BaseLinesFormSet(forms.BaseFormSet):
    #: False where the lines may come from elsewhere (an uploaded file).
    require_lines = True

    def clean(self):
        if any(self.errors):
            return
        if self.require_lines and not self.stock_quantities():
            raise forms.ValidationError(MSG_NO_LINES, code="no_lines")

    def stock_quantities(self) -> list[StockQuantity]:
        """The rows as service lines: blanks dropped, the same variant's rows added up."""
        merged: dict[int, list] = {}
        for form in self.forms:
            if form.is_blank:
                continue
            data = form.cleaned_data
            variant = data["sku"]
            entry = merged.setdefault(variant.pk, [variant, 0, data.get("unit_cost")])
            entry[1] += data["quantity"]
            if entry[2] is None:
                entry[2] = data.get("unit_cost")
        return [
            StockQuantity(variant, quantity, cost) for variant, quantity, cost in merged.values()
        ]

    def form_for(self, variant):
        """The first row of ``variant``, to attach an error from the service to it."""
        for form in self.forms:
            if not form.is_blank and form.cleaned_data["sku"].pk == variant.pk:
                return form
        return None


def lines_formset(*, costed: bool, max_num: int):
    return forms.formset_factory(
        CostedLineForm if costed else LineForm,
        formset=BaseLinesFormSet,
        extra=3,
        max_num=max_num,
        validate_max=True,
        absolute_max=max_num,
    )
