"""Stock at a past moment: from the ledger, valued, per line and per warehouse; page and CSV."""

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import Variant
from inventory.journal_filters import MSG_UNKNOWN_WAREHOUSE
from inventory.models import Movement, MovementReason, MovementType, StockLine
from inventory.selectors.stock_at_date import (
    StockAtDateRow,
    stock_at_date_page,
    stock_at_date_rows,
    stock_at_date_totals,
)
from inventory.selectors.valuation import money
from inventory.services import (
    InsufficientStock,
    StockQuantity,
    stock_adjust,
    stock_receive,
    stock_transfer,
)
from inventory.services.clock import simulated_time
from inventory.services.costing import weighted_average
from inventory.views.stock_at_date import PAGE_SIZE
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import STOCK_AT_DATE_COLUMNS

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2025-12-31T10:00:00+00:00")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def receive_at(moment, variant, warehouse, quantity, cost=None):
    with simulated_time(moment):
        stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, quantity, cost)])


def adjust_at(moment, variant, warehouse, quantity, reason="loss"):
    with simulated_time(moment):
        stock_adjust(variant=variant, warehouse=warehouse, quantity=quantity, reason=reason)


def rows_at(moment, *warehouses) -> list[StockAtDateRow]:
    return list(stock_at_date_rows(moment=moment, warehouse_ids=[w.pk for w in warehouses]))


def csv_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def accountant(client):
    user = UserFactory(role="Accountant")
    client.force_login(user)
    return user


@pytest.fixture
def year_end(variant, warehouse, other_warehouse):
    """Stock moving around the 2025 year end (T0 + 14 h = 2026-01-01 00:00)."""
    kg = VariantFactory(by_weight=True)
    receive_at(at(0), variant, warehouse, 10, Decimal("2.00"))
    receive_at(at(1), kg, other_warehouse, "2.5", Decimal("8.10"))
    adjust_at(at(2), variant, warehouse, -1, "breakage")
    receive_at(at(3), variant, other_warehouse, 9, Decimal("4.00"))  # (9 x 2 + 9 x 4) / 18 = 3
    receive_at(at(14), variant, warehouse, 100, Decimal("10.00"))  # exactly at midnight
    adjust_at(at(20), kg, other_warehouse, "-0.5")
    return {"kg": kg}


YEAR_END = at(14)


def test_stock_at_a_moment_is_the_balance_of_the_last_movement_before_it(
    year_end, variant, warehouse, other_warehouse
):
    rows = rows_at(YEAR_END, warehouse, other_warehouse)

    assert [(r.warehouse, r.sku, r.on_hand) for r in rows] == sorted(
        [
            (warehouse.code, variant.sku, Decimal("9.000")),  # the midnight reception is not in
            (other_warehouse.code, variant.sku, Decimal("9.000")),
            (other_warehouse.code, year_end["kg"].sku, Decimal("2.500")),
        ]
    )


def test_stock_is_valued_at_the_average_cost_of_that_moment(
    year_end, variant, warehouse, other_warehouse
):
    rows = {(r.warehouse, r.sku): r for r in rows_at(YEAR_END, warehouse, other_warehouse)}

    mine = rows[(warehouse.code, variant.sku)]
    kg = rows[(other_warehouse.code, year_end["kg"].sku)]
    assert mine.unit_cost == Decimal("3.0000")  # not the 10.00 received at that very moment
    assert mine.value == Decimal("27.00")
    assert kg.unit_cost == Decimal("8.1000")
    assert kg.value == Decimal("20.25")


def test_lines_without_movements_before_the_moment_are_left_out(
    year_end, variant, warehouse, other_warehouse
):
    before_anything = rows_at(at(-1), warehouse, other_warehouse)
    after_first = rows_at(at(0.5), warehouse, other_warehouse)

    assert before_anything == []
    assert [(r.sku, r.on_hand, r.unit_cost) for r in after_first] == [
        (variant.sku, Decimal("10.000"), Decimal("2.0000"))
    ]


def test_a_line_created_before_the_moment_without_movements_shows_zero(variant, warehouse):
    StockLine.objects.create(variant=variant, warehouse=warehouse)

    [row] = rows_at(timezone.now() + timedelta(days=1), warehouse)

    assert (row.on_hand, row.unit_cost, row.value) == (Decimal("0.000"), None, None)


def test_two_movements_of_a_line_at_the_same_time_count_in_write_order(variant, warehouse):
    with simulated_time(at(0)):
        stock_receive(
            warehouse=warehouse,
            lines=[StockQuantity(variant, 5), StockQuantity(variant, 7)],
        )
    times = set(Movement.objects.values_list("created_at", flat=True))

    [row] = rows_at(at(1), warehouse)

    assert times == {at(0)}
    assert row.on_hand == Decimal("12.000")


