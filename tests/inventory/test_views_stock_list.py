"""The inventory list page: what a merchant sees, links, counts, errors, scope, query count."""

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from inventory.filters import MSG_UNKNOWN_STATUS, MSG_UNKNOWN_WAREHOUSE
from inventory.models import StockLine
from inventory.selectors.stock_list import PAGE_SIZE
from inventory.services import StockQuantity, stock_adjust, stock_receive
from inventory.services.clock import simulated_time
from inventory.views.stock_list import MSG_STALE_PAGE, query_with
from tests.factories import ProductFactory, UserFactory, VariantFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

LIST = "/inventory/"


@pytest.fixture
def merchant(client):
    user = UserFactory(role="Merchant")
    client.force_login(user)
    return user


def receive_many(warehouse, count: int, *, quantity=10, threshold=None):
    variants = [
        VariantFactory(product=ProductFactory(name=f"Product {i:03d}"), alert_threshold=threshold)
        for i in range(count)
    ]
    stock_receive(warehouse=warehouse, lines=[StockQuantity(v, quantity) for v in variants])
    return variants


def badges(response) -> list[str]:
    """The status badges of the table's rows, top to bottom."""
    body = re.search(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S).group(1)
    return re.findall(r'class="badge badge-(ok|low|out)"', body)


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/inventory/")


def test_a_user_without_the_view_permission_is_refused(client):
    client.force_login(UserFactory())

    assert client.get(LIST).status_code == 403


def test_a_row_shows_every_quantity_the_threshold_the_badge_and_the_last_movement(client, merchant):
    warehouse = WarehouseFactory(code="PAR")
    variant = VariantFactory(
        product=ProductFactory(name="Stoneware mug"), name="Blue", sku="MUG-1", alert_threshold=8
    )
    moved = datetime.fromisoformat("2025-01-15T10:30:00+00:00")
    with simulated_time(moved):
        stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 5)])

    response = client.get(LIST)
    html = response.content.decode()
    row = re.search(r'<tr class="status-low">(.*?)</tr>', html, re.S).group(1)
    cells = [unescape(re.sub(r"<[^>]+>", " ", cell)).split() for cell in row.split("</td>")]

    assert response.status_code == 200
    assert cells[0] == ["Stoneware", "mug", "Blue"]
    assert cells[1] == ["MUG-1"] and 'href="/inventory/sku/MUG-1/"' in row
    assert cells[2] == ["PAR"]
    assert [c[0] for c in cells[3:9]] == ["5", "0", "0", "5", "0", "8"]
    assert "Low stock" in " ".join(cells[9])
    assert '<time datetime="2025-01-15T10:30:00+00:00" title="15 Jan 2025, 10:30 UTC">' in row
    assert "ago</time>" in row


def test_columns_come_in_the_contract_order(client, merchant):
    receive_many(WarehouseFactory(), 1)

    html = client.get(LIST).content.decode()
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    headings = [unescape(re.sub(r"<[^>]+>|[▲▼]", "", cell)).strip() for cell in head.split("</th>")]

    assert headings[:-1] == [
        "Product",
        "SKU",
        "Warehouse",
        "Available",
        "Reserved",
        "Locked",
        "Total",
        "Incoming",
        "Alert threshold",
        "Status",
        "Last movement",
    ]


def test_stockout_and_low_badges_say_it_in_words_and_ok_stays_quiet(client, merchant):
    warehouse = WarehouseFactory()
    out, low, ok = VariantFactory.create_batch(3, alert_threshold=5)
    stock_receive(
        warehouse=warehouse,
        lines=[StockQuantity(out, 1), StockQuantity(low, 2), StockQuantity(ok, 9)],
    )
    stock_adjust(variant=out, warehouse=warehouse, quantity=-1, reason="loss")

    html = client.get(LIST).content.decode()

    assert '<span class="badge badge-out"><span aria-hidden="true">✕</span> Stockout</span>' in html
    assert (
        '<span class="badge badge-low"><span aria-hidden="true">▲</span> Low stock</span>' in html
    )
    assert '<span class="badge badge-ok">OK</span>' in html


def test_counts_above_the_table_ignore_the_status_filter_and_link_to_it(client, merchant):
    warehouse = WarehouseFactory(code="PAR")
    variants = receive_many(warehouse, 5, quantity=3, threshold=4)
    receive_many(WarehouseFactory(code="LYO"), 2, quantity=3, threshold=4)
    stock_adjust(variant=variants[0], warehouse=warehouse, quantity=-3, reason="loss")

    response = client.get(LIST, {"warehouse": "PAR", "status": "out"})

    counts = response.context["counts"]
    assert (counts.low, counts.out) == (4, 1)
    assert response.context["low_url"] == "?warehouse=PAR&status=low"
    assert response.context["out_url"] == "?warehouse=PAR&status=out"
    assert badges(response) == ["out"]


