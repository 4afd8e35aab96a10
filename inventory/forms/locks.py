"""The lock form: put a quantity on hold (quality check, damage...) or release it."""

from decimal import Decimal

from django import forms

from ..models import LockReason
from ..selectors.stock_preview import stock_preview
from ..services import StockError, stock_lock, stock_unlock
from ..services.errors import MSG_EXCEEDS_LOCKED, MSG_REASON_REQUIRED
from .fields import QuantityField, StaffForm, VariantField, WarehouseField

LOCK = "lock"
UNLOCK = "unlock"
#: "Count in progress" is the count sessions' own reason, not one to pick by hand.
LOCK_REASONS = [
    choice for choice in LockReason.choices if choice[0] != LockReason.COUNT_IN_PROGRESS
]


class LockForm(StaffForm):
    sku = VariantField()
    warehouse = WarehouseField()
    action_kind = forms.ChoiceField(
        label="Lock or unlock",
        choices=[(LOCK, "Lock: hold back from sale"), (UNLOCK, "Unlock: make available again")],
        initial=LOCK,
        widget=forms.RadioSelect,
    )
    quantity = QuantityField(label="Quantity", min_value=0)
    reason = forms.ChoiceField(
        label="Reason",
        choices=[("", "Choose a reason"), *LockReason.choices],
        error_messages={"required": MSG_REASON_REQUIRED},
    )
    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    reference = forms.CharField(label="Reference", required=False, max_length=100)

    @property
    def locking(self) -> bool:
        return self.cleaned_data.get("action_kind") == LOCK

    def preview(self):
        data = self.cleaned_data
        change = data["quantity"] if self.locking else -data["quantity"]
        preview = stock_preview(
            variant=data["sku"], warehouse=data["warehouse"], locked_change=change
        )
        if preview.after.locked < 0:
            self.add_error(
                "quantity",
                MSG_EXCEEDS_LOCKED
                % {
                    "locked": f"{preview.before.locked:f}",
                    "sku": data["sku"].sku,
                    "warehouse": data["warehouse"].code,
                    "quantity": f"{data['quantity'].quantize(Decimal('0.001')):f}",
                },
            )
        return preview

    def save(self):
        data = self.cleaned_data
        operation = stock_lock if self.locking else stock_unlock
        try:
            return operation(
                variant=data["sku"],
                warehouse=data["warehouse"],
                quantity=data["quantity"],
                reason=data["reason"],
                note=data["note"],
                reference=data["reference"],
                user=self.user,
            )
        except StockError as error:
            field = "reason" if error.code in {"reason_required", "unknown_reason"} else "quantity"
            self.add_stock_error(field, error)
            return None
