"""Reads of the API: one query per page, whatever its size."""

from django.db.models.functions import Lower

from catalog.models import Variant
from inventory.models import StockLine
from orders.models import Order

from .parsing import InventoryQuery


def inventory_page(*, user, query: InventoryQuery) -> tuple[list[StockLine], bool]:
    """The stock lines after ``query.after`` in id order (keyset paging, no OFFSET), and
    whether more follow. A line "changed" when any of its quantities did (``changed_at``)."""
    lines = (
        StockLine.objects.visible_to(user)
        .with_status()
        .with_threshold()
        .select_related("variant", "warehouse")
        .filter(pk__gt=query.after)
        .order_by("pk")
    )
    if query.sku:
        lines = lines.filter(
            variant__in=Variant.objects.alias(sku_lower=Lower("sku")).filter(
                sku_lower=query.sku.lower()
            )
        )
    if query.warehouse:
        lines = lines.filter(warehouse=query.warehouse)
    if query.status:
        lines = lines.filter(status=query.status)
    if query.changed_since:
        lines = lines.filter(changed_at__gte=query.changed_since)
    page = list(lines[: query.limit + 1])
    return page[: query.limit], len(page) > query.limit


def order_with_lines(reference: str):
    """The order with this reference and its lines (with their variants), or (None, [])."""
    order = Order.objects.select_related("warehouse").filter(reference=reference).first()
    if order is None:
        return None, []
    return order, list(order.lines.select_related("variant").order_by("pk"))