def test_low_stock_filter_shows_only_low_stock_badges(client, merchant):
    warehouse = WarehouseFactory()
    variants = receive_many(warehouse, 6, quantity=3, threshold=4)
    receive_many(warehouse, 3, quantity=9, threshold=4)
    stock_adjust(variant=variants[0], warehouse=warehouse, quantity=-3, reason="loss")

    response = client.get(LIST, {"status": "low"})

    assert badges(response) == ["low"] * 5
    assert "5 lines match these filters" in response.content.decode()


def test_morning_routine_lists_stockouts_then_low_stock_most_urgent_first(client, merchant):
    warehouse = WarehouseFactory(code="PAR")
    a, b, c = receive_many(warehouse, 3, quantity=3, threshold=4)
    stock_adjust(variant=a, warehouse=warehouse, quantity=-1, reason="loss")
    stock_adjust(variant=b, warehouse=warehouse, quantity=-3, reason="loss")
    receive_many(WarehouseFactory(code="LYO"), 2, quantity=3, threshold=4)

    routine = client.get(LIST, {"warehouse": "PAR"}).context["morning_url"]
    response = client.get(LIST + routine)

    assert routine == "?warehouse=PAR&status=low,out&ordering=available"
    assert [line.sku for line in response.context["page"].lines] == [b.sku, a.sku, c.sku]
    assert badges(response) == ["out", "low", "low"]


def test_stagnating_routine_sorts_by_oldest_movement_first(client, merchant):
    warehouse = WarehouseFactory()
    start = datetime.fromisoformat("2025-01-01T08:00:00+00:00")
    variants = VariantFactory.create_batch(3)
    for days, variant in zip((5, 1, 9), variants, strict=True):
        with simulated_time(start + timedelta(days=days)):
            stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 1)])

    routine = client.get(LIST).context["stagnating_url"]
    response = client.get(LIST + routine)

    assert routine == "?ordering=last_movement"
    assert [line.sku for line in response.context["page"].lines] == [
        variants[1].sku,
        variants[0].sku,
        variants[2].sku,
    ]


def test_sort_headers_toggle_direction_and_say_which_is_sorted(client, merchant):
    receive_many(WarehouseFactory(), 1, quantity=1, threshold=2)

    response = client.get(LIST, {"ordering": "available", "status": "low"})

    headers = {header.key: header for header in response.context["headers"]}
    assert headers["available"].direction == "ascending"
    assert headers["available"].url == "?status=low&ordering=-available"
    assert headers["sku"].url == "?status=low&ordering=sku"
    assert headers["sku"].direction == ""
    assert 'aria-sort="ascending"' in response.content.decode()


def test_next_page_link_continues_where_the_page_ended(client, merchant):
    warehouse = WarehouseFactory()
    receive_many(warehouse, PAGE_SIZE + 3)

    first = client.get(LIST, {"ordering": "product"})
    second = client.get(LIST + first.context["next_url"])

    assert len(first.context["page"].lines) == PAGE_SIZE
    assert [line.product_name for line in second.context["page"].lines] == [
        "Product 050",
        "Product 051",
        "Product 052",
    ]
    assert second.context["next_url"] is None
    assert second.context["previous_url"].startswith("?ordering=product&page=")


def test_a_page_link_that_no_longer_fits_shows_the_first_page_with_a_message(client, merchant):
    receive_many(WarehouseFactory(), 3)

    response = client.get(LIST, {"page": "2"})

    assert response.status_code == 200
    assert len(response.context["page"].lines) == 3
    assert MSG_STALE_PAGE in [str(m) for m in response.context["messages"]]


def test_bad_filter_values_show_their_message_next_to_the_field_and_break_nothing(client, merchant):
    receive_many(WarehouseFactory(), 2)

    response = client.get(LIST, {"warehouse": "MARS", "status": "soon"})
    html = unescape(response.content.decode())

    assert response.status_code == 200
    assert MSG_UNKNOWN_WAREHOUSE % {"value": "MARS"} in html
    assert MSG_UNKNOWN_STATUS % {"value": "soon"} in html
    assert len(response.context["page"].lines) == 2


def test_cover_column_shows_days_of_cover_from_the_last_eight_weeks_of_sales(client, merchant):
    from tests.inventory.test_selectors_sales import sell

    warehouse = WarehouseFactory()
    variant = VariantFactory()
    stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 100)])
    sell(variant, warehouse, 56, days_ago=3)

    response = client.get(LIST, {"cover": "1"})
    [line] = response.context["page"].lines

    assert line.days_of_cover == 44  # 44 available at 1 a day
    assert "44 d" in response.content.decode()
    assert response.context["cover_url"] == "?"


def test_empty_states_say_what_to_do(client, merchant):
    empty = client.get(LIST).content.decode()
    receive_many(WarehouseFactory(), 1)
    nothing_matches = client.get(LIST, {"q": "teapot"}).content.decode()

    assert "No stock yet." in empty and "Receive goods from a supplier" in empty
    assert "No stock line matches these filters." in nothing_matches
    assert "clear the filters" in nothing_matches


