"""The inventory list's selector: keyset pages in every ordering, counts, CSV rows."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Variant
from inventory.models import StockLine, StockStatus
from inventory.selectors.search import TEXT_MARK, StockSearch
from inventory.selectors.stock_list import (
    ORDERINGS,
    InvalidPageToken,
    Ordering,
    Position,
    StatusCounts,
    capped_count,
    export_rows,
    list_counts,
    status_counts,
    stock_list_page,
)
from inventory.services import StockQuantity, stock_adjust, stock_receive
from inventory.services.clock import simulated_time
from tests.factories import ProductFactory, VariantFactory, WarehouseFactory
from tests.helpers import d

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2025-03-01T09:00:00+00:00")


@pytest.fixture
def stock():
    """27 lines: 9 variants of 3 products in 3 warehouses received an hour apart, with
    quantities 2, 3, 4 repeating (ties broken by id) and a threshold of 4; one line moved
    again three days later."""
    warehouses = [WarehouseFactory(code=code) for code in ("LYO", "BDX", "PAR")]
    products = [ProductFactory(name=name) for name in ("Mug", "Apron", "Tote")]
    variants = [
        VariantFactory(product=products[index % 3], sku=f"SK-{9 - index}", alert_threshold=4)
        for index in range(9)
    ]
    for hour, warehouse in enumerate(warehouses):
        with simulated_time(T0 + timedelta(hours=hour)):
            stock_receive(
                warehouse=warehouse,
                lines=[StockQuantity(v, 2 + index % 3) for index, v in enumerate(variants)],
            )
    with simulated_time(T0 + timedelta(days=3)):
        stock_adjust(variant=variants[0], warehouse=warehouses[0], quantity=5, reason="found")
    return warehouses, variants


def expected_order(key: str, descending: bool) -> list[int]:
    lines = list(StockLine.objects.select_related("variant__product", "warehouse"))

    def sort_values(line):
        return {
            "sku": (line.variant.sku.lower(), line.warehouse.code),
            "product": (line.variant.product.name, line.variant.sku.lower()),
            "warehouse": (line.warehouse.code, line.variant.sku.lower()),
            "available": (line.available,),
            "reserved": (line.reserved,),
            "total": (line.on_hand,),
            "last_movement": (line.last_movement_at,),
        }[key] + (line.pk,)

    return [line.pk for line in sorted(lines, key=sort_values, reverse=descending)]


def walk(ordering: Ordering, page_size: int) -> list[list[int]]:
    pages, token = [], None
    lines = StockLine.objects.all()
    while True:
        page = stock_list_page(lines, ordering=ordering, token=token, page_size=page_size)
        pages.append([line.pk for line in page.lines])
        if page.next_token is None:
            return pages
        token = page.next_token


@pytest.mark.parametrize("key", list(ORDERINGS))
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_pages_list_every_line_once_in_the_chosen_order(stock, key, descending):
    ordering = Ordering(key, descending)

    pages = walk(ordering, page_size=4)

    assert [pk for page in pages for pk in page] == expected_order(key, descending)
    assert all(len(page) == 4 for page in pages[:-1])


@pytest.mark.parametrize("key", ["sku", "available", "last_movement", "warehouse"])
def test_previous_page_shows_the_page_before(stock, key):
    ordering = Ordering(key, False)
    lines = StockLine.objects.all()
    first = stock_list_page(lines, ordering=ordering, token=None, page_size=5)
    second = stock_list_page(lines, ordering=ordering, token=first.next_token, page_size=5)
    third = stock_list_page(lines, ordering=ordering, token=second.next_token, page_size=5)

    back = stock_list_page(lines, ordering=ordering, token=third.previous_token, page_size=5)
    back_again = stock_list_page(lines, ordering=ordering, token=back.previous_token, page_size=5)

    assert [line.pk for line in back.lines] == [line.pk for line in second.lines]
    assert [line.pk for line in back_again.lines] == [line.pk for line in first.lines]
    assert back_again.is_first and back_again.previous_token is None
    assert back.next_token is not None and not back.is_first


def test_first_page_has_no_previous_and_last_page_no_next(stock):
    lines = StockLine.objects.all()
    whole = stock_list_page(lines, ordering=Ordering.parse(None), token=None, page_size=50)

    assert len(whole.lines) == 27
    assert whole.next_token is None and whole.previous_token is None and whole.is_first


def test_a_bookmarked_page_starts_after_the_same_line_when_lines_are_added_before_it(stock):
    warehouses, _ = stock
    lines = StockLine.objects.all()
    ordering = Ordering.parse("sku")
    first = stock_list_page(lines, ordering=ordering, token=None, page_size=5)
    second = stock_list_page(lines, ordering=ordering, token=first.next_token, page_size=5)

    stock_receive(warehouse=warehouses[0], lines=[StockQuantity(VariantFactory(sku="AA-1"), 1)])
    again = stock_list_page(lines, ordering=ordering, token=first.next_token, page_size=5)

    assert [line.pk for line in again.lines] == [line.pk for line in second.lines]


@pytest.mark.parametrize(("key", "sign"), [("last_movement", ">"), ("-reserved", "<")])
def test_a_page_starts_after_its_line_by_one_row_comparison(stock, key, sign):
    # (sort value, id) > (v, id0) seeks in the (sort value, id) index; the spelled-out OR
    # read every line tied on v first (100,000 lines counted at once share a last movement).
    lines = StockLine.objects.all()
    ordering = Ordering.parse(key)
    first = stock_list_page(lines, ordering=ordering, token=None, page_size=5)

    with CaptureQueriesContext(connection) as queries:
        stock_list_page(lines, ordering=ordering, token=first.next_token, page_size=5)

    (sql,) = [query["sql"] for query in queries]
    assert f'"inventory_stockline"."id") {sign} (' in sql
    assert " OR " not in sql


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        Position(True, ("a",)).encode(),  # too few values for this ordering
        Position(True, ("sk-1", "LYO", "seven")).encode(),  # the id is not a number
        "eyJ4Ijox",  # truncated
        Position(True, ("sk-1", "LYO", 2**63)).encode(),  # no 64-bit id is that large
        Position(True, ("sk-1", "LYO", 0)).encode(),  # ids start at 1
    ],
)
def test_a_token_that_does_not_fit_the_ordering_is_refused(stock, token):
    with pytest.raises(InvalidPageToken):
        stock_list_page(StockLine.objects.all(), ordering=Ordering.parse("sku"), token=token)


def test_a_token_of_another_ordering_is_refused(stock):
    lines = StockLine.objects.all()
    by_sku = stock_list_page(lines, ordering=Ordering.parse("sku"), token=None, page_size=3)

    with pytest.raises(InvalidPageToken):
        stock_list_page(lines, ordering=Ordering.parse("available"), token=by_sku.next_token)


def test_unknown_ordering_falls_back_to_sku():
    assert Ordering.parse("colour") == Ordering("sku", False)
    assert Ordering.parse("-total") == Ordering("total", True)
    assert Ordering.parse("-total").value == "-total"


def test_capped_count_stops_at_the_cap(stock):
    assert capped_count(StockLine.objects.all(), cap=30) == (27, False)
    assert capped_count(StockLine.objects.all(), cap=27) == (27, False)
    assert capped_count(StockLine.objects.all(), cap=10) == (10, True)


def test_status_counts_count_low_and_stockout_lines(stock):
    warehouses, variants = stock
    # Quantities are 2, 3, 4 by variant; the threshold is 4: 2 and 3 are Low stock.
    stock_adjust(variant=variants[1], warehouse=warehouses[1], quantity=-3, reason="loss")

    counts = status_counts(StockLine.objects.all())

    assert (counts.low, counts.out) == (16, 1)
    assert StockLine.objects.in_status(StockStatus.LOW).count() == 16
    assert StockLine.objects.in_status(StockStatus.OUT).count() == 1
    assert StockLine.objects.in_status(StockStatus.LOW, StockStatus.OUT).count() == 17


def test_status_counts_stop_at_the_cap(stock):
    counts = status_counts(StockLine.objects.all(), cap=5)

    assert (counts.low, counts.low_more, counts.out, counts.out_more) == (5, True, 0, False)


def test_export_rows_follow_the_contract_columns_and_status_texts():
    warehouse = WarehouseFactory(code="PAR")
    variant = VariantFactory(
        product=ProductFactory(name="Mug"), name="Blue", sku="MUG-B", alert_threshold=3
    )
    with simulated_time(T0):
        stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 2)])

    rows = list(export_rows(StockLine.objects.all(), ordering=Ordering.parse("sku")))

    assert rows == [
        ("Mug", "Blue", "MUG-B", "PAR", d(2), d(0), d(0), d(2), d(0), d(3), "Low stock", T0)
    ]


def test_export_rows_leave_the_threshold_empty_when_none_applies():
    warehouse = WarehouseFactory()
    variant = VariantFactory()
    stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 2)])

    [row] = export_rows(StockLine.objects.all(), ordering=Ordering.parse("sku"))

    assert row[9] is None and row[10] == "OK"


#: The ways a search finds lines (see StockLineQuerySet.search): by the ids of few matching
#: variants, or, when many match, walking the order and checking each variant or each line.
SEARCH_WAYS = {
    "few matches": {"few": 500, "walk_variants": True},
    "many, checked on the variant": {"few": 0, "walk_variants": True},
    "many, checked on the line": {"few": 0, "walk_variants": False},
}


@pytest.fixture(params=SEARCH_WAYS, ids=list(SEARCH_WAYS))
def search(request, monkeypatch):
    way = SEARCH_WAYS[request.param]
    monkeypatch.setattr("inventory.selectors.search.FEW_MATCHING_VARIANTS", way["few"])
    return lambda lines, text: lines.search(text, walk_variants=way["walk_variants"])


def test_search_finds_names_by_any_part_and_skus_and_barcodes_by_their_start(stock, search):
    warehouse = WarehouseFactory()
    variant = VariantFactory(
        product=ProductFactory(name="Enamel Kettle"),
        name="Sage green",
        sku="KET-77",
        barcode="3700000000123",
    )
    stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 1)])

    for text in ("kettle", "enamel k", "SAGE", "een", "ket-7", "KET-77", "37000", "3700000000123"):
        found = search(StockLine.objects.all(), text)
        assert list(found.values_list("variant__sku", flat=True)) == ["KET-77"], text
    for text in ("teapot", "T-77", "0000123"):
        assert not search(StockLine.objects.all(), text).exists(), text


@pytest.mark.parametrize("ordering", ["sku", "-sku", "product", "available", "last_movement"])
def test_every_way_of_searching_pages_through_the_same_lines_in_the_same_order(search, ordering):
    warehouses = [WarehouseFactory(code=code) for code in ("PAR", "LYO")]
    for number in range(7):
        hoodie = VariantFactory(product=ProductFactory(name=f"Alpine hoodie {number}"))
        stock_receive(warehouse=warehouses[number % 2], lines=[StockQuantity(hoodie, number + 1)])
        stock_receive(warehouse=warehouses[1], lines=[StockQuantity(VariantFactory(), 1)])
    lines = StockLine.objects.all()
    expected = list(
        Ordering.parse(ordering).apply(lines.filter(variant__product__name__contains="hoodie"))
    )

    shown, token = [], None
    while True:
        page = stock_list_page(
            search(lines, "HOODIE"), ordering=Ordering.parse(ordering), token=token, page_size=3
        )
        shown += page.lines
        if not (token := page.next_token):
            break

    assert [line.pk for line in shown] == [line.pk for line in expected]


@pytest.mark.parametrize("few", [500, 0], ids=["few matches", "many matches"])
def test_search_counts_are_exact_and_read_the_matching_variants_once(few, monkeypatch):
    monkeypatch.setattr("inventory.selectors.search.FEW_MATCHING_VARIANTS", few)
    warehouse = WarehouseFactory()
    for number in range(6):
        hoodie = VariantFactory(product=ProductFactory(name=f"Alpine hoodie {number}"))
        stock_receive(warehouse=warehouse, lines=[StockQuantity(hoodie, number + 1)])
        stock_adjust(variant=hoodie, warehouse=warehouse, quantity=-number - 1, reason="loss")
        stock_receive(warehouse=warehouse, lines=[StockQuantity(VariantFactory(), 1)])
    # As the list counts: the lines checked one by one, not walked in SKU order.
    found = StockLine.objects.search("hoodie", walk_variants=False)

    with CaptureQueriesContext(connection) as queries:
        counts = list_counts(found, found, cap=4)

    assert counts == ((4, True), StatusCounts(low=0, out=4, low_more=False, out_more=True))
    [statement] = queries.captured_queries
    if few == 0:
        # SKU, barcode and variant name in one set, product name in the other: each once,
        # not once per count.
        assert statement["sql"].startswith("WITH ")
        assert statement["sql"].count("hoodie") == 4


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("50%", {"Mug 50% off"}),
        ("a_b", {"Tag A_B"}),
        ("back\\slash", {"Sign back\\slash"}),
        ("it's", {"It's a mug"}),
        ("%", {"Mug 50% off"}),
        ("_", {"Tag A_B"}),
        (TEXT_MARK, set()),
    ],
)
def test_search_reads_like_patterns_characters_as_themselves(text, found):
    """The first matches are read with SQL built once, the text put in its LIKE patterns:
    escaped as the ORM's lookups do, so that both find the same variants."""
    names = ["Mug 50% off", "Mug 500 off", "Tag A_B", "Tag AXB", "Sign back\\slash", "It's a mug"]
    for name in names:
        VariantFactory(name=name, product=ProductFactory(name="Thing"))

    search = StockSearch.read(text)

    by_orm = set(search.by_variant.values_list("pk", flat=True)) | set(
        search.by_product.values_list("pk", flat=True)
    )
    assert set(search.few_ids) == by_orm
    assert set(Variant.objects.filter(pk__in=search.few_ids).values_list("name", flat=True)) == (
        found
    )


def test_a_search_that_matches_nothing_counts_nothing(search):
    stock_receive(warehouse=WarehouseFactory(), lines=[StockQuantity(VariantFactory(), 1)])

    found = search(StockLine.objects.all(), "no such thing")

    assert capped_count(found) == (0, False)
    assert status_counts(found) == StatusCounts(low=0, out=0)


def test_lines_that_never_moved_are_stagnant_and_sort_first_by_last_movement(stock):
    _, variants = stock
    never = StockLine.objects.create(variant=variants[0], warehouse=WarehouseFactory(code="ZZZ"))

    stagnant = StockLine.objects.not_moved_since(T0 + timedelta(hours=1, minutes=30))
    page = stock_list_page(
        StockLine.objects.all(),
        ordering=Ordering.parse("last_movement"),
        token=None,
        page_size=1,
    )

    assert never in stagnant
    assert set(stagnant.values_list("warehouse__code", flat=True)) == {"ZZZ", "LYO", "BDX"}
    assert page.lines[0].pk == never.pk
