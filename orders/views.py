"""The order screens: the list (filtered, paginated) and one order with its lines' reserved
and shipped quantities and its history. Users who may change orders move them to another
stage from the detail page, through the same service as the API."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import redirect
from django.views.generic import DetailView
from django_filters.views import FilterView

from inventory.services import StockError

from .errors import OrderError
from .filters import OrderFilter
from .forms import OrderStageForm
from .models import Stage
from .selectors import order_detail, order_list, order_next_stages
from .services import order_set_stage

#: Needed, besides viewing, to move an order in the app.
CHANGE_PERMISSIONS = ("orders.change_order", "inventory.reserve_stock")
MSG_MOVED = "Order %(reference)s is now %(stage)s."


class OrderListView(PermissionRequiredMixin, FilterView):
    permission_required = "orders.view_order"
    filterset_class = OrderFilter
    template_name = "orders/order_list.html"
    context_object_name = "orders"
    paginate_by = 50

    def get_queryset(self):
        return order_list(user=self.request.user)


class OrderDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "orders.view_order"
    template_name = "orders/order_detail.html"
    context_object_name = "order"
    slug_field = "reference"
    slug_url_kwarg = "reference"

    def get_queryset(self):
        return order_detail(user=self.request.user)

    def can_change(self) -> bool:
        return self.request.user.has_perms(CHANGE_PERMISSIONS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.can_change() and "stage_form" not in context:
            stages = order_next_stages(self.object)
            context["stage_form"] = OrderStageForm(stages=stages) if stages else None
        return context

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        if not self.can_change():
            return self.handle_no_permission()
        form = OrderStageForm(request.POST, stages=order_next_stages(self.object))
        if form.is_valid():
            stage = form.cleaned_data["stage"]
            try:
                order_set_stage(order=self.object, stage=stage, user=request.user)
            except (OrderError, StockError) as error:
                form.add_error("stage", error.as_validation_error())
            else:
                messages.success(
                    request,
                    MSG_MOVED % {"reference": self.object.reference, "stage": Stage(stage).label},
                )
                return redirect(self.object)
        return self.render_to_response(self.get_context_data(stage_form=form))