def test_totals_per_warehouse_add_up_the_rows(year_end, variant, warehouse, other_warehouse):
    totals = stock_at_date_totals(moment=YEAR_END, warehouse_ids=[warehouse.pk, other_warehouse.pk])

    assert [(t.code, t.lines, t.on_hand, t.value, t.uncosted) for t in totals] == [
        (warehouse.code, 1, Decimal("9.000"), Decimal("27.00"), 0),
        (other_warehouse.code, 2, Decimal("11.500"), Decimal("47.25"), 0),
    ]


def test_some_warehouses_or_every_one_read_the_same_lines(
    year_end, variant, warehouse, other_warehouse
):
    """Over every warehouse the lines are read without a condition on their warehouse."""

    def totals(ids):
        found = stock_at_date_totals(moment=YEAR_END, warehouse_ids=ids)
        return [(t.code, t.lines, t.on_hand, t.value) for t in found]

    def rows(ids):
        found = stock_at_date_rows(moment=YEAR_END, warehouse_ids=ids)
        return sorted((row.warehouse, row.sku, row.on_hand) for row in found)

    for read in (totals, rows):
        one, other = read([warehouse.pk]), read([other_warehouse.pk])
        assert one and other
        assert read([warehouse.pk, other_warehouse.pk]) == sorted(one + other)


def scans_of(plan: dict) -> dict[str, int]:
    """How many times each table is read in an EXPLAIN ANALYZE plan, its loops added up."""
    loops: dict[str, int] = defaultdict(int)
    if "Relation Name" in plan:
        loops[plan["Relation Name"]] += plan["Actual Loops"]
    for child in plan.get("Plans", []):
        for table, count in scans_of(child).items():
            loops[table] += count
    return loops


@pytest.mark.postgres
def test_a_whole_report_reads_each_line_and_each_variant_cost_once_whatever_the_plan(
    warehouse, other_warehouse
):
    """Tables filled since autovacuum last saw them empty look empty to the planner, which may
    then nest the joins so that the lines or the costs are computed again for each line or
    variant: a test's few hundred rows once took over 300 s in CI, and on a test database that
    autovacuum had seen empty, this data had its costs read once per line. Computed once
    (MATERIALIZED), the report reads what it needs once, whatever the join order."""
    variants = VariantFactory.create_batch(60)
    for hours, variant in enumerate(variants):
        receive_at(at(hours), variant, warehouse, 5, Decimal("2.00"))
        receive_at(at(hours), variant, other_warehouse, 3, Decimal("4.00"))
    ids = [warehouse.pk, other_warehouse.pk]
    with CaptureQueriesContext(connection) as captured:
        list(stock_at_date_rows(moment=at(10), warehouse_ids=ids))
        stock_at_date_totals(moment=at(10), warehouse_ids=ids)
    reports = [q["sql"] for q in captured.captured_queries if "WITH lines AS" in q["sql"]]
    lines, variant_count = StockLine.objects.count(), Variant.objects.count()

    with connection.cursor() as cursor:
        scans = []
        for sql in reports:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            scans.append(scans_of(cursor.fetchone()[0][0]["Plan"]))

    assert len(scans) == 2
    for scan in scans:
        # One probe per line, and one more where its last two movements share a time.
        assert 0 < scan["inventory_movement"] <= 2 * lines
        assert 0 < scan["catalog_averagecost"] <= variant_count


def test_uncosted_lines_count_in_quantities_not_in_values(variant, warehouse):
    receive_at(at(0), variant, warehouse, 4)

    [total] = stock_at_date_totals(moment=at(1), warehouse_ids=[warehouse.pk])

    assert (total.on_hand, total.value, total.uncosted) == (Decimal("4.000"), Decimal("0"), 1)


def test_stock_at_date_csv_lists_lines_then_totals_that_match_the_ledger(
    client, accountant, year_end, variant, warehouse, other_warehouse
):
    response = client.get("/inventory/at/export.csv?at=2026-01-01T00:00:00%2B00:00")

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="stock-at-2026-01-01T000000.csv"'
    )
    rows = csv_of(response)
    assert rows[0] == STOCK_AT_DATE_COLUMNS
    lines = [row for row in rows[1:] if row[2]]
    totals = [row for row in rows[1:] if not row[2]]
    assert rows[1 : 1 + len(lines)] == lines  # every line before the first total
    assert lines[0] == [
        variant.product.name,
        "Black / M",
        variant.sku,
        warehouse.code,
        "9.000",
        "3.0000",
        "27.00",
    ]
    assert totals == [
        ["Total", "", "", warehouse.code, "9.000", "", "27.00"],
        ["Total", "", "", other_warehouse.code, "11.500", "", "47.25"],
        ["Total", "All warehouses", "", "", "20.500", "", "74.25"],
    ]
    # The totals match the ledger: the movements before the moment, summed per warehouse.
    for code, on_hand in [(warehouse.code, "9.000"), (other_warehouse.code, "11.500")]:
        ledger = sum(
            Movement.objects.filter(
                stock_line__warehouse__code=code, created_at__lt=YEAR_END
            ).values_list("quantity", flat=True)
        )
        assert ledger == Decimal(on_hand)
        in_lines = sum(Decimal(row[4]) for row in lines if row[3] == code)
        value_in_lines = sum(Decimal(row[6]) for row in lines if row[3] == code)
        total = next(row for row in totals if row[3] == code)
        assert (in_lines, value_in_lines) == (Decimal(total[4]), Decimal(total[6]))


