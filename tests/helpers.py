"""Helpers shared by the tests: stock goes in through the services, never by a factory."""

from decimal import Decimal

from catalog.models import Unit, Variant
from inventory.models import CountScope, CountSession, StockLine
from inventory.services import (
    CountedQuantity,
    StockQuantity,
    count_record_many,
    count_session_start,
    stock_receive,
)
from tests.factories import ProductFactory

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


def counted_everywhere(warehouse, *, lines: int) -> CountSession:
    """``lines`` new variants received at 10 into ``warehouse``, then a full count of it with
    every line counted at 11: the started session, one correction per line to apply."""
    product = ProductFactory(name=f"Counted in {warehouse.code}")
    Variant.objects.bulk_create(
        Variant(product=product, name=f"V{n}", sku=f"{warehouse.code}-{n:06d}", unit=Unit.PIECE)
        for n in range(lines)
    )
    variants = list(Variant.objects.filter(product=product))
    stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 10) for v in variants])
    session = count_session_start(warehouse=warehouse, scope=CountScope.ALL)
    count_record_many(
        session=session, counted=[CountedQuantity(v.pk, Decimal(11)) for v in variants]
    )
    return session
