"""Bad input on every form, upload and API endpoint: a clear message and a 4xx, never a 500;
afterwards no quantity changed and the ledger verifies.

The cases are counted (``CASES``) and the counts printed with ``-s``:
    pytest tests/security/test_bad_input.py -s | grep "bad input"
"""

import codecs
import json
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from inventory.models import CountLine, Movement
from inventory.uploads import MSG_DUPLICATE, MSG_NOT_UTF8, MSG_TOO_BIG
from tests.factories import UserFactory
from tests.security.conftest import (
    adjust_data,
    api_client_headers,
    assert_ledger_ok,
    build_site,
    client_as,
    expected_data,
    lock_data,
    reception_data,
    snapshot,
    transfer_data,
)

pytestmark = pytest.mark.django_db

CASES: Counter = Counter()

#: Not a quantity anywhere.
NOT_A_QUANTITY = [
    "",
    "   ",
    "abc",
    "1,5,0",
    "1.0001",
    "1e20",
    "100000000000000000000",
    "99999999999999999999.999",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "½",
    "<script>alert(1)</script>",
    "1; DROP TABLE inventory_movement;--",
    "' OR '1'='1",
    "1\x00",
    "9" * 1000,
]
#: Quantities refused where only positive ones make sense; 0.5 is a fraction of a piece.
NOT_POSITIVE = ["0", "-1", "-0.001", "0.5"]
NOT_A_SKU = ["", "NOPE-404", "<script>alert(1)</script>", "' OR 1=1--", "SEC-1\x00", "x" * 500]
NOT_A_WAREHOUSE = [
    "",
    "NOPE",
    "SEC-B",
    "<b>A</b>",
    "'; DROP TABLE warehouses_warehouse;--",
    "SEC-A\x00",
]


@pytest.fixture
def scoped(world):
    """A merchant (every permission) assigned to warehouse A: B is another warehouse."""
    user = UserFactory(username="bad-input", role="Merchant", is_staff=True)
    world.a.warehouse.assigned_staff.add(user)
    return client_as(user)


def refused(client, surface: str, path: str, data: dict, *, files=None) -> list[str]:
    """Post ``data``; return what went wrong (empty when it was refused as it should)."""
    before = snapshot()
    response = client.post(path, {**data, **(files or {})})
    CASES[surface] += 1
    problems = []
    if response.status_code != 400:
        problems.append(f"status {response.status_code}")
    if 'class="errorlist' not in response.content.decode() and "form-errors" not in (
        response.content.decode()
    ):
        problems.append("no error message")
    if snapshot() != before:
        problems.append("something changed")
    return [f"{surface} {data!r:.120}: {', '.join(problems)}"] if problems else []


