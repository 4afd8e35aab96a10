"""Filters of the inventory list, its CSV export and the SKU page's movement history.

The list's query string is the contract's: ``q``, ``warehouse`` (code), ``status``, ``zero``,
``stagnant`` (days), ``ordering`` (a column key, ``-`` for descending) and ``page``. ``status``
also takes several values separated by commas (``status=low,out``, the morning routine).
Ordering and paging are applied by ``selectors.stock_list`` (keyset paging); this module
validates them with the other fields so that every error shows next to its field.
"""

import copy
from datetime import timedelta
from functools import cache

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from warehouses.models import visible_warehouses

from .journal_filters import PeriodFilter
from .models import MovementType, StockStatus
from .selectors.search import StockSearch
from .selectors.stock_list import DEFAULT_ORDERING, ORDERINGS
from .widgets import QuickInputMixin, QuickNumberInput, QuickSelect, QuickTextInput

MSG_UNKNOWN_WAREHOUSE = "There is no warehouse with code “%(value)s” that you can see."
MSG_UNKNOWN_STATUS = "“%(value)s” is not a status: use ok, low or out."
MSG_STAGNANT_DAYS = "Enter a number of days from 1 to 3650."
MSG_UNKNOWN_ORDERING = "“%(value)s” is not a column to sort by."
MAX_STAGNANT_DAYS = 3650

ORDERING_LABELS = {
    "sku": "SKU",
    "product": "Product",
    "warehouse": "Warehouse",
    "available": "Available",
    "reserved": "Reserved",
    "total": "Total",
    "last_movement": "Last movement",
}


def _ordering_choices():
    choices = []
    for key in ORDERINGS:
        label = ORDERING_LABELS[key]
        choices.append((key, f"{label}, ascending"))
        choices.append((f"-{key}", f"{label}, descending"))
    return choices


class WarehouseCodeField(forms.ChoiceField):
    """A warehouse chosen by its code among ``warehouses``; cleans to the Warehouse."""

    widget = QuickSelect
    default_error_messages = {"invalid_choice": MSG_UNKNOWN_WAREHOUSE}

    def __init__(self, *, warehouses=(), empty_label="All warehouses", **kwargs):
        self.empty_label = empty_label
        super().__init__(**kwargs)
        self.set_warehouses(warehouses)

    def set_warehouses(self, warehouses) -> None:
        self.by_code = {warehouse.code: warehouse for warehouse in warehouses}
        self.choices = [("", self.empty_label)] + [
            (warehouse.code, f"{warehouse.code} – {warehouse.name}") for warehouse in warehouses
        ]

    def clean(self, value):
        code = super().clean(value)
        return self.by_code[code] if code else None


class WarehouseCodeFilter(django_filters.Filter):
    """A warehouse chosen by its code; the choices are set on each form by its filter set,
    from the warehouses its user may see (see ``StockLineFilter.form``)."""

    field_class = WarehouseCodeField

    def __init__(self, *args, field_name="warehouse", **kwargs):
        super().__init__(*args, field_name=field_name, **kwargs)


class StatusField(forms.MultipleChoiceField):
    """One status or several separated by commas: ``low`` or ``low,out``."""

    default_error_messages = {"invalid_choice": MSG_UNKNOWN_STATUS}
    widget = QuickSelect

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, list | tuple):
            value = ",".join(value)
        return [part.strip() for part in str(value).split(",") if part.strip()]

    def valid_value(self, value):
        return value in StockStatus.values


class StatusFilter(django_filters.MultipleChoiceFilter):
    field_class = StatusField

    def filter(self, qs, value):
        if not value:
            return qs
        statuses = dict.fromkeys(value)
        if self.parent is not None and self.parent._counting:
            # The bounds in_status adds on available help a sorted page only: a count under
            # them read each line from the table (50 ms for Low stock at a million lines),
            # under the status alone it reads the status index.
            return qs.filter(status__in=sorted(statuses))
        return qs.in_status(*statuses)


