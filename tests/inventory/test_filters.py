"""Filters of the inventory list (the contract's query string) and of the SKU history."""

from datetime import datetime, timedelta

import pytest
from django.http import QueryDict
from django.test import RequestFactory

from inventory.filters import (
    MSG_STAGNANT_DAYS,
    MSG_UNKNOWN_ORDERING,
    MSG_UNKNOWN_STATUS,
    MSG_UNKNOWN_WAREHOUSE,
    MovementHistoryFilter,
    StockLineFilter,
)
from inventory.journal_filters import MSG_PERIOD_REVERSED
from inventory.models import Movement, StockLine
from inventory.services import StockQuantity, stock_adjust, stock_receive
from inventory.services.clock import simulated_time
from tests.factories import ProductFactory, UserFactory, VariantFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

NOW = datetime.fromisoformat("2025-05-20T12:00:00+00:00")


@pytest.fixture
def merchant():
    return UserFactory(role="Merchant")


def filtered(query: str, user) -> StockLineFilter:
    request = RequestFactory().get("/inventory/?" + query)
    request.user = user
    return StockLineFilter(
        request.GET, queryset=StockLine.objects.visible_to(user), request=request
    )


def where_clause(queryset) -> str:
    return str(queryset.query).partition(" WHERE ")[2]


def skus(filterset) -> list[str]:
    return sorted(f"{line.variant.sku}@{line.warehouse.code}" for line in filterset.qs)


@pytest.fixture
def shop():
    """PAR and LYO; a mug (threshold 5) at 10 and 3, a tee (no threshold) at 1 and 0."""
    par, lyo = WarehouseFactory(code="PAR"), WarehouseFactory(code="LYO")
    mug = VariantFactory(
        product=ProductFactory(name="Stoneware mug"),
        name="Blue",
        sku="MUG-1",
        barcode="3701",
        alert_threshold=5,
    )
    tee = VariantFactory(product=ProductFactory(name="Linen tee"), name="White / M", sku="TEE-M")
    with simulated_time(NOW - timedelta(days=40)):
        stock_receive(warehouse=par, lines=[StockQuantity(mug, 10), StockQuantity(tee, 1)])
    with simulated_time(NOW - timedelta(days=2)):
        stock_receive(warehouse=lyo, lines=[StockQuantity(mug, 3), StockQuantity(tee, 2)])
        stock_adjust(variant=tee, warehouse=lyo, quantity=-2, reason="loss")
    return par, lyo


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=stoneware", ["MUG-1@LYO", "MUG-1@PAR"]),
        ("q=WHITE / m", ["TEE-M@LYO", "TEE-M@PAR"]),
        ("q=tee-m", ["TEE-M@LYO", "TEE-M@PAR"]),
        ("q=3701", ["MUG-1@LYO", "MUG-1@PAR"]),
        ("q=+mug+", ["MUG-1@LYO", "MUG-1@PAR"]),
        ("q=", ["MUG-1@LYO", "MUG-1@PAR", "TEE-M@LYO", "TEE-M@PAR"]),
        ("warehouse=LYO", ["MUG-1@LYO", "TEE-M@LYO"]),
        ("status=low", ["MUG-1@LYO"]),
        ("status=out", ["TEE-M@LYO"]),
        ("status=ok", ["MUG-1@PAR", "TEE-M@PAR"]),
        ("status=low,out", ["MUG-1@LYO", "TEE-M@LYO"]),
        ("status=out,low,out", ["MUG-1@LYO", "TEE-M@LYO"]),
        ("zero=1", ["TEE-M@LYO"]),
        ("zero=0", ["MUG-1@LYO", "MUG-1@PAR", "TEE-M@LYO", "TEE-M@PAR"]),
        ("q=mug&warehouse=PAR&status=ok", ["MUG-1@PAR"]),
    ],
)
def test_filters_select_lines_as_the_contract_says(shop, merchant, query, expected):
    filterset = filtered(query, merchant)

    assert filterset.is_valid(), filterset.errors
    assert skus(filterset) == expected


def test_stagnant_selects_lines_without_movement_for_that_many_days(shop, merchant, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)

    assert skus(filtered("stagnant=30", merchant)) == ["MUG-1@PAR", "TEE-M@PAR"]
    assert skus(filtered("stagnant=1", merchant)) == [
        "MUG-1@LYO",
        "MUG-1@PAR",
        "TEE-M@LYO",
        "TEE-M@PAR",
    ]


