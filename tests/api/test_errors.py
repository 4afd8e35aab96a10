"""Every bad request gets the contract's JSON error with the right status, never HTML or a 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import http, parsing
from inventory.services.errors import MSG_FRACTION, MSG_NOT_POSITIVE, MSG_TOO_LARGE
from orders.models import Order
from tests.factories import VariantFactory
from tests.helpers import d, line_of, receive

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"
INVENTORY = "/api/v1/inventory"


@pytest.fixture
def shop(warehouse):
    warehouse.code = "PAR"
    warehouse.save()
    shirt = VariantFactory(sku="TSHIRT-M")
    receive(shirt, warehouse, 10)
    return warehouse, shirt


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "details"}
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["details"], dict)
    if code is not None:
        assert body["details"]["code"] == code
    return body


def order(**changes) -> dict:
    body = {"reference": "SO-1", "warehouse": "PAR", "lines": [{"sku": "TSHIRT-M", "quantity": 1}]}
    body.update(changes)
    return body


def line(sku="TSHIRT-M", **changes) -> dict:
    return order(lines=[{"sku": sku, "quantity": 1, **changes}])


# --- transport: body, content type, method, path ----------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{", "malformed_json"),
        # The test client sends no Content-Type without a body: either 400 will do.
        ("", None),
        ("not json", "malformed_json"),
        ('{"reference": "SO-1",}', "malformed_json"),
        ("[1, 2]", "not_an_object"),
        ('"text"', "not_an_object"),
        ("null", "not_an_object"),
        ('{"lines": [{"sku": "TSHIRT-M", "quantity": NaN}]}', "malformed_json"),
        ('{"lines": [{"sku": "TSHIRT-M", "quantity": Infinity}]}', "malformed_json"),
        ('{"lines": [{"sku": "TSHIRT-M", "quantity": ' + "9" * 5000 + "}]}", "malformed_json"),
        ("[" * 100_000 + "]" * 100_000, "malformed_json"),
        (b"\xff\xfe{}", "malformed_json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(api, shop, raw, code):
    response = api.post(ORDERS, raw=raw)
    body = assert_json_error(response, 400, code)
    if code is not None:
        assert body["error"] in (http.MSG_MALFORMED_JSON, http.MSG_NOT_AN_OBJECT)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_a_body_that_is_not_declared_json_is_a_400(api, shop, content_type):
    response = api.post(ORDERS, order(), content_type=content_type)
    body = assert_json_error(response, 400, "unsupported_content_type")
    assert body["error"] == http.MSG_NOT_JSON
    assert not Order.objects.exists()


def test_json_with_a_charset_or_a_json_suffix_is_accepted(api, shop):
    assert (
        api.post(ORDERS, order(), content_type="application/json; charset=utf-8").status_code == 201
    )
    assert (
        api.post(
            ORDERS, order(reference="SO-2"), content_type="application/vnd.shop+json"
        ).status_code
        == 201
    )


def test_a_body_over_the_size_limit_is_a_400(api, shop, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = order(note="x" * 2000)
    assert_json_error(api.post(ORDERS, body), 400, "body_too_large")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("post", INVENTORY, "GET"),
        ("put", INVENTORY, "GET"),
        ("delete", INVENTORY, "GET"),
        ("get", ORDERS, "POST"),
        ("put", ORDERS, "POST"),
        ("patch", ORDERS, "POST"),
        ("get", f"{ORDERS}/SO-1/stage", "POST"),
        ("delete", f"{ORDERS}/SO-1", "GET"),
    ],
)
def test_a_wrong_method_is_a_405_in_json_with_allow(api, shop, method, path, allow):
    response = api.call(method, path)
    body = assert_json_error(response, 405, "method_not_allowed")
    assert response["Allow"] == allow
    assert allow in body["error"]


@pytest.mark.parametrize(
    "path", ["/api/v1/", "/api/v1/nope", "/api/v1/orders/SO-1/stage/extra", "/api/v1/inventory/x"]
)
def test_an_unknown_api_path_is_a_404_in_json(api, path):
    assert_json_error(api.get(path), 404, "not_found")


def test_a_trailing_slash_is_accepted(api, shop):
    assert api.get(f"{INVENTORY}/").status_code == 200
    assert api.post(f"{ORDERS}/", order()).status_code == 201


# --- fields -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"warehouse": "PAR", "lines": []}, "reference", parsing.MSG_REQUIRED),
        (order(reference=12), "reference", parsing.MSG_NOT_TEXT),
        (order(reference="SO 1"), "reference", None),
        (order(reference="x" * 65), "reference", None),
        (order(warehouse=None), "warehouse", parsing.MSG_REQUIRED),
        (order(warehouse=["PAR"]), "warehouse", parsing.MSG_NOT_TEXT),
        (order(warehouse="NOPE"), "warehouse", parsing.MSG_UNKNOWN_WAREHOUSE % {"code": "NOPE"}),
        (order(lines=[]), "lines", parsing.MSG_NOT_A_LIST),
        (order(lines={"sku": "TSHIRT-M"}), "lines", parsing.MSG_NOT_A_LIST),
        (order(lines=[{"sku": "TSHIRT-M", "quantity": 1}] * 501), "lines", None),
        (order(lines=["TSHIRT-M"]), "lines[0]", parsing.MSG_LINE_NOT_OBJECT),
        (line(sku="NOPE"), "lines[0].sku", parsing.MSG_UNKNOWN_SKU % {"sku": "NOPE"}),
        (line(sku=None), "lines[0].sku", parsing.MSG_REQUIRED),
        (line(sku=5), "lines[0].sku", parsing.MSG_NOT_TEXT),
        (line(quantity=None), "lines[0].quantity", parsing.MSG_REQUIRED),
        (line(quantity=True), "lines[0].quantity", parsing.MSG_QUANTITY_TYPE),
        (line(quantity=[1]), "lines[0].quantity", parsing.MSG_QUANTITY_TYPE),
        (line(quantity={"value": 1}), "lines[0].quantity", parsing.MSG_QUANTITY_TYPE),
        (line(quantity=0), "lines[0].quantity", MSG_NOT_POSITIVE),
        (line(quantity=-3), "lines[0].quantity", MSG_NOT_POSITIVE),
        (
            line(quantity="1.5"),
            "lines[0].quantity",
            MSG_FRACTION % {"sku": "TSHIRT-M", "quantity": "1.5"},
        ),
        (line(quantity="0.0001"), "lines[0].quantity", None),
        (line(quantity="abc"), "lines[0].quantity", None),
        (line(quantity="1e400"), "lines[0].quantity", MSG_TOO_LARGE),
        (line(quantity=10**30), "lines[0].quantity", MSG_TOO_LARGE),
        (line(quantity="12345678901234567890123456789.0001"), "lines[0].quantity", MSG_TOO_LARGE),
        (order(stage="paid"), "stage", None),
        (order(stage="cancelled"), "stage", None),
    ],
)
def test_bad_order_fields_are_a_400_naming_the_field_and_change_nothing(
    api, shop, body, field, message
):
    warehouse, shirt = shop

    response = api.post(ORDERS, body)

    details = assert_json_error(response, 400)["details"]
    assert field in details.get("fields", {}) or details["code"] != "invalid", details
    if message is not None:
        assert details["fields"][field] == message
    assert not Order.objects.exists()
    assert line_of(shirt, warehouse).reserved == d(0)


def test_every_faulty_field_is_reported_at_once(api, shop):
    body = {"reference": "", "lines": [{"sku": "NOPE", "quantity": 1}, {"sku": "TSHIRT-M"}]}

    fields = assert_json_error(api.post(ORDERS, body), 400, "invalid")["details"]["fields"]

    assert set(fields) == {"reference", "warehouse", "lines[0].sku", "lines[1].quantity"}


def test_a_sku_twice_in_one_order_is_a_400(api, shop):
    body = order(lines=[{"sku": "TSHIRT-M", "quantity": 1}, {"sku": "tshirt-m", "quantity": 2}])
    assert_json_error(api.post(ORDERS, body), 400, "duplicate_sku")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "low-ish"}, "status"),
        ({"changed_since": "yesterday"}, "changed_since"),
        ({"changed_since": "2026-13-45T00:00:00Z"}, "changed_since"),
        ({"cursor": "forged"}, "cursor"),
        ({"cursor": "MTIz:forged"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "9" * 5000}, "limit"),
        ({"limit": "²"}, "limit"),
        ({"warehouse": "NOPE"}, "warehouse"),
    ],
)
def test_bad_inventory_queries_are_a_400_naming_the_parameter(api, shop, params, field):
    body = assert_json_error(api.get(INVENTORY, params), 400, "invalid")
    assert field in body["details"]["fields"]


def test_a_bad_stage_body_is_a_400(api, shop):
    api.post(ORDERS, order())
    for body in ({}, {"stage": ""}, {"stage": 3}, {"stage": "paid"}):
        assert_json_error(api.post(f"{ORDERS}/SO-1/stage", body), 400, "invalid")


def test_a_database_outage_is_a_503_in_json_not_a_500(api, shop, monkeypatch):
    from django.db import OperationalError

    def broken(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("api.views.inventory_page", broken)
    assert_json_error(api.get(INVENTORY), 503, "unavailable")


def test_an_unexpected_error_is_a_json_500_and_logged(api, shop, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("api.views.inventory_page", broken)
    assert_json_error(api.get(INVENTORY), 500, "internal_error")
    assert "API GET /api/v1/inventory failed" in caplog.text


# --- whatever the body: an answer from the contract -------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
order_like = st.fixed_dictionaries(
    {},
    optional={
        "reference": st.one_of(st.text(max_size=70), json_values),
        "warehouse": st.sampled_from(["PAR", "par", "", "NOPE"]) | json_values,
        "stage": st.sampled_from(["new", "confirmed", "shipped", "bogus"]) | json_values,
        "lines": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "sku": st.sampled_from(["TSHIRT-M", "tshirt-m", "NOPE", ""]) | json_values,
                    "quantity": st.sampled_from([1, "2", "0.5", -1, 0, "1e9", 10**20])
                    | json_values,
                },
            )
            | json_values,
            max_size=4,
        )
        | json_values,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=order_like)
def test_any_order_body_gets_a_contract_answer(api, shop, body):
    raw = json.dumps(body, default=str)

    response = api.post(ORDERS, raw=raw)

    assert response.status_code in {200, 201, 400, 403, 409}, response.content
    assert response["Content-Type"] == "application/json"
    if response.status_code >= 400:
        assert_json_error(response, response.status_code)
