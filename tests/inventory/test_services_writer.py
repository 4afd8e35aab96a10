"""The stock writer (inventory/services/writer.py) and its set-based statements
(inventory/services/bulk.py): how few statements a write takes, and that what they read and
store is exactly what the ORM would."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from inventory.ledger import movement_hash, operation_hasher, verify_ledger
from inventory.models import CountLine, CountScope, HoldChange, Movement, StockLine
from inventory.services import (
    CountedQuantity,
    InsufficientStock,
    StockQuantity,
    bulk,
    count_record_many,
    count_session_apply,
    count_session_start,
    stock_adjust,
    stock_receive,
    stock_reserve,
    stock_ship,
)
from inventory.services.writer import MSG_OUTSIDE_TRANSACTION, lock_stock_lines
from tests.factories import VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive
from warehouses.models import Warehouse

pytestmark = pytest.mark.django_db


def _is_line_lock(sql: str) -> bool:
    return 'FROM "inventory_stockline" s' in sql and sql.endswith("FOR UPDATE")


def _statements(captured) -> list[str]:
    """The statements of a service, without the savepoints of the test's own transaction."""
    return [
        query["sql"]
        for query in captured
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.postgres
def test_an_adjustment_is_one_lock_and_one_write(variant, warehouse, user):
    receive(variant, warehouse, 5)

    with CaptureQueriesContext(connection) as captured:
        movement = stock_adjust(
            variant=variant,
            warehouse=warehouse,
            quantity=-2,
            reason="breakage",
            note="Dropped",
            user=user,
        )

    lock, write = _statements(captured)
    assert _is_line_lock(lock)
    assert write.startswith("WITH changed AS (UPDATE")
    assert 'INSERT INTO "inventory_movement"' in write
    line = line_of(variant, warehouse)
    assert (line.on_hand, line.ledger_head, line.last_movement_at) == (
        d(3),
        movement.hash,
        movement.created_at,
    )
    assert Movement.objects.get(pk=movement.pk).hash == movement.hash
    # The caller's instances: a message naming the SKU and the warehouse costs no query.
    assert movement.stock_line.variant is variant
    assert movement.stock_line.warehouse is warehouse
    assert verify_ledger().ok


@pytest.mark.postgres
def test_an_order_shipped_writes_its_hold_changes_and_movements_in_one_statement(warehouse):
    variants = VariantFactory.create_batch(3)
    stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 10) for v in variants])
    stock_reserve(
        warehouse=warehouse, lines=[StockQuantity(v, 4) for v in variants], reference="SO-1"
    )

    with CaptureQueriesContext(connection) as captured:
        movements = stock_ship(
            warehouse=warehouse, lines=[StockQuantity(v, 4) for v in variants], reference="SO-1"
        )

    lock, write = _statements(captured)
    assert _is_line_lock(lock)
    assert write.startswith("WITH new0 AS (INSERT")
    deducted = HoldChange.objects.filter(kind="deduct").order_by("pk")
    assert [change.stock_line.variant for change in deducted] == variants
    assert [m.pk for m in movements] == sorted(m.pk for m in movements)
    assert [Movement.objects.get(pk=m.pk).stock_line.variant for m in movements] == variants
    assert {line_of(v, warehouse).on_hand for v in variants} == {d(6)}
    assert verify_ledger().ok


def test_an_adjustment_of_a_line_never_stocked_creates_it_with_its_threshold(warehouse):
    variant = VariantFactory(alert_threshold=5)

    movement = stock_adjust(
        variant=variant, warehouse=warehouse, quantity=3, reason="found", note="Behind a shelf"
    )

    line = line_of(variant, warehouse)
    assert (line.on_hand, line.effective_threshold, line.status) == (d(3), d(5), "low")
    assert movement.stock_line_id == line.pk
    assert verify_ledger().ok


