"""How stock lines and orders look in JSON. Quantities are strings with 3 decimals ("12.000"),
so that no client turns them into binary floats; times are ISO 8601 with their offset."""

from decimal import Decimal

from inventory.models import StockLine
from orders.models import Order


def quantity(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.3f}"


def moment(value) -> str | None:
    return None if value is None else value.isoformat()


def stock_line_json(line: StockLine) -> dict:
    """``line`` comes from ``StockLine.objects.with_status()`` with its variant and warehouse."""
    return {
        "sku": line.variant.sku,
        "warehouse": line.warehouse.code,
        "on_hand": quantity(line.on_hand),
        "reserved": quantity(line.reserved),
        "locked": quantity(line.locked),
        "available": quantity(line.available),
        "incoming": quantity(line.incoming),
        "alert_threshold": quantity(line.threshold),
        "status": line.status,
        "last_movement": moment(line.last_movement_at),
    }


def order_json(order: Order, lines) -> dict:
    """``lines``: the order's lines with their variants, in the order they were posted."""
    return {
        "reference": order.reference,
        "warehouse": order.warehouse.code,
        "stage": order.stage,
        "created_at": moment(order.created_at),
        "stage_changed_at": moment(order.stage_changed_at),
        "lines": [
            {
                "sku": line.variant.sku,
                "quantity": quantity(line.quantity),
                "reserved": quantity(line.reserved),
                "shipped": quantity(line.shipped),
                "restocked": quantity(line.restocked),
            }
            for line in lines
        ],
    }
