"""The movement journal: page, keyset pages, filters, scope, permissions and the CSV."""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from core.csv_export import ROWS_PER_CHUNK
from inventory.journal_filters import MSG_PERIOD_REVERSED, MSG_UNKNOWN_WAREHOUSE
from inventory.models import Movement
from inventory.selectors.journal import Cursor, journal_page
from inventory.services import StockQuantity, stock_adjust, stock_receive, stock_transfer
from inventory.services.clock import simulated_time
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import JOURNAL_COLUMNS

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2025-06-02T08:00:00+00:00")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def csv_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def accountant(client):
    user = UserFactory(role="Accountant")
    client.force_login(user)
    return user


@pytest.fixture
def history(variant, warehouse, other_warehouse):
    """Four movements over three days, in two warehouses, two of them by a named user."""
    user = UserFactory(username="marie")
    with simulated_time(at(0)):
        stock_receive(
            warehouse=warehouse,
            lines=[StockQuantity(variant, 10, Decimal("2.00"))],
            user=user,
            reference="DN-001",
        )
    with simulated_time(at(24)):
        stock_adjust(
            variant=variant,
            warehouse=warehouse,
            quantity=-2,
            reason="breakage",
            note="Dropped",
            user=user,
        )
    with simulated_time(at(48)):
        stock_transfer(
            source=warehouse,
            destination=other_warehouse,
            lines=[StockQuantity(variant, 3)],
            reference="TR-9",
        )
    return Movement.objects.order_by("created_at", "id")


def test_journal_page_lists_movements_newest_first(client, accountant, history):
    response = client.get("/movements/")

    assert response.status_code == 200
    movements = response.context["page"].movements
    assert [m.pk for m in movements] == [m.pk for m in reversed(list(history))]
    assert b"Supplier reception" in response.content
    assert b"marie" in response.content


def test_journal_page_costs_a_constant_number_of_queries(
    client, accountant, history, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        client.get("/movements/")
    variant = VariantFactory()
    warehouse = WarehouseFactory()
    for hour in range(30):
        with simulated_time(at(100 + hour)):
            stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 1)])
    with django_assert_max_num_queries(8):
        client.get("/movements/")


def test_keyset_pages_walk_every_movement_once_in_both_directions(variant, warehouse):
    # 23 receptions of two lines each: 46 movements, every pair sharing one time.
    other = VariantFactory()
    for hour in range(23):
        with simulated_time(at(hour)):
            stock_receive(
                warehouse=warehouse, lines=[StockQuantity(variant, 1), StockQuantity(other, 1)]
            )
    everything = list(Movement.objects.order_by("-created_at", "-id"))

    seen, page = [], journal_page(Movement.objects.all(), size=5)
    pages = [page]
    while True:
        seen += page.movements
        if page.older is None:
            break
        page = journal_page(Movement.objects.all(), after=page.older, size=5)
        pages.append(page)
    assert seen == everything
    assert pages[0].newer is None

    back, page = [], pages[-1]
    while page.newer is not None:
        page = journal_page(Movement.objects.all(), before=page.newer, size=5)
        back = page.movements + back
    assert back + pages[-1].movements == everything


@pytest.mark.parametrize(("direction", "sign"), [("after", "<"), ("before", ">")])
def test_a_page_starts_at_its_cursor_by_one_row_comparison(history, direction, sign):
    # (created_at, id) < (t, id0) seeks in the (created_at, id) index: a count writes all its
    # movements at one moment, and a page among 100,000 of them sorted them all (380 ms).
    cursor = Cursor.of(Movement.objects.order_by("created_at", "id")[1])

    with CaptureQueriesContext(connection) as queries:
        journal_page(Movement.objects.all(), **{direction: cursor}, size=5)

    (sql,) = [query["sql"] for query in queries]
    assert f'("inventory_movement"."created_at", "inventory_movement"."id") {sign} (' in sql


def test_a_malformed_cursor_shows_the_first_page(client, accountant, history):
    response = client.get("/movements/?after=not-a-cursor&before=99999999999999999999999-1")

    assert response.status_code == 200
    assert len(response.context["page"].movements) == 4
    assert Cursor.parse("12-x") is None
    assert Cursor.parse("") is None


@pytest.mark.parametrize("cursor", ["1-99999999999999999999999", "1-9223372036854775808"])
def test_a_cursor_with_an_id_beyond_64_bits_shows_the_first_page(
    client, accountant, history, cursor
):
    # SQLite cannot even bind such a number: it was a 500 there.
    response = client.get(f"/movements/?after={cursor}")

    assert response.status_code == 200
    assert len(response.context["page"].movements) == 4
    assert Cursor.parse(cursor) is None


def test_cursor_round_trips_through_its_text(history):
    movement = history.first()
    cursor = Cursor.of(movement)

    assert Cursor.parse(str(cursor)) == cursor


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=2025-06-03", 3),
        ("to=2025-06-03", 2),
        ("from=2025-06-03&to=2025-06-03", 1),
        ("type=entry", 2),
        ("type=exit", 1),
        ("reason=breakage", 1),
        ("reason=transfer_in", 1),
        ("user=MARIE", 2),
        ("reference=dn-0", 1),
        ("reference=TR-9", 2),
    ],
)
def test_journal_filters(client, accountant, history, query, expected):
    response = client.get(f"/movements/?{query}")

    assert response.status_code == 200
    assert len(response.context["page"].movements) == expected