def test_a_batch_with_some_lines_missing_creates_them_and_locks_every_line(warehouse):
    stocked, *new = VariantFactory.create_batch(3)
    receive(stocked, warehouse, 2)

    with CaptureQueriesContext(connection) as captured:
        stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 5) for v in [stocked, *new]])

    assert [line_of(v, warehouse).on_hand for v in [stocked, *new]] == [d(7), d(5), d(5)]
    if connection.vendor == "postgresql":
        # The first lock is given back before the missing lines are created, then every line
        # is locked in one query.
        statements = [query["sql"] for query in captured]
        locks = [index for index, sql in enumerate(statements) if _is_line_lock(sql)]
        rollback = next(i for i, sql in enumerate(statements) if sql.startswith("ROLLBACK TO"))
        create = next(
            i for i, sql in enumerate(statements) if 'INSERT INTO "inventory_stockline"' in sql
        )
        assert locks[0] < rollback < create < locks[1]
        assert len(locks) == 2
    assert verify_ledger().ok


@pytest.mark.postgres
def test_a_batch_of_existing_lines_is_locked_once_without_giving_anything_back(warehouse):
    variants = VariantFactory.create_batch(3)
    stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 1) for v in variants])

    with CaptureQueriesContext(connection) as captured:
        stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 1) for v in variants])

    statements = [query["sql"] for query in captured]
    assert sum(_is_line_lock(sql) for sql in statements) == 1
    assert not any(sql.startswith("ROLLBACK TO") for sql in statements)
    assert not any('INSERT INTO "inventory_stockline"' in sql for sql in statements)


def test_a_locked_line_has_the_values_and_types_the_orm_reads(variant, warehouse, user):
    receive(variant, warehouse, "4", user=user)
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(variant, 1)], reference="SO-2")
    expected = StockLine.objects.select_related("warehouse").get(
        variant=variant, warehouse=warehouse
    )

    with transaction.atomic():
        line = lock_stock_lines([(variant.pk, warehouse.pk)])[(variant.pk, warehouse.pk)]

    for field in StockLine._meta.concrete_fields:
        value, wanted = getattr(line, field.attname), getattr(expected, field.attname)
        assert (value, type(value)) == (wanted, type(wanted)), field.name
    assert line.last_movement_at.utcoffset() is not None
    assert line.warehouse == expected.warehouse
    assert line.warehouse.allow_negative_stock is False
    assert line._state.adding is False


def test_a_count_writes_its_corrections_in_the_order_of_the_lines(warehouse, user):
    variants = VariantFactory.create_batch(4)
    # Lines created in reverse SKU order: a count sheet (in SKU order) is not in line order.
    for variant in reversed(variants):
        receive(variant, warehouse, 10)
    session = count_session_start(warehouse=warehouse, scope=CountScope.ALL, user=user)
    count_record_many(
        session=session,
        counted=[CountedQuantity(v.pk, d(8 + i)) for i, v in enumerate(variants)],
    )

    count_session_apply(session=session, user=user)

    corrections = Movement.objects.filter(reference=session.reference).order_by("pk")
    assert [m.stock_line_id for m in corrections] == sorted(m.stock_line_id for m in corrections)
    assert [line_of(v, warehouse).on_hand for v in variants] == [d(8), d(9), d(10), d(11)]
    assert (
        list(CountLine.objects.filter(session=session).values_list("moved", flat=True))
        == [d(0)] * 4
    )
    assert verify_ledger().ok


def test_rows_updated_over_several_statements_each_get_their_own_values(warehouse, monkeypatch):
    monkeypatch.setattr(bulk, "PG_UPDATE_BATCH", 2)
    variants = VariantFactory.create_batch(5)
    stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 1) for v in variants])
    session = count_session_start(warehouse=warehouse, scope=CountScope.ALL)
    lines = list(session.lines.order_by("pk"))
    values = [Decimal("1E+1"), None, Decimal("2.5"), Decimal("0.001"), Decimal("123456789.125")]

    bulk.update_rows(
        CountLine,
        ["counted"],
        [(line.pk, value) for line, value in zip(lines, values, strict=True)],
    )

    assert list(session.lines.order_by("pk").values_list("counted", flat=True)) == [
        d(10),
        None,
        d("2.5"),
        d("0.001"),
        d("123456789.125"),
    ]


def test_numbers_travel_as_array_literals_of_their_type():
    assert bulk.number_array([1, None, Decimal("2.500"), Decimal("-1E+3"), 10**15]) == (
        "{1,NULL,2.500,-1E+3,1000000000000000}"
    )


