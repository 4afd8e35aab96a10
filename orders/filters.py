import django_filters
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower

from warehouses.models import Warehouse

from .models import Order, OrderLine, Stage


def visible_warehouses(request):
    if request is None:
        return Warehouse.objects.none()
    return Warehouse.objects.visible_to(request.user)


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_q")
    stage = django_filters.ChoiceFilter(label="Stage", choices=Stage.choices, empty_label="All")
    warehouse = django_filters.ModelChoiceFilter(
        label="Warehouse",
        queryset=visible_warehouses,
        to_field_name="code",
        empty_label="All",
    )

    class Meta:
        model = Order
        fields = ["q", "stage", "warehouse"]

    def filter_q(self, queryset, name, value):
        """An order whose reference starts with ``value``, or with a line of that exact SKU."""
        value = value.strip()
        if not value:
            return queryset
        has_sku = OrderLine.objects.alias(sku_lower=Lower("variant__sku")).filter(
            order=OuterRef("pk"), sku_lower=value.lower()
        )
        return queryset.filter(Q(reference__istartswith=value) | Exists(has_sku))
