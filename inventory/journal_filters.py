"""Filters of the movement journal and of the losses report (django-filter).

Query string, as the contract says: ``from``, ``to`` (dates, both days included), ``warehouse``
(code), ``type``, ``reason``, ``sku``, ``user`` (username), ``reference``.
"""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models.functions import Lower
from django.utils import timezone

from catalog.models import Variant
from warehouses.models import Warehouse

from .models import MovementReason, MovementType

MSG_PERIOD_REVERSED = "The end date is before the start date."
MSG_UNKNOWN_WAREHOUSE = "There is no warehouse with this code among the ones you can see."


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def visible_warehouses(request):
    if request is None:
        return Warehouse.objects.none()
    return Warehouse.objects.visible_to(request.user)


class PeriodForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and end < start:
            self.add_error("to", forms.ValidationError(MSG_PERIOD_REVERSED, code="period_reversed"))
        return cleaned


def _rename(filterset_class, **names) -> None:
    """Give filters query-string names that are Python keywords (``from``), keeping order."""
    filterset_class.base_filters = {
        names.get(name, name): value for name, value in filterset_class.base_filters.items()
    }


class PeriodFilter(django_filters.FilterSet):
    """A period of days and a warehouse: what every accounting report is cut by."""

    date_from = django_filters.DateFilter(
        label="From", method="filter_from", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label="To", method="filter_to", widget=forms.DateInput(attrs={"type": "date"})
    )
    warehouse = django_filters.ModelChoiceFilter(
        label="Warehouse",
        field_name="stock_line__warehouse",
        to_field_name="code",
        queryset=visible_warehouses,
        empty_label="All warehouses",
        error_messages={"invalid_choice": MSG_UNKNOWN_WAREHOUSE},
    )

    class Meta:
        form = PeriodForm
        fields: list[str] = []

    def filter_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=start_of_day(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=start_of_day(value + timedelta(days=1)))

    @property
    def period(self) -> tuple[datetime | None, datetime | None]:
        """The [start, end) of the chosen days; None for an open end."""
        data = self.form.cleaned_data if self.form.is_valid() else {}
        start, end = data.get("from"), data.get("to")
        return (
            start_of_day(start) if start else None,
            start_of_day(end + timedelta(days=1)) if end else None,
        )


_rename(PeriodFilter, date_from="from", date_to="to")


class JournalFilter(PeriodFilter):
    type = django_filters.ChoiceFilter(
        label="Type", choices=MovementType.choices, empty_label="Any type"
    )
    reason = django_filters.ChoiceFilter(
        label="Reason", choices=MovementReason.choices, empty_label="Any reason"
    )
    sku = django_filters.CharFilter(label="SKU", method="filter_sku")
    user = django_filters.CharFilter(
        label="User", field_name="created_by__username", lookup_expr="iexact"
    )
    reference = django_filters.CharFilter(label="Reference", lookup_expr="icontains")

    class Meta(PeriodFilter.Meta):
        pass

    def filter_sku(self, queryset, name, value):
        # Through the case-insensitive unique index on lower(sku): one variant at most.
        variant = Variant.objects.annotate(sku_lower=Lower("sku")).filter(
            sku_lower=value.strip().lower()
        )
        return queryset.filter(stock_line__variant__in=variant.values("pk"))


_rename(JournalFilter, date_from="from", date_to="to")
