"""The ledger cannot lie: append-only in the database, tamper-evident, and verified."""

import re
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F

from catalog.models import Variant, sku_validator
from inventory.ledger import verify_ledger
from inventory.models import HoldChange, Movement, StockLine
from inventory.services import (
    StockQuantity,
    stock_adjust,
    stock_apply_counts,
    stock_lock,
    stock_release,
    stock_reserve,
    stock_restock_return,
    stock_ship,
    stock_transfer,
    stock_unlock,
)
from tests.factories import ProductFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = pytest.mark.django_db

LEDGER_TABLES = ("inventory_movement", "inventory_holdchange")


@contextmanager
def ledger_triggers_disabled(table="inventory_movement"):
    """Let the test tamper with the ledger the way someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses to run while deferred foreign-key checks are pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            try:
                yield cursor
            finally:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [table],
            )
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f"DROP TRIGGER {name}")
            try:
                yield cursor
            finally:
                for _, sql in triggers:
                    cursor.execute(sql)


def run_verify_ledger() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("verify_ledger", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


@pytest.fixture
def history(variant, warehouse, other_warehouse):
    """A little of everything the services write, on two variants and two warehouses."""
    rice = VariantFactory(by_weight=True)
    receive(variant, warehouse, 20)
    receive(rice, warehouse, "12.5")
    stock_adjust(variant=variant, warehouse=warehouse, quantity=-2, reason="breakage")
    stock_transfer(
        source=warehouse,
        destination=other_warehouse,
        lines=[StockQuantity(variant, 5), StockQuantity(rice, "2.75")],
    )
    stock_lock(variant=variant, warehouse=warehouse, quantity=3, reason="damaged")
    stock_unlock(variant=variant, warehouse=warehouse, quantity=1, reason="damaged")
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(variant, 4)], reference="SO-1")
    stock_release(warehouse=warehouse, lines=[StockQuantity(variant, 1)], reference="SO-1")
    stock_ship(warehouse=warehouse, lines=[StockQuantity(variant, 2)], reference="SO-1")
    stock_restock_return(warehouse=warehouse, lines=[StockQuantity(variant, 1)], reference="SO-1")
    stock_apply_counts(warehouse=other_warehouse, counted={variant: 4, rice: "2.75"})
    return {"variant": variant, "rice": rice}


# --- verification -----------------------------------------------------------------------------


def test_verify_ledger_is_ok_after_a_mix_of_operations(history):
    report = verify_ledger()

    assert report.problems == []
    assert report.ok
    assert report.lines == StockLine.objects.count() == 4
    assert report.movements == Movement.objects.count()


def test_verify_ledger_command_prints_ok_with_the_counts(history):
    output, error = run_verify_ledger()

    assert error is None
    lines, movements = StockLine.objects.count(), Movement.objects.count()
    assert output.strip() == f"ledger OK: {lines} lines, {movements} movements"


def test_verify_ledger_is_ok_on_an_empty_ledger():
    output, error = run_verify_ledger()

    assert error is None
    assert output.strip() == "ledger OK: 0 lines, 0 movements"


def test_verify_ledger_reports_a_movement_whose_quantity_was_altered(history, variant, warehouse):
    target = Movement.objects.filter(stock_line__variant=variant).order_by("pk")[1]
    with ledger_triggers_disabled() as cursor:
        cursor.execute(
            "UPDATE inventory_movement SET quantity = quantity - 1, "
            "balance_after = balance_after - 1 WHERE id = %s",
            [target.pk],
        )

    report = verify_ledger()

    assert not report.ok
    label = f"{variant.sku} @ {warehouse.code}"
    assert f"{label}: movement {target.pk} was altered after it was written" in report.problems
    assert all(problem.startswith(label) for problem in report.problems)


def test_verify_ledger_command_exits_1_listing_a_line_whose_note_was_altered(
    history, variant, warehouse
):
    target = Movement.objects.filter(stock_line__variant=variant).order_by("pk").first()
    with ledger_triggers_disabled() as cursor:
        cursor.execute(
            "UPDATE inventory_movement SET note = 'nothing to see' WHERE id = %s", [target.pk]
        )

    output, error = run_verify_ledger()

    assert error is not None
    assert error.returncode == 1
    assert str(error).startswith("ledger NOT OK: 1 problem(s)")
    assert output.splitlines() == [
        f"{variant.sku} @ {warehouse.code}: movement {target.pk} was altered after it was written"
    ]


def test_verify_ledger_reports_a_deleted_last_movement(history, variant, other_warehouse):
    last = Movement.objects.filter(
        stock_line__variant=variant, stock_line__warehouse=other_warehouse
    ).latest("pk")
    with ledger_triggers_disabled() as cursor:
        cursor.execute("DELETE FROM inventory_movement WHERE id = %s", [last.pk])

    output, error = run_verify_ledger()

    label = f"{variant.sku} @ {other_warehouse.code}"
    assert error is not None and error.returncode == 1
    assert f"{label}: the latest movement is missing or was replaced" in output.splitlines()
    assert re.search(rf"^{re.escape(label)}: on hand \S+ but its movements sum to", output, re.M)


def test_verify_ledger_reports_a_movement_deleted_in_the_middle(history, variant, warehouse):
    _first, second, third = Movement.objects.filter(
        stock_line__variant=variant, stock_line__warehouse=warehouse
    ).order_by("pk")[:3]
    with ledger_triggers_disabled() as cursor:
        cursor.execute("DELETE FROM inventory_movement WHERE id = %s", [second.pk])

    report = verify_ledger()

    assert (
        f"{variant.sku} @ {warehouse.code}: movement {third.pk} does not follow the one before it"
        in report.problems
    )


def test_verify_ledger_reports_on_hand_changed_behind_the_ledgers_back(history, variant, warehouse):
    StockLine.objects.filter(variant=variant, warehouse=warehouse).update(on_hand=F("on_hand") + 1)
    line = line_of(variant, warehouse)

    output, error = run_verify_ledger()

    assert error is not None and error.returncode == 1
    assert output.splitlines() == [
        f"{variant.sku} @ {warehouse.code}: on hand {line.on_hand} "
        f"but its movements sum to {line.on_hand - 1}"
    ]


def test_verify_ledger_reports_reserved_and_locked_changed_behind_its_back(
    history, variant, warehouse
):
    StockLine.objects.filter(variant=variant, warehouse=warehouse).update(
        reserved=F("reserved") + 1, locked=0
    )

    problems = verify_ledger().problems

    label = f"{variant.sku} @ {warehouse.code}"
    assert any(p.startswith(f"{label}: reserved ") for p in problems)
    assert any(p.startswith(f"{label}: locked ") for p in problems)


def test_verify_ledger_reports_negative_available_where_it_is_not_allowed(variant):
    backorders = WarehouseFactory(allow_negative_stock=True)
    stock_adjust(variant=variant, warehouse=backorders, quantity=-2, reason="loss")
    assert verify_ledger().ok

    backorders.allow_negative_stock = False
    backorders.save()

    assert verify_ledger().problems == [
        f"{variant.sku} @ {backorders.code}: available -2.000 is below zero "
        "in a warehouse that does not allow negative stock"
    ]


def test_verify_ledger_sums_fractional_holds_exactly(kg_variant, warehouse):
    """2 reserved then 1.999 released leaves 0.001 reserved: no float rounding on any database."""
    receive(kg_variant, warehouse, 5)
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(kg_variant, 2)], reference="SO-1")
    stock_release(warehouse=warehouse, lines=[StockQuantity(kg_variant, "1.999")], reference="SO-1")
    stock_lock(variant=kg_variant, warehouse=warehouse, quantity="2.1", reason="damaged")
    stock_unlock(variant=kg_variant, warehouse=warehouse, quantity="2.099", reason="damaged")

    report = verify_ledger()

    assert report.problems == []


# --- append-only ------------------------------------------------------------------------------


@pytest.mark.parametrize("table", LEDGER_TABLES)
@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET note = 'edited' WHERE id = %s", "DELETE FROM {table} WHERE id = %s"],
    ids=["update", "delete"],
)
def test_raw_sql_cannot_change_the_ledger(history, table, statement):
    model = Movement if table == "inventory_movement" else HoldChange
    row = model.objects.order_by("pk").first()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(table=table), [row.pk])

    assert model.objects.get(pk=row.pk).note == row.note
    assert verify_ledger().ok


@pytest.mark.postgres
def test_postgres_refuses_ledger_changes_with_a_restrict_violation(history):
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        Movement.objects.update(note="edited")

    assert caught.value.__cause__.sqlstate == "23001"  # restrict_violation
    assert "append-only" in str(caught.value)


def test_the_orm_cannot_delete_a_movement(history):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Movement.objects.order_by("pk").first().delete()


# --- constraints ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["reserved", "locked"])
def test_the_database_refuses_a_negative_hold(variant, warehouse, field):
    receive(variant, warehouse, 5)

    with pytest.raises(IntegrityError), transaction.atomic():
        StockLine.objects.filter(variant=variant).update(**{field: -1})

    assert getattr(line_of(variant, warehouse), field) == 0


def test_the_database_refuses_two_lines_for_one_variant_in_one_warehouse(variant, warehouse):
    receive(variant, warehouse, 5)

    with pytest.raises(IntegrityError), transaction.atomic():
        StockLine.objects.create(variant=variant, warehouse=warehouse)

    assert StockLine.objects.count() == 1


def test_the_same_variant_may_have_a_line_in_each_warehouse(variant, warehouse, other_warehouse):
    receive(variant, warehouse, 1)
    receive(variant, other_warehouse, 1)

    assert StockLine.objects.filter(variant=variant).count() == 2


def test_the_database_refuses_a_zero_movement(variant, warehouse):
    line = receive(variant, warehouse, 5)
    first = Movement.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.create(
            stock_line=line,
            created_at=first.created_at,
            type=first.type,
            reason=first.reason,
            quantity=0,
            balance_after=line.on_hand,
            hash="0" * 64,
        )


def test_sku_uniqueness_ignores_case(db):
    VariantFactory(sku="abc-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        VariantFactory(sku="ABC-1")


def test_sku_uniqueness_is_reported_by_model_validation(db):
    VariantFactory(sku="abc-1")
    twin = Variant(product=ProductFactory(), sku="Abc-1")

    with pytest.raises(ValidationError, match="A variant with this SKU already exists"):
        twin.full_clean()


@pytest.mark.parametrize("sku", ["A", "TSHIRT-BLK_M.2", "x" * 64])
def test_sku_validator_accepts_letters_digits_hyphens_underscores_and_dots(sku):
    sku_validator(sku)


@pytest.mark.parametrize("sku", ["", "with space", "a/b", "x" * 65, "semi;colon", "é", "ABC-1\n"])
def test_sku_validator_refuses_other_characters_and_long_skus(sku):
    with pytest.raises(ValidationError) as caught:
        sku_validator(sku)

    assert caught.value.code == "invalid_sku"


def test_total_on_hand_equals_the_sum_of_movements(history):
    for line in StockLine.objects.all():
        movements = list(line.movements.order_by("pk"))
        assert line.on_hand == sum((m.quantity for m in movements), d(0))
        assert line.on_hand == movements[-1].balance_after
