"""The transfer form: from one warehouse to another, lines typed or scanned."""

from django import forms

from ..selectors.stock_preview import transfer_preview
from ..services import InsufficientStock, StockError, stock_transfer
from ..services.errors import MSG_SAME_WAREHOUSE
from .fields import StaffForm, WarehouseField
from .lines import lines_formset

#: 2 inputs a row: stays under Django's limit of 1,000 fields in one form.
MAX_LINES = 400
TransferLinesFormSet = lines_formset(costed=False, max_num=MAX_LINES)


class TransferForm(StaffForm):
    source = WarehouseField(label="From warehouse")
    destination = WarehouseField(label="To warehouse")
    reference = forms.CharField(
        label="Reference", required=False, max_length=100, help_text="Optional: a transfer slip."
    )
    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, initial_lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = TransferLinesFormSet(
            self.data if self.is_bound else None, prefix="lines", initial=list(initial_lines)
        )

    def is_valid(self):
        valid = super().is_valid()
        return self.lines.is_valid() and valid

    def clean(self):
        cleaned = super().clean()
        source, destination = cleaned.get("source"), cleaned.get("destination")
        if source and destination and source == destination:
            self.add_error("destination", MSG_SAME_WAREHOUSE)
        return cleaned

    def preview(self):
        return transfer_preview(
            source=self.cleaned_data["source"],
            destination=self.cleaned_data["destination"],
            lines=self.lines.stock_quantities(),
        )

    def save(self):
        data = self.cleaned_data
        try:
            return stock_transfer(
                source=data["source"],
                destination=data["destination"],
                lines=self.lines.stock_quantities(),
                reference=data["reference"],
                note=data["note"],
                user=self.user,
            )
        except InsufficientStock as error:
            for shortfall in error.shortfalls:
                row = next(
                    (
                        form
                        for form in self.lines.forms
                        if not form.is_blank and form.cleaned_data["sku"].sku == shortfall.sku
                    ),
                    None,
                )
                if row is not None:
                    row.add_error("quantity", str(shortfall))
            self.add_stock_error(None, error)
        except StockError as error:
            field = (
                "destination" if error.code in {"same_warehouse", "inactive_warehouse"} else None
            )
            self.add_stock_error(field, error)
        return None
