"""Stock at a past moment, valued: a page (totals per warehouse, lines by keyset pages) and a
streamed CSV with the contract's columns and the totals at the end."""

from collections.abc import Iterable, Iterator

from django import forms
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponseBadRequest
from django.utils import timezone
from django.views.generic import TemplateView, View

from core.csv_export import NUMBER, Column, dialect_from_request, streaming_csv_response
from warehouses.models import Warehouse

from ..journal_filters import MSG_UNKNOWN_WAREHOUSE
from ..selectors.stock_at_date import (
    StockAtDateRow,
    TotalsAccumulator,
    grand_total,
    stock_at_date_page,
    stock_at_date_rows,
    stock_at_date_totals,
)
from .journal import form_errors_text

PAGE_SIZE = 100
PERMISSIONS = ("inventory.view_stockline", "inventory.view_movement")

STOCK_AT_DATE_COLUMNS = (
    Column("Product"),
    Column("Variant"),
    Column("SKU"),
    Column("Warehouse"),
    Column("On hand", NUMBER),
    Column("Unit cost", NUMBER),
    Column("Value", NUMBER),
)
#: The Product cell of a total row; total rows are the ones with an empty SKU.
TOTAL = "Total"
ALL_WAREHOUSES = "All warehouses"


class StockAtDateForm(forms.Form):
    at = forms.DateTimeField(
        label="Date and time",
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"
        ),
        help_text="Movements written before this moment count: 1 January at 00:00 gives the "
        "stock at the end of the year before. Blank: now.",
    )
    warehouse = forms.ModelChoiceField(
        label="Warehouse",
        queryset=Warehouse.objects.none(),
        to_field_name="code",
        required=False,
        empty_label="All warehouses",
        error_messages={"invalid_choice": MSG_UNKNOWN_WAREHOUSE},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.visible_to(user)

    @property
    def moment(self):
        return self.cleaned_data.get("at") or timezone.now()

    def warehouse_ids(self) -> list[int]:
        chosen = self.cleaned_data.get("warehouse")
        if chosen is not None:
            return [chosen.pk]
        return list(self.fields["warehouse"].queryset.values_list("pk", flat=True))


def parse_after(text: str | None) -> tuple[str, str] | None:
    """``CODE:SKU`` (neither contains a colon) -> (code, sku); None when malformed."""
    code, colon, sku = (text or "").partition(":")
    return (code, sku) if colon and code and sku else None


def csv_rows(rows: Iterable[StockAtDateRow]) -> Iterator[tuple]:
    """The lines, then one total row per warehouse and one for all warehouses.

    Total rows come last, after every line, so that a script reads lines until the first empty
    SKU and a spreadsheet sums the line rows as one block. They are marked by an empty SKU and
    Product = "Total"; a warehouse's total has its code in Warehouse, the grand total an empty
    Warehouse and "All warehouses" in Variant. Each total adds up exactly the rows above it,
    values already rounded to the cent, so the sums in a spreadsheet match to the cent.
    """
    accumulator = TotalsAccumulator()
    for row in rows:
        accumulator.add(row)
        yield (
            row.product,
            row.variant,
            row.sku,
            row.warehouse,
            row.on_hand,
            row.unit_cost,
            row.value,
        )
    totals = accumulator.totals
    for total in totals:
        yield (TOTAL, "", "", total.code, total.on_hand, None, total.value)
    overall = grand_total(totals)
    yield (TOTAL, ALL_WAREHOUSES, "", "", overall.on_hand, None, overall.value)


class StockAtDateView(PermissionRequiredMixin, TemplateView):
    permission_required = PERMISSIONS
    template_name = "inventory/stock_at_date.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = StockAtDateForm(self.request.GET, user=self.request.user)
        context["form"] = form
        if not form.is_valid():
            return context
        moment = form.moment
        warehouse_ids = form.warehouse_ids()
        after = parse_after(self.request.GET.get("after"))
        # The totals cover every line: worth computing once, on the first page.
        totals = None if after else stock_at_date_totals(moment=moment, warehouse_ids=warehouse_ids)
        rows = stock_at_date_page(
            moment=moment, warehouse_ids=warehouse_ids, after=after, size=PAGE_SIZE + 1
        )
        query = self.request.GET.copy()
        query.pop("after", None)
        if not form.cleaned_data.get("at"):
            query["at"] = moment.isoformat()  # later pages and the CSV show the same moment
        context.update(
            moment=moment,
            totals=totals,
            grand_total=None if totals is None else grand_total(totals),
            rows=rows[:PAGE_SIZE],
            next_after=f"{rows[PAGE_SIZE - 1].warehouse}:{rows[PAGE_SIZE - 1].sku}"
            if len(rows) > PAGE_SIZE
            else None,
            is_first_page=after is None,
            query=query.urlencode(),
            can_export=self.request.user.has_perm("inventory.export_stock"),
        )
        return context


class StockAtDateExportView(PermissionRequiredMixin, View):
    permission_required = (*PERMISSIONS, "inventory.export_stock")

    def get(self, request):
        form = StockAtDateForm(request.GET, user=request.user)
        if not form.is_valid():
            return HttpResponseBadRequest(
                form_errors_text(form), content_type="text/plain; charset=utf-8"
            )
        moment = form.moment
        rows = stock_at_date_rows(moment=moment, warehouse_ids=form.warehouse_ids())
        stamp = timezone.localtime(moment).strftime("%Y-%m-%dT%H%M%S")
        return streaming_csv_response(
            f"stock-at-{stamp}.csv",
            STOCK_AT_DATE_COLUMNS,
            csv_rows(rows),
            dialect_from_request(request),
        )
