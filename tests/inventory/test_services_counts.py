"""Physical count sessions: snapshot, counted quantities, gaps, and applying once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from catalog.models import Variant
from inventory.ledger import verify_ledger
from inventory.models import (
    CountLine,
    CountScope,
    CountStatus,
    Movement,
    MovementReason,
    MovementType,
)
from inventory.selectors.counts import count_lines_with_gaps, count_summary
from inventory.services import (
    CountedQuantity,
    InsufficientStock,
    InvalidOperation,
    InvalidQuantity,
    StockQuantity,
    count_record,
    count_record_many,
    count_session_apply,
    count_session_cancel,
    count_session_start,
    stock_reserve,
    stock_ship,
)
from inventory.services import counts as count_services
from tests.factories import CategoryFactory, ProductFactory, VariantFactory, WarehouseFactory
from tests.helpers import counted_everywhere, d, line_of, receive

pytestmark = pytest.mark.django_db


def start(warehouse, **kwargs):
    kwargs.setdefault("scope", CountScope.ALL)
    return count_session_start(warehouse=warehouse, **kwargs)


def test_starting_a_count_snapshots_every_line_of_the_warehouse(warehouse, other_warehouse):
    first, second = VariantFactory(), VariantFactory()
    receive(first, warehouse, 10)
    receive(second, warehouse, 4)
    receive(first, other_warehouse, 99)

    session = start(warehouse)

    lines = {line.variant_id: line for line in session.lines.all()}
    assert set(lines) == {first.pk, second.pk}
    assert lines[first.pk].expected == d(10)
    assert lines[second.pk].expected == d(4)
    assert all(line.counted is None for line in lines.values())


def test_a_category_count_snapshots_only_that_category(warehouse):
    shoes = CategoryFactory(name="Shoes")
    boot = VariantFactory(product=ProductFactory(category=shoes))
    mug = VariantFactory()
    receive(boot, warehouse, 3)
    receive(mug, warehouse, 3)

    session = start(warehouse, scope=CountScope.CATEGORY, category=shoes)

    assert list(session.lines.values_list("variant_id", flat=True)) == [boot.pk]


def test_a_sku_list_count_includes_skus_without_stock_there(warehouse, variant):
    never_here = VariantFactory()
    receive(variant, warehouse, 5)

    session = start(warehouse, scope=CountScope.SKUS, variants=[variant, never_here])

    expected = dict(session.lines.values_list("variant_id", "expected"))
    assert expected == {variant.pk: d(5), never_here.pk: d(0)}


def test_a_scope_without_lines_is_refused(warehouse):
    with pytest.raises(InvalidOperation) as caught:
        start(warehouse)
    assert caught.value.code == "nothing_to_count"
    assert caught.value.message == count_services.MSG_NOTHING_TO_COUNT % {
        "warehouse": warehouse.code
    }


def test_scans_add_up_and_a_typed_count_replaces(warehouse, variant):
    receive(variant, warehouse, 10)
    session = start(warehouse)

    count_record(session=session, variant=variant, quantity=1, add=True)
    count_record(session=session, variant=variant, quantity=1, add=True)
    assert session.lines.get().counted == d(2)

    count_record(session=session, variant=variant, quantity=7)
    assert session.lines.get().counted == d(7)


def test_counting_a_sku_not_on_the_sheet_adds_it_with_its_current_stock(warehouse, variant):
    found = VariantFactory()
    receive(variant, warehouse, 10)
    session = start(warehouse)

    line = count_record(session=session, variant=found, quantity=2)

    assert line.added is True
    assert (line.expected, line.counted) == (d(0), d(2))


def test_a_fraction_of_a_piece_is_refused_when_counting(warehouse, variant):
    receive(variant, warehouse, 10)
    session = start(warehouse)

    with pytest.raises(InvalidQuantity) as caught:
        count_record(session=session, variant=variant, quantity="2.5")

    assert caught.value.code == "fraction_not_allowed"
    assert session.lines.get().counted is None


def test_applying_writes_one_physical_count_adjustment_per_line_with_a_gap(warehouse, user):
    short, exact, found = VariantFactory(), VariantFactory(), VariantFactory()
    receive(short, warehouse, 10)
    receive(exact, warehouse, 5)
    receive(found, warehouse, 1)
    session = start(warehouse)
    count_record_many(
        session=session,
        counted=[
            CountedQuantity(short.pk, d(8)),
            CountedQuantity(exact.pk, d(5)),
            CountedQuantity(found.pk, d(3)),
        ],
    )

    count_session_apply(session=session, user=user)

    movements = Movement.objects.filter(reference=session.reference).order_by("quantity")
    assert [(m.stock_line.variant_id, m.quantity) for m in movements] == [
        (short.pk, d(-2)),
        (found.pk, d(2)),
    ]
    assert {m.type for m in movements} == {MovementType.ADJUSTMENT}
    assert {m.reason for m in movements} == {MovementReason.PHYSICAL_COUNT}
    assert line_of(short, warehouse).on_hand == d(8)
    assert line_of(found, warehouse).on_hand == d(3)
    session.refresh_from_db()
    assert session.status == CountStatus.APPLIED
    assert session.applied_by == user
    assert session.operation == movements[0].operation
    assert verify_ledger().ok


def test_a_sale_during_the_count_is_not_mistaken_for_a_loss(warehouse, variant):
    receive(variant, warehouse, 10)
    session = start(warehouse)
    # Two leave while the shelf is being counted (after the snapshot).
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(variant, 2)], reference="SO-1")
    stock_ship(warehouse=warehouse, lines=[StockQuantity(variant, 2)], reference="SO-1")
    count_record(session=session, variant=variant, quantity=9)  # one missing at the snapshot

    line = count_lines_with_gaps(session).get()
    assert (line.gap_value, line.moved_now, line.on_hand_now, line.after) == (
        d(-1),
        d(-2),
        d(8),
        d(7),
    )

    count_session_apply(session=session)

    assert line_of(variant, warehouse).on_hand == d(7)
    assert session.lines.get().moved == d(-2)
    assert Movement.objects.get(reference=session.reference).quantity == d(-1)
    assert verify_ledger().ok


def test_a_session_is_applied_once(warehouse, variant):
    receive(variant, warehouse, 10)
    session = start(warehouse)
    count_record(session=session, variant=variant, quantity=8)
    count_session_apply(session=session)

    with pytest.raises(InvalidOperation) as caught:
        count_session_apply(session=session)

    assert caught.value.code == "count_not_open"
    assert Movement.objects.filter(reference=session.reference).count() == 1
    with pytest.raises(InvalidOperation):
        count_record(session=session, variant=variant, quantity=1)


def test_uncounted_lines_are_left_alone_unless_counted_as_zero(warehouse):
    counted, forgotten = VariantFactory(), VariantFactory()
    receive(counted, warehouse, 4)
    receive(forgotten, warehouse, 6)
    session = start(warehouse)
    count_record(session=session, variant=counted, quantity=4)
    other = start(warehouse)
    count_record(session=other, variant=counted, quantity=4)

    count_session_apply(session=session)
    assert line_of(forgotten, warehouse).on_hand == d(6)

    count_session_apply(session=other, uncounted_as_zero=True)
    assert line_of(forgotten, warehouse).on_hand == d(0)
    assert verify_ledger().ok


def test_applying_with_nothing_counted_is_refused(warehouse, variant):
    receive(variant, warehouse, 4)
    session = start(warehouse)

    with pytest.raises(InvalidOperation) as caught:
        count_session_apply(session=session)

    assert caught.value.code == "nothing_counted"


def test_a_count_below_what_is_reserved_is_refused_where_negative_stock_is_forbidden(
    warehouse, variant
):
    receive(variant, warehouse, 10)
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(variant, 6)], reference="SO-2")
    session = start(warehouse)
    count_record(session=session, variant=variant, quantity=4)
    assert count_summary(session).would_go_negative == 1

    with pytest.raises(InsufficientStock) as caught:
        count_session_apply(session=session)

    assert caught.value.code == "insufficient_stock"
    assert caught.value.shortfalls[0].missing == d(2)
    assert line_of(variant, warehouse).on_hand == d(10)
    session.refresh_from_db()
    assert session.status == CountStatus.OPEN
    assert verify_ledger().ok


def test_a_count_below_what_is_reserved_applies_where_negative_stock_is_allowed(variant):
    warehouse = WarehouseFactory(allow_negative_stock=True)
    receive(variant, warehouse, 10)
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(variant, 6)], reference="SO-3")
    session = start(warehouse)
    count_record(session=session, variant=variant, quantity=4)

    count_session_apply(session=session)

    line = line_of(variant, warehouse)
    assert (line.on_hand, line.available) == (d(4), d(-2))


def test_the_summary_counts_gaps_big_gaps_and_uncounted_lines(warehouse):
    variants = VariantFactory.create_batch(4)
    for variant in variants:
        receive(variant, warehouse, 20)
    session = start(warehouse, big_gap=Decimal(5))
    count_record(session=session, variant=variants[0], quantity=20)
    count_record(session=session, variant=variants[1], quantity=18)
    count_record(session=session, variant=variants[2], quantity=30)

    summary = count_summary(session)

    assert (summary.lines, summary.counted, summary.uncounted) == (4, 3, 1)
    assert (summary.with_gap, summary.big_gaps, summary.would_go_negative) == (2, 1, 0)


def test_a_cancelled_session_cannot_be_applied(warehouse, variant):
    receive(variant, warehouse, 4)
    session = start(warehouse)
    count_session_cancel(session=session)

    with pytest.raises(InvalidOperation) as caught:
        count_session_apply(session=session)
    assert caught.value.code == "count_not_open"


def test_a_thousand_line_count_is_set_based(warehouse, django_assert_max_num_queries):
    # One product, bulk-created: a thousand factory variants would mostly time the factory.
    product = ProductFactory()
    variants = Variant.objects.bulk_create(
        [Variant(product=product, sku=f"BULK-{n:04d}") for n in range(1000)]
    )
    from inventory.services import StockQuantity as Q
    from inventory.services import stock_receive

    stock_receive(warehouse=warehouse, lines=[Q(v, 10) for v in variants])

    with django_assert_max_num_queries(10):
        session = start(warehouse)
    with django_assert_max_num_queries(10):
        count_record_many(
            session=session,
            counted=[CountedQuantity(v.pk, d(9 if i % 2 else 10)) for i, v in enumerate(variants)],
        )
    with django_assert_max_num_queries(25):
        count_session_apply(session=session)

    assert Movement.objects.filter(reference=session.reference).count() == 500
    assert CountLine.objects.filter(session=session, moved=0).count() == 1000
    assert verify_ledger().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_applies_write_the_corrections_once():
    warehouse, variant = WarehouseFactory(), VariantFactory()
    receive(variant, warehouse, 10)
    session = start(warehouse)
    count_record(session=session, variant=variant, quantity=7)
    barrier = threading.Barrier(2)
    outcomes = []

    def apply():
        try:
            barrier.wait(timeout=30)
            count_session_apply(session=session)
            outcomes.append("applied")
        except InvalidOperation as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(outcomes) == ["applied", "count_not_open"]
    assert Movement.objects.filter(reference=session.reference).count() == 1
    assert line_of(variant, warehouse).on_hand == d(7)
    assert verify_ledger().ok


def test_a_sku_never_stocked_here_is_entered_by_its_count(warehouse, variant):
    never_here = VariantFactory()
    receive(variant, warehouse, 5)
    session = start(warehouse, scope=CountScope.SKUS, variants=[variant, never_here])
    count_record(session=session, variant=never_here, quantity=2)

    count_session_apply(session=session)

    line = session.lines.get(variant=never_here)
    assert (line.expected, line.moved) == (d(0), d(0))
    assert session.lines.get(variant=variant).moved == d(0)
    assert line_of(never_here, warehouse).on_hand == d(2)
    assert verify_ledger().ok


def stock_line_rows_read() -> int:
    """Rows of stock lines read so far, this connection's own reads included: its pending
    statistics are flushed when the statement before the read ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) "
            "FROM pg_stat_user_tables WHERE relname = 'inventory_stockline'"
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_applying_a_count_reads_the_stock_lines_a_bounded_number_of_times_on_stale_statistics():
    """Statistics taken before the warehouse existed (a warehouse created, stocked and counted
    within autovacuum's minute) made the planner read every stock line of the warehouse again
    for each count line: quadratic, over 2 minutes for 40,000 lines in CI."""
    counted_everywhere(WarehouseFactory(), lines=20)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    lines = 2_000
    session = counted_everywhere(WarehouseFactory(), lines=lines)
    before = stock_line_rows_read()

    count_session_apply(session=session)

    # Locking, moving and the set-based "moved" read each line a few times; a nested loop
    # over the warehouse's lines read it 2,000 times each (4,000,000 rows).
    assert stock_line_rows_read() - before < 20 * lines
    assert CountLine.objects.filter(session=session, moved=0).count() == lines
    assert verify_ledger().ok
