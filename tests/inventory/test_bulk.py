"""Set-based writes (inventory/services/bulk.py): COPY and array statements store exactly
what the ORM would, and the ledger's hashes still match."""

import pytest

from catalog.models import Variant
from inventory.ledger import verify_ledger
from inventory.models import CountLine, CountScope, Movement
from inventory.services import StockQuantity, count_session_start, stock_receive
from inventory.services.bulk import COPY_THRESHOLD, update_rows
from tests.factories import ProductFactory, VariantFactory
from tests.helpers import d

pytestmark = pytest.mark.django_db

AWKWARD = "Tab\there, new\nline, back\\slash, quote \" ' , NUL-free ünïcödé ☃ \\N"


def test_a_batch_large_enough_for_copy_stores_awkward_text_exactly(warehouse):
    product = ProductFactory()
    variants = Variant.objects.bulk_create(
        [Variant(product=product, sku=f"BULK-{n}") for n in range(COPY_THRESHOLD + 10)]
    )

    movements = stock_receive(
        warehouse=warehouse,
        lines=[StockQuantity(v, 1, "0.1") for v in variants],
        note=AWKWARD,
        reference="\\N",
    )

    assert all(m.pk for m in movements)
    assert [m.pk for m in movements] == sorted(m.pk for m in movements)
    stored = Movement.objects.get(pk=movements[-1].pk)
    assert (stored.note, stored.reference, stored.hash) == (
        AWKWARD,
        "\\N",
        movements[-1].hash,
    )
    assert verify_ledger().ok


def test_update_rows_sets_each_row_to_its_own_values(warehouse):
    variants = VariantFactory.create_batch(3)
    stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 5) for v in variants])
    session = count_session_start(warehouse=warehouse, scope=CountScope.ALL)
    lines = list(session.lines.order_by("pk"))

    update_rows(
        CountLine,
        ["counted"],
        [(lines[0].pk, d(1)), (lines[1].pk, None), (lines[2].pk, d("2.5"))],
    )

    assert list(session.lines.order_by("pk").values_list("counted", flat=True)) == [
        d(1),
        None,
        d("2.5"),
    ]
