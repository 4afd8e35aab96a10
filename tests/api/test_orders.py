"""POST /api/v1/orders and POST /api/v1/orders/<reference>/stage, as the contract says."""

import pytest

from inventory.ledger import verify_ledger
from inventory.models import HoldChange
from orders.models import Order, Stage
from tests.api.conftest import client_for
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"


@pytest.fixture
def shop(warehouse):
    """A warehouse "PAR" with 10 shirts and 5 mugs."""
    warehouse.code = "PAR"
    warehouse.save()
    shirt, mug = VariantFactory(sku="TSHIRT-M"), VariantFactory(sku="MUG")
    receive(shirt, warehouse, 10)
    receive(mug, warehouse, 5)
    return warehouse, shirt, mug


def order_body(reference="SO-1001", stage=None, **lines):
    body = {
        "reference": reference,
        "warehouse": "PAR",
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()]
        or [{"sku": "TSHIRT-M", "quantity": 2}, {"sku": "MUG", "quantity": "1"}],
    }
    if stage:
        body["stage"] = stage
    return body


def stage_of(api, reference, stage):
    return api.post(f"{ORDERS}/{reference}/stage", {"stage": stage})


def test_posting_an_order_answers_201_with_the_order(api, shop):
    response = api.post(ORDERS, order_body())

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert response["Location"] == "/api/v1/orders/SO-1001"
    body = response.json()
    assert body["reference"] == "SO-1001"
    assert body["warehouse"] == "PAR"
    assert body["stage"] == "new"
    assert body["lines"] == [
        {
            "sku": "TSHIRT-M",
            "quantity": "2.000",
            "reserved": "0.000",
            "shipped": "0.000",
            "restocked": "0.000",
        },
        {
            "sku": "MUG",
            "quantity": "1.000",
            "reserved": "0.000",
            "shipped": "0.000",
            "restocked": "0.000",
        },
    ]
    assert body["created_at"].endswith("+00:00")


def test_an_order_posted_at_the_reserve_stage_reserves_its_lines(api, shop):
    warehouse, shirt, _ = shop

    response = api.post(ORDERS, order_body(stage="confirmed"))

    assert response.status_code == 201
    assert [line["reserved"] for line in response.json()["lines"]] == ["2.000", "1.000"]
    assert line_of(shirt, warehouse).available == d(8)


def test_skus_are_matched_whatever_their_case(api, shop):
    response = api.post(ORDERS, order_body(**{"tshirt-m": 1}))

    assert response.status_code == 201
    assert response.json()["lines"][0]["sku"] == "TSHIRT-M"


def test_the_same_order_posted_again_answers_200_and_reserves_once(api, shop):
    warehouse, shirt, _ = shop
    first = api.post(ORDERS, order_body(stage="confirmed"))

    again = api.post(ORDERS, order_body(stage="confirmed"))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert line_of(shirt, warehouse).reserved == d(2)
    assert HoldChange.objects.count() == 2


def test_the_same_reference_with_another_body_is_a_409(api, shop):
    warehouse, shirt, _ = shop
    api.post(ORDERS, order_body(stage="confirmed"))

    response = api.post(ORDERS, order_body(stage="confirmed", **{"TSHIRT-M": 3}))

    assert response.status_code == 409
    assert response.json()["details"]["code"] == "reference_conflict"
    assert line_of(shirt, warehouse).reserved == d(2)


def test_an_order_that_does_not_fit_is_a_409_naming_each_shortfall_and_is_not_stored(api, shop):
    warehouse, shirt, _ = shop

    response = api.post(ORDERS, order_body(stage="confirmed", **{"TSHIRT-M": 11, "MUG": 6}))

    assert response.status_code == 409
    body = response.json()
    assert body["details"]["code"] == "insufficient_stock"
    assert body["details"]["shortfalls"] == [
        {
            "sku": "TSHIRT-M",
            "warehouse": "PAR",
            "available": "10.000",
            "requested": "11.000",
            "missing": "1.000",
        },
        {
            "sku": "MUG",
            "warehouse": "PAR",
            "available": "5.000",
            "requested": "6.000",
            "missing": "1.000",
        },
    ]
    assert "Not enough stock of TSHIRT-M in PAR" in body["error"]
    assert not Order.objects.exists()
    assert line_of(shirt, warehouse).reserved == d(0)


