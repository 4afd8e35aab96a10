from django.contrib.auth.mixins import PermissionRequiredMixin
from django.views.generic import ListView

from ..models import StockLine


class StockLineListView(PermissionRequiredMixin, ListView):
    permission_required = "inventory.view_stockline"
    template_name = "inventory/stockline_list.html"
    context_object_name = "stock_lines"
    paginate_by = 50

    def get_queryset(self):
        return (
            StockLine.objects.visible_to(self.request.user)
            .with_catalog()
            .with_status()
            .order_by("variant__sku", "warehouse__code")
        )
