"""Supplier receptions: expected receptions (Incoming) and deliveries received.

/inventory/receptions/                       open expected receptions, latest deliveries
/inventory/receptions/new/                   receive a delivery (?sku= adds a line, ?expected=)
/inventory/receptions/<pk>/                  a delivery received: received vs expected
/inventory/receptions/expected/new/          register an expected reception
/inventory/receptions/expected/<pk>/         an expected reception; close it
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DetailView, TemplateView, View

from warehouses.models import Warehouse

from ..forms.fields import find_variant
from ..forms.receptions import (
    ComparedLine,
    ExpectedReceptionForm,
    ReceptionForm,
)
from ..models import ExpectedReception, Reception, ReceptionLine
from ..services import StockError, expected_reception_close
from .staff import PreviewThenApplyView

PERMISSION = "inventory.receive_stock"
LATEST = 30


class ReceptionListView(PermissionRequiredMixin, TemplateView):
    permission_required = PERMISSION
    template_name = "inventory/reception_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        context["open_orders"] = (
            ExpectedReception.objects.open()
            .visible_to(user)
            .select_related("supplier", "warehouse")
            .annotate(line_count=Count("lines"), ordered=Sum("lines__quantity"))
            .order_by("expected_on", "pk")
        )
        context["receptions"] = (
            Reception.objects.filter(warehouse__in=Warehouse.objects.visible_to(user))
            .select_related("supplier", "warehouse", "received_by")
            .annotate(line_count=Count("lines"), quantity=Sum("lines__quantity"))
            .order_by("-received_at", "-pk")[:LATEST]
        )
        return context


class ReceptionCreateView(PreviewThenApplyView):
    permission_required = PERMISSION
    template_name = "inventory/reception_form.html"
    form_class = ReceptionForm

    def get_initial(self):
        initial = {}
        order = self._order_from_query()
        if order is not None:
            initial.update(
                expected_reception=order.pk,
                supplier=order.supplier_id,
                warehouse=order.warehouse.code,
            )
        return initial

    def _order_from_query(self):
        pk = self.request.GET.get("expected", "")
        if not pk.isdigit():
            return None
        return (
            ExpectedReception.objects.open()
            .visible_to(self.request.user)
            .select_related("warehouse")
            .filter(pk=pk)
            .first()
        )

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        variant = find_variant(self.request.GET.get("sku", ""))
        if variant is not None:
            kwargs["initial_lines"] = [{"sku": variant.sku}]
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        preview = context.get("preview")
        if preview is not None:
            context["received_total"] = sum(line.received for line in preview)
            if context["form"].cleaned_data.get("expected_reception"):
                context["differences"] = sum(1 for line in preview if line.state)
        return context

    def apply(self, form):
        return form.save()

    def applied(self, form, reception):
        messages.success(
            self.request,
            f"Received {len(form.received_lines)} lines from {reception.supplier.name} "
            f"into {reception.warehouse.code} ({reception.reference}).",
        )
        return redirect(reception)


def _visible_warehouse_ids(user):
    return Warehouse.objects.visible_to(user).values("pk")


class ReceptionDetailView(PermissionRequiredMixin, DetailView):
    permission_required = PERMISSION
    template_name = "inventory/reception_detail.html"
    context_object_name = "reception"

    def get_queryset(self):
        return Reception.objects.filter(
            warehouse__in=_visible_warehouse_ids(self.request.user)
        ).select_related("supplier", "warehouse", "received_by", "expected_reception")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        lines = ReceptionLine.objects.filter(reception=self.object).select_related(
            "variant__product"
        )
        context["lines"] = [
            ComparedLine(
                line.variant.sku,
                line.variant.display_name,
                line.quantity,
                line.ordered,
                line.unit_cost,
            )
            for line in lines
        ]
        return context


class ExpectedReceptionCreateView(PreviewThenApplyView):
    permission_required = PERMISSION
    template_name = "inventory/reception_expected_form.html"
    form_class = ExpectedReceptionForm

    def apply(self, form):
        return form.save()

    def applied(self, form, order):
        messages.success(
            self.request,
            f"Expected reception {order.reference} registered: its quantities are now Incoming "
            f"in {order.warehouse.code}.",
        )
        return redirect(order)


class ExpectedReceptionDetailView(PermissionRequiredMixin, DetailView):
    permission_required = PERMISSION
    template_name = "inventory/reception_expected_detail.html"
    context_object_name = "order"

    def get_queryset(self):
        return ExpectedReception.objects.visible_to(self.request.user).select_related(
            "supplier", "warehouse", "created_by"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["lines"] = self.object.lines.select_related("variant__product")
        context["receptions"] = self.object.receptions.select_related("received_by").order_by(
            "received_at"
        )
        return context


class ExpectedReceptionCloseView(PermissionRequiredMixin, View):
    permission_required = PERMISSION
    http_method_names = ["post"]

    def post(self, request, pk):
        order = get_object_or_404(ExpectedReception.objects.visible_to(request.user), pk=pk)
        try:
            expected_reception_close(expected_reception=order, user=request.user)
        except StockError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"{order.reference} closed: what did not arrive is no longer expected."
            )
        return redirect(order)
