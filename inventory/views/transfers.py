"""/inventory/transfers/new/: move goods from one warehouse to another, in one operation."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from ..forms.fields import find_variant
from ..forms.transfers import TransferForm
from .staff import PreviewThenApplyView, shown


class TransferView(PreviewThenApplyView):
    permission_required = "inventory.transfer_stock"
    template_name = "inventory/transfer.html"
    form_class = TransferForm

    def get_initial(self):
        return {
            "source": self.request.GET.get("from", ""),
            "destination": self.request.GET.get("to", ""),
        }

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        variant = find_variant(self.request.GET.get("sku", ""))
        if variant is not None:
            kwargs["initial_lines"] = [{"sku": variant.sku}]
        return kwargs

    def apply(self, form):
        return form.save()

    def applied(self, form, movements):
        data = form.cleaned_data
        lines = len(movements) // 2
        total = sum(m.quantity for m in movements if m.quantity > 0)
        messages.success(
            self.request,
            f"Transferred {lines} line{'s' if lines != 1 else ''} ({shown(total)} units) "
            f"from {data['source'].code} to {data['destination'].code}.",
        )
        return redirect(reverse("inventory:transfer_new"))
