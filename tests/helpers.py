"""Helpers shared by the tests: stock goes in through the services, never by a factory."""

from decimal import Decimal

from inventory.models import StockLine
from inventory.services import StockQuantity, stock_receive

#: The contract's CSV columns (shared/CONTRACT.md), spelled out: the tests do not read them from
#: the code they check.
STOCK_AT_DATE_COLUMNS = ["Product", "Variant", "SKU", "Warehouse", "On hand", "Unit cost", "Value"]
JOURNAL_COLUMNS = [
    "Date",
    "SKU",
    "Product",
    "Variant",
    "Warehouse",
    "Type",
    "Reason",
    "Quantity",
    "Balance after",
    "Reference",
    "Note",
    "User",
]


def receive(variant, warehouse, qty, **kwargs):
    """Receive ``qty`` of ``variant`` into ``warehouse`` (a supplier reception); return the line."""
    stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, qty)], **kwargs)
    return line_of(variant, warehouse)


def line_of(variant, warehouse) -> StockLine:
    """The stock line of ``variant`` in ``warehouse``, fresh from the database."""
    return StockLine.objects.get(variant=variant, warehouse=warehouse)


def d(value) -> Decimal:
    """A quantity as the database returns it: a Decimal with 3 places."""
    return Decimal(value).quantize(Decimal("0.001"))