def test_a_large_count_goes_through_copy_and_chunked_updates(warehouse, monkeypatch):
    monkeypatch.setattr(bulk, "COPY_THRESHOLD", 3)
    monkeypatch.setattr(bulk, "PG_UPDATE_BATCH", 2)
    variants = VariantFactory.create_batch(5)
    kg = VariantFactory(by_weight=True)
    stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 3) for v in variants])
    stock_receive(warehouse=warehouse, lines=[StockQuantity(kg, "1.250")])
    session = count_session_start(warehouse=warehouse, scope=CountScope.ALL)
    count_record_many(
        session=session,
        counted=[CountedQuantity(v.pk, d(i)) for i, v in enumerate(variants)]
        + [CountedQuantity(kg.pk, d("0.375"))],
    )

    count_session_apply(session=session)

    assert [line_of(v, warehouse).on_hand for v in variants] == [d(i) for i in range(5)]
    assert line_of(kg, warehouse).on_hand == d("0.375")
    assert Movement.objects.filter(reference=session.reference).count() == 5
    assert verify_ledger().ok


def test_the_hashes_of_one_operation_are_the_ledger_hashes(variant, warehouse, user):
    movements = stock_receive(
        warehouse=warehouse,
        lines=[StockQuantity(variant, 2), StockQuantity(VariantFactory(), 3, Decimal("1.5"))],
        user=user,
        note="Tab\there ünïcödé",
    )
    first = movements[0]
    fields = dict(
        stock_line_id=first.stock_line_id,
        type=first.type,
        reason=first.reason,
        quantity=first.quantity,
        balance_after=first.balance_after,
        unit_cost=first.unit_cost,
        reference=first.reference,
        note=first.note,
        created_by_id=first.created_by_id,
        previous_hash=first.previous_hash,
    )

    by_operation = operation_hasher(created_at=first.created_at, operation=first.operation)

    assert by_operation(**fields) == first.hash
    assert (
        movement_hash(created_at=first.created_at, operation=first.operation, **fields)
        == first.hash
    )


def test_shortfalls_are_reported_in_the_order_of_the_lines_whatever_the_order_given(warehouse):
    first, second = VariantFactory(sku="AAA-1"), VariantFactory(sku="BBB-2")
    receive(first, warehouse, 1)
    receive(second, warehouse, 1)

    with pytest.raises(InsufficientStock) as caught:
        stock_reserve(
            warehouse=warehouse,
            lines=[StockQuantity(second, 2), StockQuantity(first, 3)],
            reference="SO-3",
        )

    assert [(s.sku, s.available, s.requested) for s in caught.value.shortfalls] == [
        ("AAA-1", d(1), d(3)),
        ("BBB-2", d(1), d(2)),
    ]
    assert not HoldChange.objects.filter(kind="reserve").exists()


@pytest.mark.django_db(transaction=True)
def test_locking_outside_a_transaction_is_refused(variant, warehouse):
    with pytest.raises(TransactionManagementError, match=MSG_OUTSIDE_TRANSACTION):
        lock_stock_lines([(variant.pk, warehouse.pk)])


def test_the_negative_stock_rule_follows_the_warehouse_as_stored_not_as_the_caller_read_it(
    variant,
):
    allowing, forbidding = WarehouseFactory(), WarehouseFactory(allow_negative_stock=True)
    Warehouse.objects.filter(pk=allowing.pk).update(allow_negative_stock=True)
    Warehouse.objects.filter(pk=forbidding.pk).update(allow_negative_stock=False)

    stock_adjust(variant=variant, warehouse=allowing, quantity=-2, reason="loss", note="Gone")
    with pytest.raises(InsufficientStock) as caught:
        stock_adjust(variant=variant, warehouse=forbidding, quantity=-2, reason="loss", note="Gone")

    assert line_of(variant, allowing).on_hand == d(-2)
    assert [(s.warehouse, s.requested) for s in caught.value.shortfalls] == [
        (forbidding.code, d(2))
    ]
    # Refused: nothing written, not even the line the adjustment created.
    assert not StockLine.objects.filter(variant=variant, warehouse=forbidding).exists()
