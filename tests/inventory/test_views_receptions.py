"""/inventory/receptions/: expected receptions, deliveries typed, scanned or uploaded."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from inventory.forms.receptions import MSG_LINES_AND_FILE, MSG_NO_LINES
from inventory.ledger import verify_ledger
from inventory.models import (
    ExpectedReception,
    ExpectedReceptionStatus,
    Movement,
    MovementReason,
    Reception,
)
from inventory.services import StockQuantity, expected_reception_create
from tests.factories import SupplierFactory, UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of

pytestmark = pytest.mark.django_db

URL = "/inventory/receptions/new/"


@pytest.fixture
def staff(client):
    user = UserFactory(role="Warehouse staff")
    client.force_login(user)
    return user


@pytest.fixture
def supplier():
    return SupplierFactory(name="Atelier")


def lines_data(*lines):
    data = {"lines-TOTAL_FORMS": str(len(lines) + 1), "lines-INITIAL_FORMS": "0"}
    for index, line in enumerate(lines):
        sku, quantity, *cost = line
        data[f"lines-{index}-sku"] = sku
        data[f"lines-{index}-quantity"] = quantity
        data[f"lines-{index}-unit_cost"] = cost[0] if cost else ""
    return data


def post(client, supplier, warehouse, *lines, action="apply", upload=None, **fields):
    data = {
        "expected_reception": "",
        "supplier": supplier.pk,
        "warehouse": warehouse.code,
        "delivery_note": "DN-100",
        "note": "",
        "action": action,
    }
    data.update(lines_data(*lines))
    data.update(fields)
    if upload is not None:
        data["upload"] = SimpleUploadedFile("lines.csv", upload)
    return client.post(URL, data)


def test_the_form_has_the_contract_labels_and_sku_prefills_a_line(client, staff, variant):
    html = client.get(URL, {"sku": variant.sku}).content.decode()

    for label in ("SKU", "Quantity", "Warehouse", "Note"):
        assert f">{label}</label>" in html
    assert f'name="lines-0-sku" value="{variant.sku}"' in html


def test_an_ad_hoc_delivery_enters_every_line_with_supplier_and_delivery_note(
    client, staff, supplier, warehouse
):
    shirt, mug = VariantFactory(), VariantFactory()

    response = post(client, supplier, warehouse, (shirt.sku, "3", "4.50"), (mug.sku, "2"))

    reception = Reception.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reception.get_absolute_url()
    movements = Movement.objects.filter(operation=reception.operation)
    assert {m.reference for m in movements} == {"Atelier / DN-100"}
    assert {m.reason for m in movements} == {MovementReason.SUPPLIER_RECEPTION}
    assert line_of(shirt, warehouse).on_hand == d(3)
    assert movements.get(stock_line__variant=shirt).unit_cost == Decimal("4.5000")
    assert verify_ledger().ok


def test_the_check_shows_received_against_expected_and_writes_nothing(
    client, staff, supplier, warehouse
):
    ordered, missing, stranger = VariantFactory(), VariantFactory(), VariantFactory()
    order = expected_reception_create(
        supplier=supplier,
        warehouse=warehouse,
        reference="PO-1",
        lines=[StockQuantity(ordered, 10), StockQuantity(missing, 5)],
    )

    response = post(
        client,
        supplier,
        warehouse,
        (ordered.sku, "12"),
        (stranger.sku, "1"),
        action="preview",
        expected_reception=order.pk,
    )

    rows = {row.sku: row for row in response.context["preview"]}
    assert (rows[ordered.sku].state, rows[ordered.sku].difference) == ("over", d(2))
    assert rows[stranger.sku].state == "unexpected"
    assert (rows[missing.sku].state, rows[missing.sku].received) == ("short", 0)
    assert response.context["form"].over
    assert b"Receive more than expected" in response.content
    assert Movement.objects.count() == 0


def test_an_over_reception_needs_the_confirmation(client, staff, supplier, warehouse, variant):
    order = expected_reception_create(
        supplier=supplier, warehouse=warehouse, reference="PO-2", lines=[StockQuantity(variant, 4)]
    )

    refused = post(client, supplier, warehouse, (variant.sku, "6"), expected_reception=order.pk)
    assert refused.status_code == 400
    assert "accept_over" in refused.context["form"].errors
    assert Movement.objects.count() == 0

    post(
        client,
        supplier,
        warehouse,
        (variant.sku, "6"),
        expected_reception=order.pk,
        accept_over="on",
    )
    line = line_of(variant, warehouse)
    assert (line.on_hand, line.incoming) == (d(6), d(0))
    order.refresh_from_db()
    assert order.status == ExpectedReceptionStatus.RECEIVED


def test_a_partial_delivery_leaves_the_rest_incoming(client, staff, supplier, warehouse, variant):
    order = expected_reception_create(
        supplier=supplier, warehouse=warehouse, reference="PO-3", lines=[StockQuantity(variant, 10)]
    )

    post(client, supplier, warehouse, (variant.sku, "4"), expected_reception=order.pk)

    line = line_of(variant, warehouse)
    assert (line.on_hand, line.incoming) == (d(4), d(6))
    assert verify_ledger().ok


def test_the_order_gives_its_supplier_and_warehouse(client, staff, supplier, warehouse, variant):
    order = expected_reception_create(
        supplier=supplier, warehouse=warehouse, reference="PO-4", lines=[StockQuantity(variant, 2)]
    )

    page = client.get(URL, {"expected": order.pk})
    client.post(
        URL,
        {
            "expected_reception": order.pk,
            "supplier": "",
            "warehouse": "",
            "delivery_note": "DN-7",
            "action": "apply",
            **lines_data((variant.sku, "2")),
        },
    )

    assert page.context["form"].initial["warehouse"] == warehouse.code
    assert line_of(variant, warehouse).on_hand == d(2)


def test_an_uploaded_csv_is_checked_then_received_from_the_carried_lines(
    client, staff, supplier, warehouse
):
    shirt, mug = VariantFactory(), VariantFactory(by_weight=True)
    csv = f"\ufeffSKU;Quantity;Unit cost\r\n{shirt.sku};3;2,50\r\n\r\n{mug.sku};1,5;\r\n"

    checked = post(client, supplier, warehouse, action="preview", upload=csv.encode())

    assert checked.status_code == 200
    assert [row.received for row in checked.context["preview"]] == [d(3), d("1.5")]
    carried = checked.context["form"].data["uploaded"]
    assert f'name="uploaded" value="{escape(carried)}"' in checked.content.decode()
    assert Movement.objects.count() == 0

    post(client, supplier, warehouse, uploaded=carried)

    assert line_of(shirt, warehouse).on_hand == d(3)
    assert line_of(mug, warehouse).on_hand == d("1.5")
    assert verify_ledger().ok


def test_every_problem_in_an_upload_is_reported_with_its_line_and_nothing_is_written(
    client, staff, supplier, warehouse, variant
):
    csv = f"SKU,Quantity\n{variant.sku},2\nNOPE,1\n{variant.sku},3\n\n{VariantFactory().sku},abc\n"

    response = post(client, supplier, warehouse, upload=csv.encode())

    assert response.status_code == 400
    errors = response.context["form"].errors["upload"]
    assert errors == [
        "Line 3: unknown SKU “NOPE”.",
        f"Line 4: SKU {variant.sku} is already on line 2.",
        "Line 6, quantity “abc”: Enter a number, such as 12 or 2.5.",
    ]
    assert Movement.objects.count() == 0


def test_a_file_in_another_encoding_is_refused_clearly(client, staff, supplier, warehouse):
    csv = "SKU,Quantity\nCAFÉ,1\n".encode("latin-1")

    response = post(client, supplier, warehouse, upload=csv)

    assert response.context["form"].errors["upload"] == [
        "The file is not UTF-8 text (line 2): save it as “CSV UTF-8” from your spreadsheet "
        "and upload it again."
    ]


def test_typed_lines_and_a_file_together_are_refused(client, staff, supplier, warehouse, variant):
    response = post(
        client,
        supplier,
        warehouse,
        (variant.sku, "1"),
        upload=f"SKU,Quantity\n{variant.sku},1\n".encode(),
    )

    assert response.context["form"].errors["upload"] == [MSG_LINES_AND_FILE]


def test_a_delivery_needs_lines_and_a_delivery_note(client, staff, supplier, warehouse):
    response = post(client, supplier, warehouse, delivery_note="")

    form = response.context["form"]
    assert response.status_code == 400
    assert form.non_field_errors() == [MSG_NO_LINES]
    assert "delivery_note" in form.errors


def test_registering_and_closing_an_expected_reception(client, staff, supplier, warehouse, variant):
    data = {
        "supplier": supplier.pk,
        "warehouse": warehouse.code,
        "reference": "PO-9",
        "expected_on": "2026-12-01",
        "note": "",
        "action": "apply",
        **lines_data((variant.sku, "8", "3.20")),
    }

    created = client.post("/inventory/receptions/expected/new/", data)
    order = ExpectedReception.objects.get(reference="PO-9")
    assert created["Location"] == order.get_absolute_url()
    assert line_of(variant, warehouse).incoming == d(8)
    assert client.get("/inventory/receptions/").status_code == 200

    client.post(f"/inventory/receptions/expected/{order.pk}/close/")

    order.refresh_from_db()
    assert order.status == ExpectedReceptionStatus.CLOSED
    assert line_of(variant, warehouse).incoming == d(0)
    assert verify_ledger().ok


def test_the_same_order_reference_twice_is_refused_on_the_reference(
    client, staff, supplier, warehouse, variant
):
    expected_reception_create(
        supplier=supplier, warehouse=warehouse, reference="PO-5", lines=[StockQuantity(variant, 1)]
    )
    data = {
        "supplier": supplier.pk,
        "warehouse": warehouse.code,
        "reference": "PO-5",
        "action": "apply",
        **lines_data((variant.sku, "1")),
    }

    response = client.post("/inventory/receptions/expected/new/", data)

    assert response.status_code == 400
    assert response.context["form"].errors["reference"] == [
        "Atelier already has an expected reception with reference PO-5."
    ]


def test_receptions_of_another_warehouse_are_not_shown_to_assigned_staff(client, supplier, variant):
    mine, theirs = WarehouseFactory(), WarehouseFactory()
    user = UserFactory(role="Warehouse staff")
    mine.assigned_staff.add(user)
    order = expected_reception_create(
        supplier=supplier, warehouse=theirs, reference="PO-6", lines=[StockQuantity(variant, 1)]
    )
    client.force_login(user)

    listing = client.get("/inventory/receptions/")

    assert list(listing.context["open_orders"]) == []
    assert client.get(order.get_absolute_url()).status_code == 404
    assert client.post(f"/inventory/receptions/expected/{order.pk}/close/").status_code == 404


def test_an_accountant_may_not_receive(client, supplier, warehouse, variant):
    client.force_login(UserFactory(role="Accountant"))

    assert post(client, supplier, warehouse, (variant.sku, "1")).status_code == 403
    assert Movement.objects.count() == 0