def test_stock_at_date_csv_for_one_warehouse(
    client, accountant, year_end, other_warehouse, variant
):
    rows = csv_of(
        client.get(f"/inventory/at/export.csv?at=2026-01-01T00:00&warehouse={other_warehouse.code}")
    )

    assert {row[3] for row in rows[1:-1]} == {other_warehouse.code}
    assert rows[-1] == ["Total", "All warehouses", "", "", "11.500", "", "47.25"]


def test_stock_at_date_spreadsheet_variant(client, accountant, year_end):
    response = client.get("/inventory/at/export.csv?at=2026-01-01T00:00&format=spreadsheet")
    body = b"".join(response.streaming_content)

    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == STOCK_AT_DATE_COLUMNS
    assert rows[1][4:] == ["9,000", "3,0000", "27,00"]
    assert rows[-1] == ["Total", "All warehouses", "", "", "20,500", "", "74,25"]


def test_stock_at_date_page_shows_totals_and_lines(
    client, accountant, year_end, warehouse, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        response = client.get("/inventory/at/?at=2026-01-01T00:00")

    assert response.status_code == 200
    assert response.context["grand_total"].value == Decimal("74.25")
    assert len(response.context["rows"]) == 3
    assert response.context["next_after"] is None
    assert "at/export.csv?at=2026-01-01T00%3A00" in response.content.decode()


def test_stock_at_date_page_pages_lines_by_keyset(client, accountant, warehouse):
    variants = VariantFactory.create_batch(PAGE_SIZE + 3)
    with simulated_time(at(0)):
        stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 1) for v in variants])

    first = client.get("/inventory/at/?at=2026-01-01T00:00")
    after = first.context["next_after"]
    second = client.get(f"/inventory/at/?at=2026-01-01T00:00&after={after}")

    skus = [r.sku for r in first.context["rows"]] + [r.sku for r in second.context["rows"]]
    assert skus == sorted(v.sku for v in variants)
    assert second.context["next_after"] is None
    assert first.context["grand_total"].lines == PAGE_SIZE + 3
    assert second.context["totals"] is None  # computed once, on the first page
    assert "are on the <a" in second.content.decode()


def test_stock_at_date_without_a_moment_shows_now(client, accountant, year_end, warehouse):
    response = client.get("/inventory/at/")

    assert response.status_code == 200
    assert response.context["grand_total"].on_hand == Decimal("120.000")


def test_a_bad_moment_is_a_field_error_and_a_bad_request_for_the_csv(client, accountant):
    page = client.get("/inventory/at/?at=31/12/2025")
    export = client.get("/inventory/at/export.csv?at=yesterday")

    assert page.status_code == 200
    assert page.context["form"].errors["at"] == ["Enter a valid date/time."]
    assert "moment" not in page.context
    assert export.status_code == 400
    assert export.content.decode() == "Date and time: Enter a valid date/time.\n"


def test_stock_at_date_respects_warehouse_scope(client, year_end, warehouse, other_warehouse):
    staff = UserFactory(role="Warehouse staff")
    staff.assigned_warehouses.add(warehouse)
    staff.user_permissions.add(Permission.objects.get(codename="export_stock"))
    client.force_login(staff)

    rows = csv_of(client.get("/inventory/at/export.csv?at=2026-01-01T00:00"))
    hidden = client.get(f"/inventory/at/?warehouse={other_warehouse.code}")

    assert {row[3] for row in rows[1:] if row[2]} == {warehouse.code}
    assert hidden.context["form"].errors["warehouse"] == [MSG_UNKNOWN_WAREHOUSE]


def test_stock_at_date_permissions(client, year_end):
    assert client.get("/inventory/at/").status_code == 302
    client.force_login(UserFactory())
    assert client.get("/inventory/at/").status_code == 403
    client.force_login(UserFactory(role="Warehouse staff"))
    assert client.get("/inventory/at/").status_code == 200
    assert client.get("/inventory/at/export.csv").status_code == 403


