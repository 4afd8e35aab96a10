"""The adjustment form: a signed quantity or the counted quantity, a reason, a note."""

from django import forms

from ..selectors.stock_preview import StockPreview, stock_preview
from ..services import StockError, adjustment_apply
from ..services.errors import MSG_REASON_REQUIRED
from ..services.reasons import adjustment_reason_choices
from .fields import QuantityField, StaffForm, VariantField, WarehouseField

MODE_CHANGE = "change"
MODE_COUNTED = "counted"
MSG_QUANTITY_REQUIRED = "Enter the quantity to add (e.g. 3) or remove (e.g. -2)."
MSG_COUNTED_REQUIRED = "Enter the quantity counted on the shelf."
MSG_NOTE_REQUIRED = "Say what happened: a note is required."

#: Where each error code of the services belongs on this form.
ERROR_FIELDS = {
    "reason_required": "reason",
    "unknown_reason": "reason",
    "note_required": "note",
    "inactive_warehouse": "warehouse",
}


class AdjustmentForm(StaffForm):
    sku = VariantField()
    warehouse = WarehouseField()
    mode = forms.ChoiceField(
        label="Change",
        choices=[
            (MODE_CHANGE, "Add or remove a quantity"),
            (MODE_COUNTED, "Set the counted quantity"),
        ],
        initial=MODE_CHANGE,
        widget=forms.RadioSelect,
    )
    quantity = QuantityField(
        label="Quantity",
        required=False,
        help_text="Positive to add, negative to remove: -2 takes two away.",
    )
    counted = QuantityField(
        label="Counted quantity",
        required=False,
        min_value=0,
        help_text="What is on the shelf now; the difference is recorded.",
    )
    reason = forms.ChoiceField(label="Reason", error_messages={"required": MSG_REASON_REQUIRED})
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": MSG_NOTE_REQUIRED},
        max_length=2000,
    )
    reference = forms.CharField(
        label="Reference",
        required=False,
        max_length=100,
        help_text="Optional: an incident number, a ticket…",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "Choose a reason"), *adjustment_reason_choices()]

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("mode")
        if mode == MODE_CHANGE:
            cleaned["counted"] = None
            if cleaned.get("quantity") is None and "quantity" not in self.errors:
                self.add_error("quantity", MSG_QUANTITY_REQUIRED)
        elif mode == MODE_COUNTED:
            cleaned["quantity"] = None
            if cleaned.get("counted") is None and "counted" not in self.errors:
                self.add_error("counted", MSG_COUNTED_REQUIRED)
        return cleaned

    @property
    def amount_field(self) -> str:
        return "counted" if self.cleaned_data.get("mode") == MODE_COUNTED else "quantity"

    def preview(self) -> StockPreview:
        data = self.cleaned_data
        return stock_preview(
            variant=data["sku"],
            warehouse=data["warehouse"],
            on_hand_change=data["quantity"] or 0,
            counted=data["counted"],
        )

    def save(self):
        """Apply the adjustment; on a refusal, add the error to its field and return None."""
        data = self.cleaned_data
        try:
            return adjustment_apply(
                variant=data["sku"],
                warehouse=data["warehouse"],
                reason=data["reason"],
                note=data["note"],
                quantity=data["quantity"],
                counted=data["counted"],
                reference=data["reference"],
                user=self.user,
            )
        except StockError as error:
            self.add_stock_error(ERROR_FIELDS.get(error.code, self.amount_field), error)
            return None