def test_the_whole_lifecycle_through_the_stage_endpoint(api, shop):
    warehouse, shirt, _ = shop
    api.post(ORDERS, order_body())

    confirmed = stage_of(api, "SO-1001", "confirmed")
    assert confirmed.status_code == 200
    assert [(line["reserved"], line["shipped"]) for line in confirmed.json()["lines"]] == [
        ("2.000", "0.000"),
        ("1.000", "0.000"),
    ]
    assert line_of(shirt, warehouse).available == d(8)

    shipped = stage_of(api, "SO-1001", "shipped")
    assert shipped.json()["stage"] == "shipped"
    assert [(line["reserved"], line["shipped"]) for line in shipped.json()["lines"]] == [
        ("0.000", "2.000"),
        ("0.000", "1.000"),
    ]
    assert (line_of(shirt, warehouse).on_hand, line_of(shirt, warehouse).reserved) == (d(8), 0)

    assert stage_of(api, "SO-1001", "delivered").status_code == 200
    assert stage_of(api, "SO-1001", "returned").status_code == 200
    restocked = stage_of(api, "SO-1001", "return_restocked")
    assert restocked.json()["lines"][0]["restocked"] == "2.000"
    assert line_of(shirt, warehouse).on_hand == d(10)
    assert verify_ledger().ok


def test_cancelling_through_the_api_releases_the_reservation(api, shop):
    warehouse, shirt, _ = shop
    api.post(ORDERS, order_body(stage="confirmed"))

    response = stage_of(api, "SO-1001", "cancelled")

    assert response.status_code == 200
    assert response.json()["stage"] == "cancelled"
    assert line_of(shirt, warehouse).reserved == d(0)


def test_repeating_a_stage_answers_200_and_changes_nothing(api, shop):
    warehouse, shirt, _ = shop
    api.post(ORDERS, order_body(stage="confirmed"))

    response = stage_of(api, "SO-1001", "confirmed")

    assert response.status_code == 200
    assert line_of(shirt, warehouse).reserved == d(2)
    assert Order.objects.get().stage_changes.count() == 1


def test_an_impossible_stage_change_is_a_409(api, shop):
    api.post(ORDERS, order_body(stage="shipped"))

    response = stage_of(api, "SO-1001", "cancelled")

    assert response.status_code == 409
    body = response.json()
    assert body["details"] == {
        "code": "illegal_stage_change",
        "stage": "shipped",
        "requested": "cancelled",
    }
    assert "record a return instead" in body["error"]


def test_confirming_without_stock_is_a_409_and_the_order_stays_new(api, shop):
    api.post(ORDERS, order_body(**{"MUG": 6}))

    response = stage_of(api, "SO-1001", "confirmed")

    assert response.status_code == 409
    assert response.json()["details"]["code"] == "insufficient_stock"
    assert Order.objects.get().stage == Stage.NEW


def test_an_unknown_order_is_a_404(api, shop):
    response = stage_of(api, "SO-404", "confirmed")

    assert response.status_code == 404
    assert response.json()["details"]["code"] == "not_found"
    assert api.get(f"{ORDERS}/SO-404").status_code == 404


def test_a_reference_with_a_hash_works_in_the_url(api, shop):
    api.post(ORDERS, order_body(reference="#1001"))

    response = api.post("/api/v1/orders/%231001/stage", {"stage": "confirmed"})

    assert response.status_code == 200
    assert response.json()["reference"] == "#1001"


def test_get_an_order_returns_it(api, shop):
    api.post(ORDERS, order_body(stage="confirmed"))

    response = api.get(f"{ORDERS}/SO-1001")

    assert response.status_code == 200
    assert response.json()["stage"] == "confirmed"


def test_the_stage_change_records_the_token_and_its_user(api, shop, merchant):
    api.post(ORDERS, order_body())
    stage_of(api, "SO-1001", "confirmed")

    change = Order.objects.get().stage_changes.last()

    assert change.user == merchant
    assert change.api_token == merchant.api_tokens.get().label


def test_a_user_without_reserve_stock_cannot_post_orders_or_move_them(shop):
    accountant = client_for(UserFactory(role="Accountant"))

    response = accountant.post(ORDERS, order_body())

    assert response.status_code == 403
    assert response.json()["details"]["code"] == "forbidden"
    assert "inventory.reserve_stock" in response.json()["error"]
    assert stage_of(accountant, "SO-1001", "confirmed").status_code == 403
    assert not Order.objects.exists()


def test_staff_limited_to_one_warehouse_cannot_order_from_another(shop):
    lyon = WarehouseFactory(code="LYO")
    limited = UserFactory(role="Merchant")
    lyon.assigned_staff.add(limited)
    shop_api = client_for(limited)

    response = shop_api.post(ORDERS, order_body())

    assert response.status_code == 403
    assert response.json()["details"]["code"] == "forbidden"
    assert not Order.objects.exists()


def test_staff_limited_to_one_warehouse_cannot_move_an_order_of_another(api, shop):
    api.post(ORDERS, order_body())
    lyon = WarehouseFactory(code="LYO")
    limited = UserFactory(role="Merchant")
    lyon.assigned_staff.add(limited)

    response = stage_of(client_for(limited), "SO-1001", "confirmed")

    assert response.status_code == 403
    assert Order.objects.get().stage == Stage.NEW
