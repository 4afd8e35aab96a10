"""Filters of the inventory list, its CSV export and the SKU page's movement history.

The list's query string is the contract's: ``q``, ``warehouse`` (code), ``status``, ``zero``,
``stagnant`` (days), ``ordering`` (a column key, ``-`` for descending) and ``page``. ``status``
also takes several values separated by commas (``status=low,out``, the morning routine).
Ordering and paging are applied by ``selectors.stock_list`` (keyset paging); this module
validates them with the other fields so that every error shows next to its field.
"""

from datetime import timedelta

import django_filters
from django import forms
from django.utils import timezone

from warehouses.models import Warehouse

from .journal_filters import PeriodFilter
from .models import MovementType, StockStatus
from .selectors.stock_list import DEFAULT_ORDERING, ORDERINGS

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


class WarehouseCodeField(forms.ModelChoiceField):
    default_error_messages = {"invalid_choice": MSG_UNKNOWN_WAREHOUSE}

    def label_from_instance(self, obj):
        return f"{obj.code} – {obj.name}"


class WarehouseCodeFilter(django_filters.ModelChoiceFilter):
    """A warehouse chosen by its code, among those the request's user may see."""

    field_class = WarehouseCodeField

    def __init__(self, *args, field_name="warehouse", **kwargs):
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("queryset", self.visible_warehouses)
        kwargs.setdefault("empty_label", "All warehouses")
        super().__init__(*args, field_name=field_name, **kwargs)

    @staticmethod
    def visible_warehouses(request):
        if request is None:
            return Warehouse.objects.none()
        return Warehouse.objects.visible_to(request.user).order_by("code")


class StatusField(forms.MultipleChoiceField):
    """One status or several separated by commas: ``low`` or ``low,out``."""

    default_error_messages = {"invalid_choice": MSG_UNKNOWN_STATUS}
    widget = forms.Select

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
        return qs.in_status(*dict.fromkeys(value))


class OneCheckbox(forms.CheckboxInput):
    """A checkbox that sends ``1``; ``0`` or nothing means unchecked (``zero=0``: no filter).

    Django's checkbox reads any value but "false" as checked; this one passes the raw value
    to the field, which reads 1/0 and true/false.
    """

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda value: value in (True, "1", "true", "True"))

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StockLineFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=forms.TextInput(
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
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_STAGNANT_DAYS, "step": 1}),
    )
    ordering = django_filters.ChoiceFilter(
        label="Sort by",
        choices=_ordering_choices(),
        method="keep_for_paging",
        empty_label=f"{ORDERING_LABELS[DEFAULT_ORDERING]}, ascending",
        error_messages={"invalid_choice": MSG_UNKNOWN_ORDERING},
    )

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        ordering = self.form.cleaned_data.get("ordering") or DEFAULT_ORDERING
        return queryset.search(value, walk_variants=ordering.lstrip("-") == "sku")

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