def cases(world):
    """(surface, path, data) for every field of every stock form and every bad value."""
    sku, only_b, a = world.variant.sku, world.only_b.sku, world.a
    count = f"/inventory/counts/{a.count.pk}/"
    for value in NOT_A_QUANTITY:
        yield "adjust", "/inventory/adjust/", adjust_data(sku, "SEC-A", quantity=value)
        counted = adjust_data(sku, "SEC-A", mode="counted", quantity="", counted=value)
        yield "adjust", "/inventory/adjust/", counted
    for value in NOT_A_QUANTITY + NOT_POSITIVE:
        yield (
            "transfer",
            "/inventory/transfers/new/",
            transfer_data("SEC-A", "SEC-C", (sku, value)),
        )
        yield "lock", "/inventory/locks/new/", lock_data(sku, "SEC-A", quantity=value)
        reception = reception_data(world.supplier, "SEC-A", (sku, value))
        yield "reception", "/inventory/receptions/new/", reception
        expected = expected_data(world.supplier, "SEC-A", (sku, value))
        yield "expected reception", "/inventory/receptions/expected/new/", expected
    for value in ["abc", "-1", "1e20", "0.00001", "<script>"]:
        reception = reception_data(world.supplier, "SEC-A", (sku, "1"))
        reception["lines-0-unit_cost"] = value
        yield "reception", "/inventory/receptions/new/", reception
    for value in [v for v in NOT_A_QUANTITY if v.strip()] + ["-1", "0.5"]:
        yield "count entry", count, {"sku": sku, "counted": value}
    for value in [*NOT_A_QUANTITY[2:], "-1"]:
        yield (
            "count start",
            "/inventory/counts/",
            {"warehouse": "SEC-A", "scope": "all", "big_gap": value},
        )
    for value in [*NOT_A_SKU, only_b]:
        yield "adjust", "/inventory/adjust/", adjust_data(value, "SEC-A", quantity="-1")
        yield "lock", "/inventory/locks/new/", lock_data(value, "SEC-A")
        yield "transfer", "/inventory/transfers/new/", transfer_data("SEC-A", "SEC-C", (value, "1"))
        if value and value != only_b:  # a SKU found on A's shelf may be counted there
            yield "count entry", count, {"sku": value, "counted": "1"}
    for value in NOT_A_WAREHOUSE:
        yield "adjust", "/inventory/adjust/", adjust_data(sku, value)
        yield "lock", "/inventory/locks/new/", lock_data(sku, value)
        yield "transfer", "/inventory/transfers/new/", transfer_data(value, "SEC-A", (sku, "1"))
        yield "transfer", "/inventory/transfers/new/", transfer_data("SEC-A", value, (sku, "1"))
        yield (
            "reception",
            "/inventory/receptions/new/",
            reception_data(world.supplier, value, (sku, "1")),
        )
        yield (
            "count start",
            "/inventory/counts/",
            {"warehouse": value, "scope": "all", "big_gap": "5"},
        )
    # More than there is, a transfer to itself, no or an unknown reason, a note too long.
    yield "adjust", "/inventory/adjust/", adjust_data(sku, "SEC-A", quantity="-1000")
    yield "lock", "/inventory/locks/new/", lock_data(sku, "SEC-A", quantity="1000")
    yield "transfer", "/inventory/transfers/new/", transfer_data("SEC-A", "SEC-C", (sku, "1000"))
    yield "transfer", "/inventory/transfers/new/", transfer_data("SEC-A", "SEC-A", (sku, "1"))
    yield "adjust", "/inventory/adjust/", adjust_data(sku, "SEC-A", reason="")
    yield "adjust", "/inventory/adjust/", adjust_data(sku, "SEC-A", reason="<script>")
    yield "adjust", "/inventory/adjust/", adjust_data(sku, "SEC-A", note="x" * 5000)


@pytest.fixture
def world_c(world):
    """A third warehouse C the scoped user may also use (a valid transfer destination)."""
    site = build_site("SEC-C", world.variant, None, world.supplier)
    return site


def test_every_stock_form_refuses_bad_input_with_a_message_and_changes_nothing(
    world, world_c, scoped
):
    world_c.warehouse.assigned_staff.add(*world.a.warehouse.assigned_staff.all())
    problems = []
    for surface, path, data in cases(world):
        problems += refused(scoped, surface, path, data)
    assert problems == []
    assert_ledger_ok()
    print("bad input, forms:", dict(CASES), "total", sum(CASES.values()))


@pytest.mark.parametrize("stage", ["", "nonsense", "<script>alert(1)</script>", "new\x00"])
def test_the_order_stage_form_refuses_an_impossible_stage(world, merchant, stage):
    client = client_as(merchant)
    before = snapshot()
    response = client.post(f"/orders/{world.a.order.reference}/", {"stage": stage})
    CASES["order stage"] += 1
    assert response.status_code in {200, 400}
    assert 'class="errorlist' in response.content.decode()
    assert snapshot() == before


# --- Uploads -------------------------------------------------------------------------------

HEADER = "SKU,Counted quantity\n"


def upload_cases(world) -> list[tuple[str, bytes, str | None]]:
    """(name, file, message expected or None when the file is fine and read as meant)."""
    sku = world.variant.sku
    latin1 = f"SKU,Counted quantity\n{sku},3\nÉTÉ-1,2\n".encode("latin-1")
    return [
        ("empty", b"", None),
        ("blank", b"\n\n  \n", "The file is empty."),
        ("header only", HEADER.encode(), "The file has a header row but no lines."),
        ("duplicate SKUs", f"{HEADER}{sku},3\n{sku},4\n".encode(), MSG_DUPLICATE.split("%")[0]),
        ("latin-1", latin1, MSG_NOT_UTF8[:30]),
        ("UTF-16", (HEADER + f"{sku},3\n").encode("utf-16"), None),
        ("binary", bytes(range(256)) * 10, None),
        ("unknown SKU", f"{HEADER}NOPE-404,3\n".encode(), "unknown SKU"),
        ("negative", f"{HEADER}{sku},-3\n".encode(), None),
        ("not a number", f"{HEADER}{sku},abc\n".encode(), None),
        ("10^20", f"{HEADER}{sku},100000000000000000000\n".encode(), None),
        ("fraction of a piece", f"{HEADER}{sku},0.5\n".encode(), None),
        ("no SKU column", b"Name,Qty\nx,1\n", "no \u201cSKU\u201d column"),
        ("script", f"{HEADER}<script>alert(1)</script>,1\n".encode(), "unknown SKU"),
        ("SQL", f"{HEADER}'; DROP TABLE inventory_countline;--,1\n".encode(), "unknown SKU"),
        ("unbalanced quote", f'{HEADER}"{sku},1\n'.encode(), None),
    ]


