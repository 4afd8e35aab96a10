"""``/inventory/sku/<SKU>/``: one variant's stock per warehouse, chart, sales pace, history.

GET shows the page; POST applies an alert threshold (the suggested one, or the merchant's
correction of it) to the variant, which needs ``catalog.change_variant``.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES

from ..charts import on_hand_chart, weekly_sales_chart
from ..filters import MovementHistoryFilter
from ..selectors import sales
from ..selectors.sku_detail import CHART_PERIODS, sku_history, sku_overview, variant_by_sku
from ..services import InvalidQuantity
from ..services.thresholds import variant_set_alert_threshold
from .stock_list import query_with

HISTORY_PAGE_SIZE = 25
MAX_CYCLE_DAYS = 365
MSG_CYCLE_DAYS = "Enter a number of days from 1 to 365."
MSG_THRESHOLD_SET = "Alert threshold of %(sku)s set to %(threshold)s."
MSG_THRESHOLD_CLEARED = "%(sku)s has no alert threshold of its own any more."


class SkuOptionsForm(forms.Form):
    """What the page shows: the reorder cycle of the suggestion and the chart's period."""

    cycle = forms.IntegerField(
        label="Reorder cycle (days)",
        min_value=1,
        max_value=MAX_CYCLE_DAYS,
        required=False,
        error_messages={
            "invalid": MSG_CYCLE_DAYS,
            "min_value": MSG_CYCLE_DAYS,
            "max_value": MSG_CYCLE_DAYS,
        },
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_CYCLE_DAYS, "step": 1}),
    )
    days = forms.TypedChoiceField(
        label="Chart period",
        choices=[(days, f"Last {days} days") for days in CHART_PERIODS],
        coerce=int,
        required=False,
    )

    def option(self, name: str, default: int) -> int:
        if self.is_valid() and self.cleaned_data.get(name):
            return self.cleaned_data[name]
        return default


class ThresholdForm(forms.Form):
    threshold = forms.DecimalField(
        label="Alert threshold",
        max_digits=QUANTITY_DIGITS,
        decimal_places=QUANTITY_PLACES,
        required=False,
        help_text="Blank: the product's default threshold applies.",
    )
    cycle = forms.IntegerField(
        min_value=1, max_value=MAX_CYCLE_DAYS, required=False, widget=forms.HiddenInput
    )


class SkuDetailView(PermissionRequiredMixin, TemplateView):
    permission_required = "inventory.view_stockline"
    template_name = "inventory/sku_detail.html"
    change_permission = "catalog.change_variant"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated or not self.has_permission():
            return self.handle_no_permission()
        self.variant = variant_by_sku(kwargs["sku"])
        if self.variant is None:
            raise Http404(f"No variant with SKU {kwargs['sku']}")
        if self.variant.sku != kwargs["sku"] and request.method == "GET":
            # One address per SKU, whatever the case it was typed in.
            query = f"?{request.GET.urlencode()}" if request.GET else ""
            return redirect(self.variant.get_absolute_url() + query)
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm(self.change_permission):
            raise PermissionDenied
        form = ThresholdForm(request.POST)
        if form.is_valid():
            try:
                variant_set_alert_threshold(
                    variant=self.variant,
                    threshold=form.cleaned_data["threshold"],
                    user=request.user,
                )
            except InvalidQuantity as error:
                form.add_error("threshold", error.as_validation_error())
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(threshold_form=form))
        threshold = self.variant.alert_threshold
        if threshold is None:
            messages.success(request, MSG_THRESHOLD_CLEARED % {"sku": self.variant.sku})
        else:
            messages.success(
                request,
                MSG_THRESHOLD_SET
                % {"sku": self.variant.sku, "threshold": f"{threshold.normalize():f}"},
            )
        cycle = form.cleaned_data.get("cycle")
        query = f"?{urlencode({'cycle': cycle})}" if cycle else ""
        return redirect(self.variant.get_absolute_url() + query)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request, variant = self.request, self.variant
        options = SkuOptionsForm(request.GET)
        cycle_days = options.option("cycle", sales.DEFAULT_REORDER_CYCLE_DAYS)
        chart_days = options.option("days", CHART_PERIODS[0])
        now = timezone.now()
        overview = sku_overview(
            variant, user=request.user, now=now, cycle_days=cycle_days, chart_days=chart_days
        )
        chart = on_hand_chart(
            overview.chart_series,
            start=overview.chart_start,
            end=overview.chart_end,
            threshold=overview.shared_threshold,
            title=f"On-hand stock of {variant.sku} per warehouse, last {chart_days} days",
        )
        history = MovementHistoryFilter(
            request.GET, queryset=sku_history(variant, user=request.user), request=request
        )
        history.is_valid()
        page = Paginator(history.qs, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
        can_change = request.user.has_perm(self.change_permission)
        context.update(
            variant=variant,
            product=variant.product,
            overview=overview,
            chart=chart,
            sales_chart=weekly_sales_chart(
                overview.pace.weeks, title=f"Units of {variant.sku} sold per week"
            ),
            options=options,
            cycle_days=cycle_days,
            chart_days=chart_days,
            chart_periods=[
                (days, query_with(request.GET, days=days, page=None)) for days in CHART_PERIODS
            ],
            history=history,
            history_page=page,
            can_change_threshold=can_change,
            threshold_form=kwargs.get("threshold_form")
            or ThresholdForm(
                initial={"threshold": overview.suggested_threshold, "cycle": cycle_days}
            ),
            sku_query=urlencode({"sku": variant.sku}),
            can_adjust=request.user.has_perm("inventory.adjust_stock"),
            can_transfer=request.user.has_perm("inventory.transfer_stock"),
            can_receive=request.user.has_perm("inventory.receive_stock"),
            list_url=reverse("inventory:list") + "?" + urlencode({"q": variant.sku}),
            page_query=query_with(request.GET, page=None),
        )
        return context
