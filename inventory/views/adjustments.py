"""/inventory/adjust/: adjust one stock line for a reason (breakage, loss, found...)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from ..forms.adjustments import AdjustmentForm
from .staff import PreviewThenApplyView, shown


class AdjustmentView(PreviewThenApplyView):
    permission_required = "inventory.adjust_stock"
    template_name = "inventory/adjust.html"
    form_class = AdjustmentForm

    def get_initial(self):
        # ?sku=&warehouse= (a warehouse code) pre-fill the form, e.g. from the SKU page.
        return {
            "sku": self.request.GET.get("sku", ""),
            "warehouse": self.request.GET.get("warehouse", ""),
        }

    def apply(self, form):
        return form.save()

    def applied(self, form, movement):
        line = movement.stock_line
        messages.success(
            self.request,
            f"{line.variant.sku} in {line.warehouse.code}: "
            f"{'+' if movement.quantity > 0 else ''}{shown(movement.quantity)} "
            f"({movement.get_reason_display()}). On hand is now {shown(movement.balance_after)}.",
        )
        query = urlencode({"sku": line.variant.sku, "warehouse": line.warehouse.code})
        return redirect(f"{reverse('inventory:adjust')}?{query}")
