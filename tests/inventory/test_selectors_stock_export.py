"""The inventory CSV written by PostgreSQL's COPY is the CSV the Python rows give, byte for
byte: every formula prefix, quotes, commas, line breaks, Unicode, fractions and negative
quantities, missing thresholds and movements, every status, both dialects, any time zone."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone as django_timezone

import core.csv_copy
from core.csv_copy import copy_available
from core.csv_export import SPREADSHEET, STANDARD, csv_chunks
from inventory.models import StockLine
from inventory.selectors import stock_export
from inventory.selectors.stock_export import inventory_csv
from inventory.selectors.stock_list import EXPORT_COLUMNS, ORDERINGS, Ordering, export_rows
from inventory.services import (
    StockQuantity,
    expected_reception_create,
    stock_adjust,
    stock_lock,
    stock_receive,
    stock_reserve,
)
from inventory.services.clock import simulated_time
from tests.factories import (
    ProductFactory,
    SupplierFactory,
    UserFactory,
    VariantFactory,
    WarehouseFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

#: Text a CSV writer can get wrong: every formula prefix, the characters that force quoting,
#: empty text, spaces, a lone quote, and text beyond ASCII.
TRICKY_TEXTS = [
    '=HYPERLINK("http://evil.example","click")',
    "+33 1 23 45 67 89",
    "-1+2",
    "@SUM(A1:A2)",
    "\tindented",
    "\rcarriage",
    'He said "hi"',
    "Mugs, blue",
    "two\nlines",
    "two\r\nlines, windows",
    "semi;colon",
    "",
    " padded ",
    "'already quoted",
    "\\.",
    "Crème brûlée 🍮 — ½ kg, 東京",
    'ends with a quote"',
    "x" * 100,
]
#: Moments with and without microseconds (trailing zeros too), in winter and in summer.
MOMENTS = [
    datetime(2025, 1, 15, 8, 30, 0, tzinfo=UTC),
    datetime(2025, 7, 1, 23, 59, 59, 120000, tzinfo=UTC),
    datetime(2024, 2, 29, 0, 0, 0, 1, tzinfo=UTC),
    datetime(2025, 3, 30, 1, 30, 0, 999999, tzinfo=UTC),
]


@pytest.fixture
def tricky_stock():
    """Lines in every status with the tricky texts in product, variant, SKU and warehouse,
    fractional and negative quantities, reservations, locks, incoming, lines that never
    moved and lines without a threshold."""
    plain = WarehouseFactory(code="PAR")
    negative = WarehouseFactory(code="-NEG", allow_negative_stock=True)
    odd = WarehouseFactory(code='=W"1,\n')
    supplier = SupplierFactory()
    user = UserFactory()
    for index, text in enumerate(TRICKY_TEXTS):
        product = ProductFactory(name=text or "Plain")
        variant = VariantFactory(
            product=product,
            name=TRICKY_TEXTS[-index - 1],
            sku=f"{text[:1]}SKU-{index:02d}" if text[:1] not in ("", "\\") else f"S-{index}",
            by_weight=index % 2 == 0,
            alert_threshold=None if index % 3 == 0 else Decimal("4.250"),
        )
        moment = MOMENTS[index % len(MOMENTS)]
        with simulated_time(moment):
            quantity = Decimal("7.125") if index % 2 == 0 else Decimal(index % 5 + 1)
            stock_receive(warehouse=plain, lines=[StockQuantity(variant, quantity)])
            if index % 2 == 0:
                stock_receive(warehouse=negative, lines=[StockQuantity(variant, Decimal("1.5"))])
                stock_adjust(
                    variant=variant, warehouse=negative, quantity=Decimal("-3.75"), reason="loss"
                )
        if index % 4 == 1 and quantity >= 2:
            stock_reserve(
                warehouse=plain, lines=[StockQuantity(variant, 1)], reference=f"ORD-{index}"
            )
            stock_lock(variant=variant, warehouse=plain, quantity=1, reason="damaged")
        if index % 3 == 1:
            # A line that only expects goods: it never moved.
            expected_reception_create(
                supplier=supplier,
                warehouse=odd,
                reference=f"PO-{index}",
                lines=[StockQuantity(variant, 2)],
                user=user,
            )
    lines = StockLine.objects.all()
    assert {line.status for line in lines} == {"ok", "low", "out"}
    assert lines.filter(last_movement_at__isnull=True).exists()
    assert lines.filter(effective_threshold__isnull=True).exists()
    assert lines.filter(available__lt=0).exists()
    return lines


def python_csv(lines, ordering: Ordering, dialect) -> bytes:
    return b"".join(csv_chunks(EXPORT_COLUMNS, export_rows(lines, ordering=ordering), dialect))


def copy_csv_bytes(lines, ordering: Ordering, dialect) -> bytes:
    assert copy_available(lines.db)
    return b"".join(inventory_csv(lines, ordering=ordering, dialect=dialect))


@pytest.mark.parametrize("dialect", [STANDARD, SPREADSHEET], ids=["standard", "spreadsheet"])
@pytest.mark.parametrize("key", [*ORDERINGS, "-sku", "-last_movement"])
def test_copy_writes_the_same_bytes_as_python_rows(tricky_stock, key, dialect):
    ordering = Ordering.parse(key)

    written = copy_csv_bytes(tricky_stock, ordering, dialect)

    assert written == python_csv(tricky_stock, ordering, dialect)
    assert written.count(b"\r\n") >= tricky_stock.count() + 1


@pytest.mark.parametrize(
    "zone", ["Europe/Paris", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham", "Etc/UTC"]
)
def test_copy_writes_date_times_in_the_current_time_zone_as_python_does(tricky_stock, zone):
    ordering = Ordering.parse("last_movement")

    with django_timezone.override(zone):
        written = copy_csv_bytes(tricky_stock, ordering, STANDARD)
        expected = python_csv(tricky_stock, ordering, STANDARD)

    assert written == expected
    if zone == "America/St_Johns":
        assert b"2025-07-01T21:29:59.120000-02:30" in written
        assert b"2025-01-15T05:00:00-03:30" in written


def test_copy_writes_filtered_and_scoped_lines_as_python_does(tricky_stock):
    lines = tricky_stock.filter(warehouse__code="-NEG", status__in=["out", "low"])
    ordering = Ordering.parse("-available")

    written = copy_csv_bytes(lines, ordering, STANDARD)

    assert written == python_csv(lines, ordering, STANDARD)
    assert written.count(b"'-NEG") == lines.count() > 0


def test_copy_reads_percent_signs_the_orm_escaped_without_parameters(tricky_stock):
    # LIKE '%%' || code || '%%' has no parameter: the ORM's %% must still reach PostgreSQL as %.
    lines = tricky_stock.filter(variant__product__name__contains=F("variant__name"))
    ordering = Ordering.parse("sku")

    written = copy_csv_bytes(lines, ordering, STANDARD)

    assert written == python_csv(lines, ordering, STANDARD)
    assert written.count(b"\r\n") > 1


@pytest.mark.parametrize("empty", ["no match", "none"])
def test_copy_of_no_line_is_the_header_alone(tricky_stock, empty):
    # none() cannot even be written as SQL (EmptyResultSet): nothing is asked of the database.
    lines = tricky_stock.none() if empty == "none" else tricky_stock.filter(pk__lt=0)

    written = copy_csv_bytes(lines, Ordering.parse("sku"), STANDARD)

    assert written == python_csv(lines, Ordering.parse("sku"), STANDARD)
    assert written == (
        b"Product,Variant,SKU,Warehouse,Available,Reserved,Locked,Total,Incoming,"
        b"Alert threshold,Status,Last movement\r\n"
    )


def test_copy_chunks_keep_line_breaks_inside_cells(tricky_stock, monkeypatch):
    monkeypatch.setattr(core.csv_copy, "ROWS_PER_CHUNK", 3)
    ordering = Ordering.parse("product")

    chunks = list(inventory_csv(tricky_stock, ordering=ordering, dialect=STANDARD))

    assert b"".join(chunks) == python_csv(tricky_stock, ordering, STANDARD)
    assert len(chunks) == 1 + -(-tricky_stock.count() // 3)
    assert b'"two\nlines"' in b"".join(chunks) and b'"two\r\nlines, windows"' in b"".join(chunks)


def test_a_fixed_offset_time_zone_is_written_by_python_rows(tricky_stock, monkeypatch):
    def no_copy(*args, **kwargs):
        raise AssertionError("COPY used for a zone PostgreSQL cannot name")

    monkeypatch.setattr(stock_export, "copy_csv", no_copy)
    ordering = Ordering.parse("sku")

    with django_timezone.override(timezone(timedelta(hours=5, minutes=45))):
        assert not copy_available(tricky_stock.db)
        written = b"".join(inventory_csv(tricky_stock, ordering=ordering, dialect=STANDARD))

    assert b"+05:45" in written


def test_the_export_page_is_written_by_copy_on_postgresql(client, tricky_stock, monkeypatch):
    def no_python_rows(*args, **kwargs):
        raise AssertionError("Python rows used on PostgreSQL")

    monkeypatch.setattr(stock_export, "export_rows", no_python_rows)
    client.force_login(UserFactory(role="Merchant"))

    response = client.get("/inventory/export.csv", {"ordering": "-total"})

    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == python_csv(
        tricky_stock, Ordering.parse("-total"), STANDARD
    )


@pytest.mark.parametrize(
    "query",
    [
        {"q": "two"},
        {"q": "nothing matches this"},
        {"q": "sku-1", "ordering": "product"},
        {"warehouse": "PAR", "status": "low,out"},
        {"zero": "1", "ordering": "-warehouse"},
        {"stagnant": "30", "ordering": "last_movement", "format": "spreadsheet"},
    ],
)
def test_the_export_page_gives_the_same_file_either_way(client, tricky_stock, monkeypatch, query):
    client.force_login(UserFactory(role="Merchant"))

    copied = b"".join(client.get("/inventory/export.csv", query).streaming_content)
    monkeypatch.setattr(stock_export, "copy_available", lambda using: False)
    written_by_python = b"".join(client.get("/inventory/export.csv", query).streaming_content)

    assert copied == written_by_python
    assert copied.startswith(("\ufeff" if "format" in query else "").encode() + b"Product")


@pytest.mark.django_db(transaction=True)
def test_the_copy_runs_in_a_transaction_and_a_closed_download_leaves_none_open(
    tricky_stock, monkeypatch
):
    monkeypatch.setattr(core.csv_copy, "ROWS_PER_CHUNK", 2)
    chunks = inventory_csv(tricky_stock, ordering=Ordering.parse("sku"), dialect=STANDARD)

    header, first = next(chunks), next(chunks)
    assert header.startswith(b"Product,") and first.count(b"\r\n") >= 2
    assert connection.in_atomic_block
    chunks.close()  # the client went away mid-download

    assert not connection.in_atomic_block
    assert StockLine.objects.count() == tricky_stock.count()  # the connection still works