class OneCheckbox(QuickInputMixin, forms.CheckboxInput):
    """A checkbox that sends ``1``; ``0`` or nothing means unchecked (``zero=0``: no filter).

    Django's checkbox reads any value but "false" as checked; this one passes the raw value
    to the field, which reads 1/0 and true/false.
    """

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda value: value in (True, "1", "true", "True"))

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StockLineFilter(django_filters.FilterSet):
    _search: tuple[str, StockSearch] | None = None
    _counting = False

    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=QuickTextInput(
            attrs={"type": "search", "placeholder": "Product, variant, SKU or barcode"}
        ),
    )
    warehouse = WarehouseCodeFilter(label="Warehouse")
    status = StatusFilter(
        label="Status",
        choices=[
            ("", "Any status"),
            ("low,out", "Low stock or Stockout"),
            *StockStatus.choices,
        ],
    )
    zero = django_filters.BooleanFilter(
        label="Total stockout only",
        method="filter_zero",
        widget=OneCheckbox(attrs={"value": "1"}),
        help_text="Nothing on hand at all (Total = 0).",
    )
    stagnant = django_filters.NumberFilter(
        label="Not moved for (days)",
        method="filter_stagnant",
        min_value=1,
        max_value=MAX_STAGNANT_DAYS,
        decimal_places=0,
        error_messages={
            "invalid": MSG_STAGNANT_DAYS,
            "min_value": MSG_STAGNANT_DAYS,
            "max_value": MSG_STAGNANT_DAYS,
            "max_decimal_places": MSG_STAGNANT_DAYS,
            "max_digits": MSG_STAGNANT_DAYS,
        },
        widget=QuickNumberInput(attrs={"min": 1, "max": MAX_STAGNANT_DAYS, "step": 1}),
    )
    ordering = django_filters.ChoiceFilter(
        label="Sort by",
        choices=_ordering_choices(),
        method="keep_for_paging",
        widget=QuickSelect,
        empty_label=f"{ORDERING_LABELS[DEFAULT_ORDERING]}, ascending",
        error_messages={"invalid_choice": MSG_UNKNOWN_ORDERING},
    )

    @property
    def form(self):
        if not hasattr(self, "_form"):
            user = getattr(self.request, "user", None)
            # Read with the user's scope (visible_warehouses): a ModelChoiceFilter would
            # read them again, through a server-side cursor.
            warehouses = visible_warehouses(user) if user else []
            super().form.fields["warehouse"].set_warehouses(warehouses)
        return self._form

    def get_form_class(self):
        return _form_class(type(self))

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if self._search is None or self._search[0] != value:
            # Read once per request, though the page and its counts each filter by it.
            self._search = (value, StockSearch.read(value))
        ordering = self.form.cleaned_data.get("ordering") or DEFAULT_ORDERING
        walk_variants = not self._counting and ordering.lstrip("-") == "sku"
        return queryset.filter(self._search[1].condition(walk_variants=walk_variants))

    def filter_zero(self, queryset, name, value):
        return queryset.total_stockout() if value else queryset

    def filter_stagnant(self, queryset, name, value):
        cutoff = timezone.now() - timedelta(days=int(value))
        return queryset.not_moved_since(cutoff)

    def keep_for_paging(self, queryset, name, value):
        # Ordering goes with the keyset paging in selectors.stock_list, not here.
        return queryset

    @property
    def ordering_key(self) -> str:
        cleaned = getattr(self.form, "cleaned_data", {})
        return cleaned.get("ordering") or DEFAULT_ORDERING

    def filter_queryset_except(self, queryset, *names):
        """The queryset under every valid filter but ``names`` (the counts ignore status)."""
        for name, value in self.form.cleaned_data.items():
            if name not in names:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def counting_querysets(self) -> tuple[QuerySet, QuerySet]:
        """The lines to count above the list: those matching every filter, and those
        matching every filter but the status (for the Low stock and Stockout counts).

        Counted lines are not read in any order: a search checks each line (see
        selectors.search).
        """
        self._counting = True
        try:
            return (
                self.filter_queryset_except(self.queryset),
                self.filter_queryset_except(self.queryset, "status"),
            )
        finally:
            self._counting = False


@cache
def _form_class(filterset_class: type[django_filters.FilterSet]) -> type[forms.Form]:
    """The form class of a filter set, built once: django-filter builds one, with new fields,
    for every request (0.17 ms of the inventory list's). Each form copies the fields it is
    given, so a filter set may still change its own (the warehouse choices)."""
    filters = copy.deepcopy(filterset_class.base_filters)
    fields = {name: filter_.field for name, filter_ in filters.items()}
    return type(f"{filterset_class.__name__}Form", (filterset_class._meta.form,), fields)


class MovementHistoryFilter(PeriodFilter):
    """The SKU page's movement history: ``warehouse`` (code), ``type``, ``from``, ``to``."""

    type = django_filters.ChoiceFilter(
        label="Type", choices=MovementType.choices, empty_label="All types"
    )

    class Meta(PeriodFilter.Meta):
        pass


# "from" is a Python keyword: the query string's names are given after the class is built.
MovementHistoryFilter.base_filters = {
    {"date_from": "from", "date_to": "to"}.get(name, name): value
    for name, value in MovementHistoryFilter.base_filters.items()
}