def test_stagnant_includes_lines_that_never_moved(shop, merchant):
    par, _ = shop
    never = StockLine.objects.create(variant=VariantFactory(sku="NEW-1"), warehouse=par)

    assert never in filtered("stagnant=1", merchant).qs


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("warehouse=NOPE", "warehouse", MSG_UNKNOWN_WAREHOUSE % {"value": "NOPE"}),
        ("status=empty", "status", MSG_UNKNOWN_STATUS % {"value": "empty"}),
        ("status=low,soon", "status", MSG_UNKNOWN_STATUS % {"value": "soon"}),
        ("stagnant=0", "stagnant", MSG_STAGNANT_DAYS),
        ("stagnant=-3", "stagnant", MSG_STAGNANT_DAYS),
        ("stagnant=2.5", "stagnant", MSG_STAGNANT_DAYS),
        ("stagnant=soon", "stagnant", MSG_STAGNANT_DAYS),
        ("stagnant=99999", "stagnant", MSG_STAGNANT_DAYS),
        ("ordering=colour", "ordering", MSG_UNKNOWN_ORDERING % {"value": "colour"}),
    ],
)
def test_bad_values_get_a_message_next_to_their_field(shop, merchant, query, field, message):
    filterset = filtered(query, merchant)

    assert not filterset.is_valid()
    assert filterset.errors == {field: [message]}


def test_a_bad_value_leaves_the_other_filters_applied(shop, merchant):
    filterset = filtered("warehouse=PAR&status=nope", merchant)

    assert not filterset.is_valid()
    assert skus(filterset) == ["MUG-1@PAR", "TEE-M@PAR"]


def test_ordering_accepts_every_contract_key_both_ways(merchant):
    for key in ("sku", "product", "warehouse", "available", "reserved", "total", "last_movement"):
        for value in (key, f"-{key}"):
            filterset = filtered(f"ordering={value}", merchant)
            assert filterset.is_valid(), value
            assert filterset.ordering_key == value


def test_staff_can_only_choose_and_see_their_warehouses(shop):
    _, lyo = shop
    staff = UserFactory(role="Warehouse staff")
    lyo.assigned_staff.add(staff)

    filterset = filtered("", staff)
    refused = filtered("warehouse=PAR", staff)

    assert filterset.form.fields["warehouse"].choices == [
        ("", "All warehouses"),
        ("LYO", f"LYO – {lyo.name}"),
    ]
    assert skus(filterset) == ["MUG-1@LYO", "TEE-M@LYO"]
    assert refused.errors == {"warehouse": [MSG_UNKNOWN_WAREHOUSE % {"value": "PAR"}]}


def test_counts_filterset_can_ignore_the_status_filter(shop, merchant):
    filterset = filtered("warehouse=LYO&status=low", merchant)
    filterset.is_valid()

    without_status = filterset.filter_queryset_except(filterset.queryset, "status")

    assert sorted(line.variant.sku for line in without_status) == ["MUG-1", "TEE-M"]


@pytest.mark.parametrize("status", ["low", "out", "low,out"])
def test_counted_lines_are_the_listed_ones_selected_by_status_alone(shop, merchant, status):
    filterset = filtered(f"status={status}", merchant)
    filterset.is_valid()

    matching, _ = filterset.counting_querysets()

    assert sorted(line.pk for line in matching) == sorted(line.pk for line in filterset.qs)
    # The page's bounds on available would make the count read the table, not the index.
    assert '"available"' not in where_clause(matching)
    assert '"available"' in where_clause(filterset.qs) or status == "low,out"


def history(query: str, user) -> MovementHistoryFilter:
    request = RequestFactory().get("/?" + query)
    request.user = user
    return MovementHistoryFilter(
        QueryDict(query), queryset=Movement.objects.order_by("pk"), request=request
    )


def test_history_filters_by_warehouse_type_and_dates(shop, merchant):
    assert history("warehouse=PAR", merchant).qs.count() == 2
    assert history("type=adjustment", merchant).qs.count() == 1
    assert history("type=entry&warehouse=LYO", merchant).qs.count() == 2
    day_before = (NOW - timedelta(days=3)).date().isoformat()
    assert history(f"from={day_before}", merchant).qs.count() == 3
    assert history(f"to={day_before}", merchant).qs.count() == 2


def test_history_refuses_a_period_that_ends_before_it_starts(merchant):
    filterset = history("from=2025-05-10&to=2025-05-01", merchant)

    assert not filterset.is_valid()
    assert filterset.errors["to"] == [MSG_PERIOD_REVERSED]


def test_warehouse_choices_are_those_of_each_requests_user(shop, merchant):
    """The form class is built once per process: its choices must still be each user's."""
    staff = UserFactory(role="Warehouse staff")
    WarehouseFactory(code="MRS").assigned_staff.add(staff)

    for user, codes in [(merchant, ["", "LYO", "MRS", "PAR"]), (staff, ["", "MRS"])] * 2:
        field = filtered("", user).form.fields["warehouse"]
        assert [code for code, _ in field.choices] == codes

    outside = filtered("warehouse=PAR", staff)
    assert not outside.is_valid()
    assert outside.form.errors["warehouse"] == [MSG_UNKNOWN_WAREHOUSE % {"value": "PAR"}]
    assert filtered("warehouse=PAR", merchant).is_valid()
