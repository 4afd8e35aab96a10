"""Helpers of the order tests: place orders and read what they hold."""

from decimal import Decimal

from django.db.models import Sum

from orders.models import Order, OrderLine, PipelineSettings
from orders.services import OrderLineInput, order_create, order_set_stage


def place(reference, warehouse, lines: dict, stage="new", **kwargs) -> Order:
    """Create an order ``{variant: quantity}``; return it (fresh from the database)."""
    order, _ = order_create(
        reference=reference,
        warehouse=warehouse,
        lines=[OrderLineInput(variant, quantity) for variant, quantity in lines.items()],
        stage=stage,
        **kwargs,
    )
    return Order.objects.get(pk=order.pk)


def move(order: Order, stage: str, **kwargs) -> Order:
    order_set_stage(order=order, stage=stage, **kwargs)
    return Order.objects.get(pk=order.pk)


def line_of_order(order: Order, variant) -> OrderLine:
    return OrderLine.objects.get(order=order, variant=variant)


def held_by_orders(variant, warehouse) -> Decimal:
    """What the orders of ``warehouse`` hold reserved of ``variant``."""
    total = OrderLine.objects.filter(variant=variant, order__warehouse=warehouse).aggregate(
        total=Sum("reserved")
    )["total"]
    return total or Decimal(0)


def configure(**fields) -> PipelineSettings:
    """Change the pipeline settings (``reserve_stage``, ``deduct_stage``, ``release_stages``)."""
    settings = PipelineSettings.load()
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.full_clean()
    settings.save()
    return settings