def test_journal_filters_by_warehouse_code_and_sku_case_insensitively(
    client, accountant, history, variant, other_warehouse
):
    VariantFactory(sku="OTHER-1")

    by_warehouse = client.get(f"/movements/?warehouse={other_warehouse.code}")
    by_sku = client.get(f"/movements/?sku={variant.sku.lower()}")
    by_other_sku = client.get("/movements/?sku=other-1")

    assert len(by_warehouse.context["page"].movements) == 1
    assert len(by_sku.context["page"].movements) == 4
    assert by_other_sku.context["page"].movements == []


def test_bad_filters_are_reported_next_to_their_fields_and_show_nothing(
    client, accountant, history
):
    response = client.get("/movements/?from=2025-06-04&to=2025-06-01&type=teleport")

    assert response.status_code == 200
    assert response.context["page"] is None
    errors = response.context["filter"].form.errors
    assert errors["to"] == [MSG_PERIOD_REVERSED]
    assert "type" in errors
    assert MSG_PERIOD_REVERSED in response.content.decode()
    assert "/movements/export.csv" not in response.content.decode()  # no link to a 400


def test_journal_export_refuses_bad_filters_with_a_message(client, accountant, history):
    response = client.get("/movements/export.csv?from=2025-02-30&warehouse=NOPE")

    assert response.status_code == 400
    text = response.content.decode()
    assert text.startswith("From: Enter a valid date.")
    assert f"Warehouse: {MSG_UNKNOWN_WAREHOUSE}" in text


def test_journal_csv_has_the_contract_columns_in_time_order(client, accountant, history):
    response = client.get("/movements/export.csv")

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_of(response)
    assert rows[0] == JOURNAL_COLUMNS
    first, breakage, transfer_out, transfer_in = rows[1], rows[2], rows[3], rows[4]
    movement = history.first()
    assert first == [
        "2025-06-02T08:00:00+00:00",
        movement.stock_line.variant.sku,
        movement.stock_line.variant.product.name,
        "Black / M",
        movement.stock_line.warehouse.code,
        "Entry",
        "Supplier reception",
        "10.000",
        "10.000",
        "DN-001",
        "",
        "marie",
    ]
    assert breakage[5:9] == ["Adjustment", "Breakage", "-2.000", "8.000"]
    assert breakage[10:] == ["Dropped", "marie"]
    assert transfer_out[5:9] == ["Exit", "Transfer out", "-3.000", "5.000"]
    assert transfer_in[5:9] == ["Entry", "Transfer in", "3.000", "3.000"]
    assert transfer_in[11] == ""  # no user
    assert len(rows) == 1 + history.count()


def test_journal_csv_keeps_the_filters(client, accountant, history):
    rows = csv_of(client.get("/movements/export.csv?reason=breakage"))

    assert len(rows) == 2
    assert rows[1][6] == "Breakage"


def test_journal_spreadsheet_variant_has_bom_semicolons_and_decimal_commas(
    client, accountant, history
):
    response = client.get("/movements/export.csv?format=spreadsheet&reason=breakage")
    body = b"".join(response.streaming_content)

    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == JOURNAL_COLUMNS
    assert rows[1][7:9] == ["-2,000", "8,000"]


def test_journal_csv_streams_in_chunks(client, accountant, variant, warehouse):
    with simulated_time(at(0)):
        stock_receive(
            warehouse=warehouse,
            lines=[StockQuantity(variant, 1) for _ in range(ROWS_PER_CHUNK + 10)],
        )

    response = client.get("/movements/export.csv")
    chunks = list(response.streaming_content)

    assert len(chunks) >= 3  # header, a full chunk, the rest
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == ROWS_PER_CHUNK + 11


def test_staff_limited_to_a_warehouse_sees_only_its_movements(
    client, history, warehouse, other_warehouse
):
    staff = UserFactory(role="Warehouse staff")
    staff.assigned_warehouses.add(other_warehouse)
    staff.user_permissions.add(Permission.objects.get(codename="export_stock"))
    client.force_login(staff)

    page = client.get("/movements/")
    rows = csv_of(client.get("/movements/export.csv"))
    hidden = client.get(f"/movements/?warehouse={warehouse.code}")

    assert {m.stock_line.warehouse for m in page.context["page"].movements} == {other_warehouse}
    assert [row[4] for row in rows[1:]] == [other_warehouse.code]
    assert hidden.context["filter"].form.errors["warehouse"] == [MSG_UNKNOWN_WAREHOUSE]


def test_journal_needs_login_and_the_view_permission(client, history):
    assert client.get("/movements/").status_code == 302
    client.force_login(UserFactory())
    assert client.get("/movements/").status_code == 403


def test_journal_csv_needs_the_export_permission(client, history):
    client.force_login(UserFactory(role="Warehouse staff"))

    assert client.get("/movements/").status_code == 200
    assert client.get("/movements/export.csv").status_code == 403


def test_export_links_show_only_with_the_export_permission(client, history):
    client.force_login(UserFactory(role="Warehouse staff"))
    without = client.get("/movements/").content.decode()
    client.force_login(UserFactory(role="Accountant"))
    with_permission = client.get("/movements/?reason=breakage").content.decode()

    assert "/movements/export.csv" not in without
    assert "/movements/export.csv?reason=breakage" in with_permission
    assert "format=spreadsheet" in with_permission


def test_nav_links_to_the_accounting_pages_for_who_may_see_them(client, history):
    client.force_login(UserFactory(role="Accountant"))
    nav = client.get("/movements/").content.decode()
    stranger = UserFactory()
    stranger.user_permissions.add(Permission.objects.get(codename="view_stockline"))
    client.force_login(stranger)
    bare = client.get("/inventory/").content.decode()

    assert 'href="/movements/" aria-current="page">Movements</a>' in nav
    assert 'href="/inventory/at/"' in nav
    assert 'href="/movements/"' not in bare
    assert 'href="/inventory/at/"' not in bare
