"""The inventory list (``/inventory/``): filters, status counts, sortable columns, keyset pages.

Every state of the page is in its URL (the contract's query string), so any view of it can be
bookmarked or shared. Queries: the user's warehouse scope and the warehouse choices, a capped
count, the Low stock / Stockout counts, and the page: the same number for 10 or 100 rows.
"""

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import QueryDict
from django.utils import timezone
from django.views.generic import TemplateView

from warehouses.models import visible_warehouses

from ..filters import StockLineFilter
from ..models import StockLine, StockStatus
from ..selectors import sales
from ..selectors.stock_list import (
    COUNT_CAP,
    InvalidPageToken,
    Ordering,
    list_counts,
    stock_list_page,
)

MSG_STALE_PAGE = "That page link no longer fits these filters; showing the first page."

#: The table's sortable columns: (contract key, heading, numeric).
SORTABLE_COLUMNS = (
    ("product", "Product", False),
    ("sku", "SKU", False),
    ("warehouse", "Warehouse", False),
    ("available", "Available", True),
    ("reserved", "Reserved", True),
    ("total", "Total", True),
    ("last_movement", "Last movement", False),
)
#: Query-string keys that do not select lines: they never reach the CSV or the count links.
PRESENTATION_KEYS = ("page", "cover", "format")


@dataclass(frozen=True)
class SortHeader:
    key: str
    label: str
    numeric: bool
    url: str
    #: "ascending", "descending" or "" (aria-sort).
    direction: str


def stock_list_filterset(request, queryset=None) -> StockLineFilter:
    return StockLineFilter(
        request.GET,
        queryset=queryset if queryset is not None else StockLine.objects.visible_to(request.user),
        request=request,
    )


def query_with(query: QueryDict, **changes) -> str:
    """``query`` as a query string with some keys set (or removed, with None), the changed
    keys last; encoded as ``QueryDict.urlencode(safe=",")`` does, without copying the
    QueryDict (a deep copy: a page builds a dozen of these links)."""
    pairs = [
        (key, value) for key, values in query.lists() if key not in changes for value in values
    ]
    pairs += [(key, value) for key, value in changes.items() if value not in (None, "")]
    encoded = urlencode(pairs, safe=",", quote_via=quote)
    return f"?{encoded}" if encoded else "?"


class StockLineListView(PermissionRequiredMixin, TemplateView):
    permission_required = "inventory.view_stockline"
    template_name = "inventory/stockline_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        filterset = stock_list_filterset(request)
        filterset.is_valid()  # errors show next to their fields; valid filters still apply
        ordering = Ordering.parse(filterset.ordering_key)
        lines = filterset.qs
        show_cover = request.GET.get("cover") == "1"
        if show_cover:
            lines = sales.with_recent_sales(lines, now=timezone.now())
        searching = bool(filterset.form.cleaned_data.get("q"))
        try:
            page = self._page(lines, ordering, request.GET.get("page"), searching)
        except InvalidPageToken:
            messages.warning(request, MSG_STALE_PAGE)
            page = self._page(lines, ordering, None, searching)
        if show_cover:
            for line in page.lines:
                line.days_of_cover = sales.days_of_cover(line.available, line.sold_recently)
        (matching, more), counts = list_counts(*filterset.counting_querysets(), cap=COUNT_CAP)
        query = request.GET.copy()
        selection = query.copy()
        for key in PRESENTATION_KEYS:
            selection.pop(key, None)
        context.update(
            filter=filterset,
            page=page,
            ordering=ordering,
            headers=self._headers(query, ordering),
            matching=matching,
            more_than_cap=more,
            count_cap=COUNT_CAP,
            counts=counts,
            low_url=query_with(query, status=StockStatus.LOW, page=None),
            out_url=query_with(query, status=StockStatus.OUT, page=None),
            morning_url=self._shortcut(query, status="low,out", ordering="available"),
            stagnating_url=self._shortcut(query, ordering="last_movement"),
            next_url=page.next_token and query_with(query, page=page.next_token),
            previous_url=page.previous_token and query_with(query, page=page.previous_token),
            first_url=query_with(query, page=None),
            show_cover=show_cover,
            cover_url=query_with(query, cover=None if show_cover else "1"),
            filtered=bool(selection.urlencode()),
            more_filters_in_use=sum(
                1
                for key in ("warehouse", "status", "zero", "stagnant", "ordering")
                if query.get(key)
            ),
            export_query=selection.urlencode(safe=","),
            can_export=request.user.has_perm("inventory.export_stock"),
            status_now=request.GET.get("status", ""),
            ordering_now=ordering.value,
        )
        return context

    def _page(self, lines, ordering, token, searching):
        return stock_list_page(
            lines,
            ordering=ordering,
            token=token,
            branch_by_warehouse=not searching,
            warehouses=visible_warehouses(self.request.user),
        )

    @staticmethod
    def _headers(query: QueryDict, ordering: Ordering) -> list[SortHeader]:
        headers = []
        for key, label, numeric in SORTABLE_COLUMNS:
            current = ordering.key == key
            # A second click on the sorted column reverses it; a first click sorts ascending.
            target = f"-{key}" if current and not ordering.descending else key
            direction = ""
            if current:
                direction = "descending" if ordering.descending else "ascending"
            headers.append(
                SortHeader(
                    key=key,
                    label=label,
                    numeric=numeric,
                    url=query_with(query, ordering=target, page=None),
                    direction=direction,
                )
            )
        return headers

    @staticmethod
    def _shortcut(query: QueryDict, **values) -> str:
        """A routine's view, keeping only the warehouse chosen (and the cover column)."""
        kept = QueryDict(mutable=True)
        for key in ("warehouse", "cover"):
            if query.get(key):
                kept[key] = query[key]
        return query_with(kept, **values)
