"""Streamed reads on PostgreSQL: every server-side cursor lives and dies inside a transaction, as
pgbouncer's transaction pooling needs, and verify_ledger reads one snapshot while stock moves.

What breaks behind pgbouncer is a cursor declared WITH HOLD (Django does so outside a
transaction): it outlives the DECLARE's transaction, and its next FETCH, a transaction of its
own, may reach another server connection. A cursor declared without it disappears with its
transaction, so a stream that reads it to the end has fetched every row inside that transaction.
The tests run with autocommit on (transactional tests), as a request does: inside the test
framework's usual wrapping transaction every cursor would look fine.
"""

import threading
from dataclasses import dataclass
from datetime import timedelta

import psycopg
import pytest
from django import forms
from django.db import ProgrammingError, connection
from django.utils import timezone

from core import csv_export
from core.streaming import stream_rows, streaming_transaction
from inventory import ledger
from inventory.ledger import verify_ledger
from inventory.models import CountScope, Movement, MovementReason
from inventory.services import count_session_start, stock_adjust
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import receive
from warehouses.models import Warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@dataclass(frozen=True)
class Declared:
    """A server-side cursor as it was declared."""

    sql: str
    holdable: bool
    autocommit: bool


@pytest.fixture
def declared():
    """Every server-side cursor declared on this thread's connection while the test runs."""
    seen: list[Declared] = []

    def record(execute, sql, params, many, context):
        cursor = context["cursor"].cursor
        if isinstance(cursor, psycopg.ServerCursor):
            seen.append(Declared(sql, cursor.withhold, context["connection"].get_autocommit()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


@pytest.fixture
def world(client):
    warehouse = WarehouseFactory(code="STR")
    variants = [VariantFactory(sku=f"STREAM-{n}") for n in range(3)]
    for variant in variants:
        receive(variant, warehouse, 10, reference="DN-STREAM")
    stock_adjust(variant=variants[0], warehouse=warehouse, quantity=-2, reason=MovementReason.LOSS)
    session = count_session_start(warehouse=warehouse, scope=CountScope.ALL)
    client.force_login(UserFactory(role="Merchant"))
    return warehouse, session


def download(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8-sig")


#: Each export's path (``{count}``: a count session) and a line its CSV must hold.
EXPORTS = {
    "journal": ("/movements/export.csv", "STREAM-0"),
    "stock at a date": ("/inventory/at/export.csv?at={tomorrow}", "STREAM-0,STR,8.000"),
    "count sheet": ("/inventory/counts/{count}/sheet.csv", "STREAM-2"),
    "losses": ("/movements/losses/export.csv", "Total,1,2.000"),
}


@pytest.mark.parametrize("name", list(EXPORTS))
def test_a_streamed_export_reads_its_cursor_inside_a_transaction(client, world, declared, name):
    _, session = world
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat().replace("+", "%2B")
    path, expected = EXPORTS[name]

    text = download(client, path.format(count=session.pk, tomorrow=tomorrow))

    assert expected in text
    assert declared, "the export read no server-side cursor: it would not stream"
    assert [cursor for cursor in declared if cursor.holdable or cursor.autocommit] == []
    assert connection.get_autocommit()  # and the transaction ended with the download


def test_a_download_cut_short_ends_its_transaction(client, world, declared, monkeypatch):
    monkeypatch.setattr(csv_export, "ROWS_PER_CHUNK", 1)
    response = client.get("/movements/export.csv")
    chunks = iter(response.streaming_content)
    next(chunks)  # the header
    next(chunks)  # the first row: the cursor is open, in its transaction
    assert not connection.get_autocommit()

    response.close()  # what the WSGI server does when the client goes away

    assert connection.get_autocommit()
    assert declared and not declared[0].holdable


def test_behind_pgbouncer_streams_keep_a_server_side_cursor_and_form_choices_read_none(
    world, declared, monkeypatch
):
    # DATABASE_PGBOUNCER=1 (config/settings/base.py)
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)

    rows = list(stream_rows(Movement.objects.values_list("pk"), chunk_size=2))
    field = forms.ModelChoiceField(queryset=Warehouse.objects.all())
    choices = list(field.choices)  # Django's own iterator(), outside any transaction

    assert len(rows) == Movement.objects.count()
    assert len(choices) == 2
    assert len(declared) == 1
    assert not declared[0].holdable and not declared[0].autocommit


def test_streams_read_side_by_side_need_one_transaction_around_them(world, declared):
    movements = Movement.objects.order_by("pk").values_list("pk", flat=True)
    expected = list(movements)

    with streaming_transaction():
        short = stream_rows(movements.all()[:1], chunk_size=1)
        long = stream_rows(movements.all(), chunk_size=1)
        read = [next(short), next(long)]
        assert list(short) == []  # the short stream ends first...
        read += list(long)  # ...and the long one's cursor is still there

    assert read == expected[:1] + expected
    assert len(declared) == 2 and not any(cursor.holdable for cursor in declared)
    # Without it, the first stream opened the transaction and ended it, cursor and all.
    short = stream_rows(movements.all()[:1], chunk_size=1)
    long = stream_rows(movements.all(), chunk_size=1)
    next(short), next(long)
    assert list(short) == []
    with pytest.raises(ProgrammingError, match="does not exist"):
        list(long)


def test_verify_ledger_reads_one_snapshot_while_stock_moves(world, monkeypatch):
    warehouse, _ = world
    variant = VariantFactory(sku="STREAM-MOVING")
    receive(variant, warehouse, 5)
    before = Movement.objects.count()
    streamed_holds = ledger._holds_by_line

    def adjust_elsewhere():
        # Another app server moves stock, committed, while the verification is reading.
        stock_adjust(variant=variant, warehouse=warehouse, quantity=3, reason="manual")
        connection.close()

    def holds_then_a_concurrent_write():
        # Runs after the movements' cursor is declared and before the lines' is.
        thread = threading.Thread(target=adjust_elsewhere)
        thread.start()
        thread.join(30)
        yield from streamed_holds()

    monkeypatch.setattr(ledger, "_holds_by_line", holds_then_a_concurrent_write)

    report = verify_ledger()

    assert report.problems == []
    assert report.movements == before
    assert Movement.objects.count() == before + 1
    monkeypatch.undo()
    assert verify_ledger().ok