#: Tricky but well-formed files: read as meant.
def good_upload_cases(world) -> list[tuple[str, bytes]]:
    sku = world.variant.sku
    return [
        ("BOM", codecs.BOM_UTF8 + f"{HEADER}{sku},7\n".encode()),
        ("semicolons", f"SKU;Counted quantity\n{sku};7\n".encode()),
        ("decimal comma", f"SKU;Counted quantity\n{sku};7,000\n".encode()),
        ("blank lines", f"\n{HEADER}\n{sku},7\n\n\n".encode()),
        ("CRLF", f"SKU,Counted quantity\r\n{sku},7\r\n".encode()),
    ]


def post_count_file(client, world, data: bytes):
    return client.post(
        f"/inventory/counts/{world.a.count.pk}/",
        {"form": "upload", "file": SimpleUploadedFile("sheet.csv", data)},
    )


def test_every_bad_count_sheet_is_refused_with_a_message(world, scoped):
    problems = []
    for name, data, message in upload_cases(world):
        before, counted = snapshot(), list(CountLine.objects.values_list("pk", "counted"))
        response = post_count_file(scoped, world, data)
        CASES["count upload"] += 1
        html = response.content.decode()
        if response.status_code != 400 or 'class="errorlist' not in html:
            problems.append((name, response.status_code))
        elif message and message not in html:
            problems.append((name, "message", message))
        if snapshot() != before or list(CountLine.objects.values_list("pk", "counted")) != counted:
            problems.append((name, "changed"))
    assert problems == []


def test_well_formed_count_sheets_are_read_as_meant(world, scoped):
    line = CountLine.objects.get(session=world.a.count, variant=world.variant)
    for name, data in good_upload_cases(world):
        CountLine.objects.filter(pk=line.pk).update(counted=None)
        response = post_count_file(scoped, world, data)
        CASES["count upload"] += 1
        assert response.status_code == 302, (name, response.content.decode()[-2000:])
        line.refresh_from_db()
        assert line.counted == 7, name


