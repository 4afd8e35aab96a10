"""/inventory/transfers/new/: one operation across two warehouses, never more than available."""

import pytest

from inventory.forms.lines import MSG_NO_LINES
from inventory.ledger import verify_ledger
from inventory.models import Movement, MovementReason, StockLine
from inventory.services.errors import MSG_SAME_WAREHOUSE
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = pytest.mark.django_db

URL = "/inventory/transfers/new/"


@pytest.fixture
def staff(client):
    user = UserFactory(role="Warehouse staff")
    client.force_login(user)
    return user


def lines_data(*lines):
    data = {"lines-TOTAL_FORMS": str(len(lines) + 1), "lines-INITIAL_FORMS": "0"}
    for index, (sku, quantity) in enumerate(lines):
        data[f"lines-{index}-sku"] = sku
        data[f"lines-{index}-quantity"] = quantity
    return data  # plus one empty row, as the page sends


def post(client, source, destination, *lines, action="apply", **fields):
    data = {
        "source": source.code,
        "destination": destination.code,
        "reference": "TR-1",
        "note": "",
        "action": action,
    }
    data.update(lines_data(*lines))
    data.update(fields)
    return client.post(URL, data)


def total_on_hand(variant):
    return sum(StockLine.objects.filter(variant=variant).values_list("on_hand", flat=True))


def test_the_form_has_the_contract_labels(client, staff):
    html = client.get(URL).content.decode()

    for label in ("From warehouse", "To warehouse", "SKU", "Quantity", "Reference", "Note"):
        assert f">{label}</label>" in html


def test_a_transfer_moves_stock_and_keeps_the_total_unchanged(
    client, staff, warehouse, other_warehouse
):
    shirt, mug = VariantFactory(), VariantFactory()
    receive(shirt, warehouse, 10)
    receive(mug, warehouse, 4)

    response = post(client, warehouse, other_warehouse, (shirt.sku, "3"), (mug.sku, "4"))

    assert response.status_code == 302
    assert (line_of(shirt, warehouse).on_hand, line_of(shirt, other_warehouse).on_hand) == (
        d(7),
        d(3),
    )
    assert line_of(mug, other_warehouse).on_hand == d(4)
    assert (total_on_hand(shirt), total_on_hand(mug)) == (d(10), d(4))
    movements = Movement.objects.filter(reference="TR-1")
    assert {m.reason for m in movements} == {
        MovementReason.TRANSFER_IN,
        MovementReason.TRANSFER_OUT,
    }
    assert len({m.operation for m in movements}) == 1
    assert verify_ledger().ok


def test_the_preview_shows_both_warehouses_and_writes_nothing(
    client, staff, variant, warehouse, other_warehouse
):
    receive(variant, warehouse, 10)

    response = post(client, warehouse, other_warehouse, (variant.sku, "3"), action="preview")

    line = response.context["preview"][0]
    assert (line.source.before.available, line.source.after.available) == (d(10), d(7))
    assert (line.destination.before.total, line.destination.after.total) == (d(0), d(3))
    assert Movement.objects.filter(reference="TR-1").count() == 0


def test_a_sku_scanned_twice_is_one_line_with_the_quantities_added(
    client, staff, warehouse, other_warehouse
):
    variant = VariantFactory(barcode="4006381333931")
    receive(variant, warehouse, 10)

    post(client, warehouse, other_warehouse, (variant.sku, "2"), ("4006381333931", "1"))

    assert line_of(variant, other_warehouse).on_hand == d(3)
    assert Movement.objects.filter(reference="TR-1").count() == 2


def test_taking_more_than_available_at_the_source_is_refused_and_nothing_moves(
    client, staff, warehouse, other_warehouse
):
    enough, short = VariantFactory(), VariantFactory()
    receive(enough, warehouse, 10)
    receive(short, warehouse, 2)

    response = post(client, warehouse, other_warehouse, (enough.sku, "5"), (short.sku, "3"))

    assert response.status_code == 400
    form = response.context["form"]
    assert form.lines.forms[1].errors["quantity"] == [
        f"Not enough stock of {short.sku} in {warehouse.code}: 1.000 short "
        "(2.000 available, 3.000 requested)."
    ]
    assert line_of(enough, warehouse).on_hand == d(10)
    assert not StockLine.objects.filter(warehouse=other_warehouse, on_hand__gt=0).exists()


def test_the_same_warehouse_twice_is_refused(client, staff, variant, warehouse):
    receive(variant, warehouse, 10)

    response = post(client, warehouse, warehouse, (variant.sku, "1"))

    assert response.status_code == 400
    assert response.context["form"].errors["destination"] == [MSG_SAME_WAREHOUSE]


def test_a_transfer_needs_lines(client, staff, warehouse, other_warehouse):
    response = post(client, warehouse, other_warehouse)

    assert response.status_code == 400
    assert response.context["form"].lines.non_form_errors() == [MSG_NO_LINES]


def test_a_line_without_quantity_is_refused(client, staff, variant, warehouse, other_warehouse):
    response = post(client, warehouse, other_warehouse, (variant.sku, ""))

    assert response.status_code == 400
    assert response.context["form"].lines.forms[0].errors["quantity"] == ["Enter the quantity."]


def test_staff_cannot_transfer_from_a_warehouse_they_are_not_assigned_to(client, variant):
    mine, theirs = WarehouseFactory(), WarehouseFactory()
    user = UserFactory(role="Warehouse staff")
    mine.assigned_staff.add(user)
    client.force_login(user)
    receive(variant, theirs, 5)

    response = post(client, theirs, mine, (variant.sku, "1"))

    assert response.status_code == 400
    assert "source" in response.context["form"].errors
    assert line_of(variant, theirs).on_hand == d(5)


def test_an_accountant_may_not_transfer(client, variant, warehouse, other_warehouse):
    client.force_login(UserFactory(role="Accountant"))

    assert post(client, warehouse, other_warehouse, (variant.sku, "1")).status_code == 403
