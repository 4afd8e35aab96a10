"""``/inventory/export.csv``: every line the list's query string selects, streamed as CSV."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponseBadRequest
from django.utils import timezone
from django.views import View

from core.csv_export import csv_response, dialect_from_request

from ..selectors.stock_export import inventory_csv
from ..selectors.stock_list import Ordering
from .stock_list import stock_list_filterset


def filter_errors_text(form) -> str:
    lines = [
        f"{form.fields[name].label if name in form.fields else name}: {message}"
        for name, messages in form.errors.items()
        for message in messages
    ]
    return "\n".join(lines) + "\n"


class InventoryExportView(PermissionRequiredMixin, View):
    """The CSV of the list: the contract's columns, the list's filters and order, all rows.

    Streamed in chunks as the database writes them (COPY on PostgreSQL): memory stays flat
    at a million lines. A filter that does not validate is refused (400) rather than ignored,
    so that a script with a typo in a warehouse code never downloads every warehouse.
    """

    permission_required = ("inventory.view_stockline", "inventory.export_stock")

    def get(self, request):
        filterset = stock_list_filterset(request)
        if not filterset.is_valid():
            return HttpResponseBadRequest(
                filter_errors_text(filterset.form), content_type="text/plain; charset=utf-8"
            )
        chunks = inventory_csv(
            filterset.qs,
            ordering=Ordering.parse(filterset.ordering_key),
            dialect=dialect_from_request(request),
        )
        filename = f"inventory-{timezone.localtime():%Y-%m-%d-%H%M}.csv"
        return csv_response(filename, chunks)