def test_counts_past_the_cap_say_more_than(client, merchant, monkeypatch):
    monkeypatch.setattr("inventory.views.stock_list.COUNT_CAP", 2)
    warehouse = WarehouseFactory()
    receive_many(warehouse, 3, quantity=1, threshold=4)
    [sold_out] = receive_many(warehouse, 1, quantity=1)
    stock_adjust(variant=sold_out, warehouse=warehouse, quantity=-1, reason="loss")

    response = client.get(LIST)
    text = " ".join(re.sub(r"<[^>]+>", " ", unescape(response.content.decode())).split())

    assert (response.context["matching"], response.context["more_than_cap"]) == (2, True)
    assert "More than 2 lines" in text
    assert "Low stock 2+" in text and "Stockout 1" in text


def test_names_and_skus_are_escaped_in_the_rows(client, merchant):
    warehouse = WarehouseFactory(name='Dock <b>"A"</b>')
    variant = VariantFactory(
        product=ProductFactory(name="Mug <script>alert(1)</script> & co"), name="<i>Red</i>"
    )
    stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 1)])

    html = client.get(LIST).content.decode()

    assert "<script>alert(1)" not in html and "<i>Red" not in html
    assert "Mug &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "&lt;i&gt;Red&lt;/i&gt;" in html
    assert 'title="Dock &lt;b&gt;&quot;A&quot;&lt;/b&gt;"' in html


def test_staff_assigned_to_a_warehouse_see_only_its_lines_and_counts(client):
    par, lyo = WarehouseFactory(code="PAR"), WarehouseFactory(code="LYO")
    receive_many(par, 2, quantity=1, threshold=4)
    receive_many(lyo, 3, quantity=1, threshold=4)
    staff = UserFactory(role="Warehouse staff")
    lyo.assigned_staff.add(staff)
    client.force_login(staff)

    response = client.get(LIST)

    assert {line.warehouse_code for line in response.context["page"].lines} == {"LYO"}
    assert response.context["counts"].low == 3
    assert response.context["matching"] == 3
    assert not response.context["can_export"]
    assert "Export CSV" not in response.content.decode()


def test_export_link_keeps_the_filters_but_not_the_page(client, merchant):
    receive_many(WarehouseFactory(code="PAR"), 2)

    response = client.get(LIST, {"warehouse": "PAR", "status": "low,out", "cover": "1"})

    assert response.context["export_query"] == "warehouse=PAR&status=low,out"
    assert 'href="/inventory/export.csv?warehouse=PAR&amp;status=low,out"' in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"status": "low,out", "ordering": "-available", "cover": "1"},
        {"ordering": "warehouse"},
        {"q": "product", "ordering": "last_movement"},
    ],
)
def test_the_page_costs_the_same_queries_for_10_or_100_lines(
    client, merchant, django_assert_max_num_queries, query
):
    warehouses = [WarehouseFactory(), WarehouseFactory()]
    receive_many(warehouses[0], 5, quantity=2, threshold=3)
    receive_many(warehouses[1], 5, quantity=2, threshold=3)
    with CaptureQueriesContext(connection) as small:
        client.get(LIST, query)

    for warehouse in warehouses:
        receive_many(warehouse, 45, quantity=2, threshold=3)
    assert StockLine.objects.count() == 100
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(LIST, query)

    assert len(response.context["page"].lines) == PAGE_SIZE
    # Session, user and two permission lookups, then the page: scope, rows, counts, filters.
    assert len(small.captured_queries) <= 10


@pytest.mark.parametrize(
    "key", ["q", "warehouse", "status", "zero", "stagnant", "ordering", "page"]
)
def test_a_nul_character_in_any_parameter_is_refused_not_a_server_error(client, merchant, key):
    receive_many(WarehouseFactory(code="PAR"), 1)

    page = client.get(LIST, {key: "PAR\x00"})
    export = client.get("/inventory/export.csv", {key: "PAR\x00"})

    assert page.status_code == 200
    assert export.status_code in (200, 400)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=mug&status=low,out&page=abc",
        "q=caf%C3%A9+cr%C3%A8me&q=second&warehouse=PAR",
        "q=a%26b%3Dc%2Bd%23e%25f&ordering=-available",
    ],
)
@pytest.mark.parametrize(
    "changes",
    [{}, {"page": None}, {"status": "low", "page": None}, {"q": "x y/é"}, {"cover": ""}],
)
def test_links_are_encoded_as_querydict_encodes_them(query, changes):
    """query_with builds the page's links without copying the QueryDict: same strings."""
    expected = QueryDict(query, mutable=True)
    for key, value in changes.items():
        expected.pop(key, None)
        if value not in (None, ""):
            expected[key] = value

    assert query_with(QueryDict(query), **changes) == "?" + expected.urlencode(safe=",")