def test_a_50_mb_upload_gets_a_form_error_not_a_500(world, scoped):
    big = HEADER.encode() + (f"{world.variant.sku},1\n".encode() * (50 * 1024 * 1024 // 8))
    assert len(big) >= 50 * 1024 * 1024
    before = snapshot()
    for path, data in (
        (f"/inventory/counts/{world.a.count.pk}/", {"form": "upload"}),
        ("/inventory/receptions/new/", reception_data(world.supplier, "SEC-A", action="preview")),
    ):
        response = scoped.post(
            path,
            {
                **data,
                ("file" if "counts" in path else "upload"): SimpleUploadedFile("big.csv", big),
            },
        )
        CASES["50 MB upload"] += 1
        assert response.status_code == 400, path
        assert MSG_TOO_BIG % {"limit": 20} in response.content.decode(), path
    assert snapshot() == before


def test_bad_reception_files_are_refused(world, scoped):
    problems = []
    for name, data, _ in upload_cases(world):
        if name in {"negative", "not a number", "10^20", "fraction of a piece"}:
            data = data.replace(b"Counted quantity", b"Quantity")
        data = data.replace(b"Counted quantity", b"Quantity")
        before = snapshot()
        response = scoped.post(
            "/inventory/receptions/new/",
            {
                **reception_data(world.supplier, "SEC-A"),
                "upload": SimpleUploadedFile("lines.csv", data),
            },
        )
        CASES["reception upload"] += 1
        if response.status_code != 400 or 'class="errorlist' not in response.content.decode():
            problems.append((name, response.status_code))
        if snapshot() != before:
            problems.append((name, "changed"))
    assert problems == []


# --- Names and notes are escaped on output ----------------------------------------------

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_html_in_notes_and_names_is_escaped_on_every_page(world, merchant):
    client = client_as(merchant)
    world.variant.product.name = SCRIPT
    world.variant.product.save()
    response = client.post(
        "/inventory/adjust/",
        adjust_data(world.variant.sku, "SEC-A", note=SCRIPT, reference='=HYPERLINK("x")'),
    )
    assert response.status_code == 302
    CASES["escaping"] += 1
    for path in (
        "/inventory/",
        f"/inventory/sku/{world.variant.sku}/",
        "/movements/",
        "/inventory/at/?at=2030-01-01T00:00:00Z",
        "/admin/inventory/movement/",
        "/admin/inventory/stockline/",
    ):
        html = client.get(path).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, path
        if not path.startswith("/admin/inventory/movement/"):  # it shows neither
            assert "&lt;script&gt;" in html, path
    csv_text = b"".join(client.get("/movements/export.csv").streaming_content).decode()
    assert "'=HYPERLINK" in csv_text


# --- The API ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["SEC-1", "SEC-A", "SEC-B", "ORD-SEC-A", "1e20", "-1", "0.5", "1.0001"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
order_bodies = (
    st.fixed_dictionaries(
        {},
        optional={
            "reference": json_values,
            "warehouse": json_values,
            "lines": st.lists(
                st.fixed_dictionaries({}, optional={"sku": json_values, "quantity": json_values}),
                max_size=3,
            )
            | json_values,
        },
    )
    | json_values
)


class TestApiBodies(HypothesisTestCase):
    """Any JSON body, of any shape: a JSON error with a 4xx, nothing changed."""

    @classmethod
    def setUpTestData(cls):
        from orders.models import PipelineSettings
        from tests.factories import SupplierFactory, VariantFactory

        PipelineSettings.load()
        supplier = SupplierFactory()
        variant = VariantFactory(sku="SEC-1")
        build_site("SEC-A", variant, None, supplier)
        user = UserFactory(username="api-bad", role="Merchant")
        cls.headers = api_client_headers(user)

    def post(self, path, raw):
        response = Client().post(path, raw, content_type="application/json", headers=self.headers)
        CASES["api"] += 1
        assert 400 <= response.status_code < 500, (path, raw, response.status_code)
        body = json.loads(response.content)
        assert isinstance(body["error"], str) and body["error"]
        assert isinstance(body["details"], dict)
        return response

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=order_bodies)
    def test_any_order_body_is_refused_cleanly(self, body):
        # A valid order would be created: these bodies lack a valid quantity or reference.
        before = Movement.objects.count(), snapshot()["orders"]
        response = self.post("/api/v1/orders", json.dumps(body))
        assert response.status_code != 201
        assert (Movement.objects.count(), snapshot()["orders"]) == before

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=json_values)
    def test_any_stage_body_is_refused_cleanly(self, body):
        before = snapshot()
        self.post("/api/v1/orders/ORD-SEC-A/stage", json.dumps({"stage": body}))
        self.post("/api/v1/orders/ORD-SEC-A/stage", json.dumps(body))
        assert snapshot() == before

    def test_bodies_that_are_not_json(self):
        for raw in [b"", b"{", b"\xff\xfe\x00", "{'a': 1}", "[]" * 10000, '{"a":' * 5000, b"null"]:
            self.post("/api/v1/orders", raw)
        big = json.dumps({"reference": "X" * (3 * 1024 * 1024)})
        self.post("/api/v1/orders", big)

    def test_bad_query_strings_on_the_inventory(self):
        client = Client()
        for query in (
            {"changed_since": "yesterday"},
            {"changed_since": "2030-13-45T99:00:00"},
            {"status": "<script>"},
            {"warehouse": "'; DROP TABLE x;--"},
            {"cursor": "!!!"},
            {"limit": "-1"},
        ):
            response = client.get("/api/v1/inventory", query, headers=self.headers)
            CASES["api"] += 1
            assert response.status_code < 500, query
            if response.status_code >= 400:
                assert "error" in json.loads(response.content)


NUL_QUERIES = {
    name: "SEC\x00"
    for name in ("q", "sku", "warehouse", "status", "reference", "user", "type", "reason")
}


def test_a_nul_byte_in_any_query_string_is_not_a_500(world, admin_user):
    """PostgreSQL refuses NUL in text: every filter must turn it into a clear 4xx or no match."""
    from tests.security.conftest import project_routes

    client = client_as(admin_user)
    wrong = []
    for route in project_routes():
        if route.path.startswith("/api/") or "logout" in route.path:
            continue
        query = {"q": "SEC\x00"} if route.path.startswith("/admin/") else NUL_QUERIES
        response = client.get(route.path, query)
        CASES["NUL in query"] += 1
        if response.status_code >= 500:
            wrong.append((route.name, route.path))
    assert wrong == []


def test_zz_report_the_number_of_cases():
    print("bad input cases:", dict(CASES), "total", sum(CASES.values()))
