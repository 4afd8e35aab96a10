"""Reads of the order screens: a constant number of queries whatever the page size."""

from django.db.models import Prefetch

from .models import Order, OrderLine, OrderStageChange, PipelineSettings
from .pipeline import OrderState, next_stages


def order_list(*, user):
    """Orders the user may see, newest first, with their line count and total quantities."""
    return (
        Order.objects.visible_to(user)
        .select_related("warehouse")
        .with_totals()
        .order_by("-created_at", "-id")
    )


def order_detail(*, user):
    """Orders the user may see, ready for the detail page: lines with their product, history
    with its users and stock effects."""
    return (
        Order.objects.visible_to(user)
        .select_related("warehouse", "created_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("variant__product").order_by("pk"),
            ),
            Prefetch(
                "stage_changes",
                queryset=OrderStageChange.objects.select_related("user")
                .prefetch_related("stock_effects")
                .order_by("created_at", "pk"),
            ),
        )
    )


def order_next_stages(order: Order) -> list[str]:
    """Where ``order`` (with its lines prefetched) may go now under the current settings."""
    lines = order.lines.all()
    state = OrderState(
        stage=order.stage,
        reserved=any(line.reserved for line in lines),
        deducted=any(line.shipped for line in lines),
        restocked=any(line.restocked for line in lines),
    )
    return next_stages(reference=order.reference, state=state, config=PipelineSettings.load())
