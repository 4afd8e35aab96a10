"""/inventory/locks/new/: hold stock back from sale (quality hold) or release it."""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from ..forms.locks import LockForm
from .staff import PreviewThenApplyView, shown


class LockView(PreviewThenApplyView):
    permission_required = "inventory.lock_stock"
    template_name = "inventory/lock.html"
    form_class = LockForm

    def get_initial(self):
        return {
            "sku": self.request.GET.get("sku", ""),
            "warehouse": self.request.GET.get("warehouse", ""),
            "action_kind": self.request.GET.get("action", "lock"),
        }

    def apply(self, form):
        return form.save()

    def applied(self, form, change):
        line = change.stock_line
        verb = "Locked" if change.locked_delta > 0 else "Unlocked"
        messages.success(
            self.request,
            f"{verb} {shown(abs(change.locked_delta))} of {line.variant.sku} in "
            f"{line.warehouse.code} ({change.get_reason_display()}). "
            f"Locked now: {shown(change.locked_after)}.",
        )
        query = urlencode({"sku": line.variant.sku, "warehouse": line.warehouse.code})
        return redirect(f"{reverse('inventory:lock')}?{query}")