# --- The property: stock at any moment equals a replay of the ledger --------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["receive", "receive_costed", "adjust", "transfer", "same_time"]),
        st.integers(min_value=0, max_value=2),  # variant
        st.integers(min_value=0, max_value=1),  # warehouse
        st.integers(min_value=1, max_value=30),  # quantity
        st.integers(min_value=0, max_value=5000),  # cost in cents
        st.integers(min_value=0, max_value=3),  # hours to the next operation (0: same time)
    ),
    min_size=1,
    max_size=25,
)


def pages_of(moment, warehouse_ids, size) -> list[StockAtDateRow]:
    """Every line, read page by page."""
    rows, after = [], None
    while page := stock_at_date_page(
        moment=moment, warehouse_ids=warehouse_ids, after=after, size=size
    ):
        rows += page
        after = (page[-1].warehouse, page[-1].sku)
    return rows


def replay(movements: list[Movement], moment: datetime):
    """On hand per line and average cost per variant at ``moment``, recomputed from the ledger
    alone, in write order."""
    on_hand: dict[tuple[int, int], Decimal] = {}
    variant_stock: dict[int, Decimal] = defaultdict(Decimal)
    average: dict[int, Decimal | None] = defaultdict(lambda: None)
    for movement in movements:
        if movement.created_at >= moment:
            continue
        line = movement.stock_line
        key = (line.variant_id, line.warehouse_id)
        is_reception = movement.reason in (
            MovementReason.SUPPLIER_RECEPTION,
            MovementReason.RETURN_RESTOCKED,
        )
        if movement.type == MovementType.ENTRY and is_reception and movement.unit_cost is not None:
            average[line.variant_id] = weighted_average(
                on_hand=variant_stock[line.variant_id],
                average=average[line.variant_id],
                quantity=movement.quantity,
                unit_cost=movement.unit_cost,
            )
        on_hand[key] = on_hand.get(key, Decimal(0)) + movement.quantity
        variant_stock[line.variant_id] += movement.quantity
    return on_hand, average


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=operations, probes=st.lists(st.integers(min_value=0, max_value=80), max_size=6))
def test_stock_at_any_moment_equals_a_replay_of_the_ledger(db, steps, probes):
    # The ``db`` fixture is one transaction for all the examples: each one's rows are undone,
    # so that every example starts from an empty database rather than from all the earlier
    # ones' rows (40 examples of them once made a report run for over 300 s in CI).
    with transaction.atomic():
        variants = VariantFactory.create_batch(3)
        warehouses = WarehouseFactory.create_batch(2)
        WarehouseFactory()  # not read: the reports then choose their lines by warehouse
        moment = at(0)
        for kind, v, w, quantity, cents, gap in steps:
            variant, warehouse = variants[v], warehouses[w]
            with simulated_time(moment):
                try:
                    if kind in ("receive", "receive_costed"):
                        cost = Decimal(cents) / 100 if kind == "receive_costed" else None
                        stock_receive(
                            warehouse=warehouse, lines=[StockQuantity(variant, quantity, cost)]
                        )
                    elif kind == "adjust":
                        stock_adjust(
                            variant=variant, warehouse=warehouse, quantity=-quantity, reason="loss"
                        )
                    elif kind == "transfer":
                        stock_transfer(
                            source=warehouse,
                            destination=warehouses[1 - w],
                            lines=[StockQuantity(variant, quantity)],
                        )
                    else:  # two movements of one line in one operation, at one time
                        stock_receive(
                            warehouse=warehouse,
                            lines=[
                                StockQuantity(variant, quantity, Decimal(cents) / 100),
                                StockQuantity(variant, 1, Decimal(cents + 100) / 100),
                            ],
                        )
                except InsufficientStock:
                    pass
            moment += timedelta(hours=gap)
        movements = list(
            Movement.objects.filter(stock_line__warehouse__in=warehouses)
            .select_related("stock_line")
            .order_by("created_at", "id")
        )
        times = sorted({m.created_at for m in movements})
        moments = times + [at(hours) for hours in probes] + [moment + timedelta(hours=1)]

        for probe in moments:
            on_hand, average = replay(movements, probe)
            ids = [w.pk for w in warehouses]
            rows = list(stock_at_date_rows(moment=probe, warehouse_ids=ids))
            assert pages_of(probe, ids, size=2) == rows
            found = {(r.sku, r.warehouse): (r.on_hand, r.unit_cost, r.value) for r in rows}
            skus = {v.pk: v.sku for v in variants}
            codes = {w.pk: w.code for w in warehouses}
            expected = {
                (skus[v], codes[w]): (
                    quantity,
                    average[v],
                    None if average[v] is None else money(quantity * average[v]),
                )
                for (v, w), quantity in on_hand.items()
            }
            assert found == expected, probe
        transaction.set_rollback(True)
