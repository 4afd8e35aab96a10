"""/inventory/adjust/: preview, apply, every refusal next to its field, scope and permissions."""

import pytest

from inventory.forms.adjustments import MSG_NOTE_REQUIRED, MSG_QUANTITY_REQUIRED
from inventory.forms.fields import MSG_UNKNOWN_CODE
from inventory.ledger import verify_ledger
from inventory.models import AdjustmentReason, Movement, MovementReason, MovementType
from inventory.services import StockQuantity, stock_reserve
from inventory.services.errors import MSG_REASON_REQUIRED
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = pytest.mark.django_db

URL = "/inventory/adjust/"


@pytest.fixture
def staff(client):
    user = UserFactory(role="Warehouse staff")
    client.force_login(user)
    return user


def post(client, variant, warehouse, **fields):
    data = {
        "sku": variant.sku,
        "warehouse": warehouse.code,
        "mode": "change",
        "quantity": "",
        "counted": "",
        "reason": "breakage",
        "note": "Dropped a box",
        "reference": "",
        "action": "apply",
    }
    data.update(fields)
    return client.post(URL, data)


def test_the_form_has_the_contract_labels_and_is_prefilled_from_the_query(
    client, staff, variant, warehouse
):
    response = client.get(URL, {"sku": variant.sku, "warehouse": warehouse.code})

    html = response.content.decode()
    assert response.status_code == 200
    for label in (
        "SKU",
        "Warehouse",
        "Quantity",
        "Counted quantity",
        "Reason",
        "Note",
        "Reference",
    ):
        assert f">{label}</label>" in html
    assert f'value="{variant.sku}"' in html
    assert f'<option value="{warehouse.code}" selected>' in html


def test_preview_shows_before_and_after_and_writes_nothing(client, staff, variant, warehouse):
    receive(variant, warehouse, 10)
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(variant, 3)], reference="SO-1")

    response = post(client, variant, warehouse, quantity="-2", action="preview")

    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.before.available, preview.before.reserved, preview.before.total) == (
        d(7),
        d(3),
        d(10),
    )
    assert (preview.after.available, preview.after.total) == (d(5), d(8))
    assert b"Apply adjustment" in response.content
    assert Movement.objects.filter(type=MovementType.ADJUSTMENT).count() == 0


def test_applying_writes_one_adjustment_with_reason_note_and_reference(
    client, staff, variant, warehouse
):
    receive(variant, warehouse, 10)

    response = post(client, variant, warehouse, quantity="-2", reference="INC-7")

    assert response.status_code == 302
    assert response["Location"] == f"{URL}?sku={variant.sku}&warehouse={warehouse.code}"
    movement = Movement.objects.get(type=MovementType.ADJUSTMENT)
    assert (movement.quantity, movement.reason) == (d(-2), MovementReason.BREAKAGE)
    assert (movement.note, movement.reference, movement.created_by) == (
        "Dropped a box",
        "INC-7",
        staff,
    )
    assert line_of(variant, warehouse).on_hand == d(8)
    assert verify_ledger().ok


def test_an_adjustment_without_a_reason_is_refused_next_to_the_reason(
    client, staff, variant, warehouse
):
    receive(variant, warehouse, 10)

    response = post(client, variant, warehouse, quantity="-1", reason="")

    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == [MSG_REASON_REQUIRED]
    assert Movement.objects.filter(type=MovementType.ADJUSTMENT).count() == 0


def test_a_note_is_required(client, staff, variant, warehouse):
    receive(variant, warehouse, 10)

    response = post(client, variant, warehouse, quantity="-1", note="  ")

    assert response.status_code == 400
    assert response.context["form"].errors["note"] == [MSG_NOTE_REQUIRED]


def test_taking_more_than_available_is_refused_saying_by_how_much(
    client, staff, variant, warehouse
):
    receive(variant, warehouse, 5)
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(variant, 2)], reference="SO-2")

    response = post(client, variant, warehouse, quantity="-4")

    assert response.status_code == 400
    assert response.context["form"].errors["quantity"] == [
        f"Not enough stock of {variant.sku} in {warehouse.code}: 1.000 short "
        "(3.000 available, 4.000 requested)."
    ]
    assert line_of(variant, warehouse).on_hand == d(5)


def test_the_preview_warns_before_a_refusal(client, staff, variant, warehouse):
    receive(variant, warehouse, 5)

    response = post(client, variant, warehouse, quantity="-6", action="preview")

    assert response.context["preview"].refused
    assert response.context["preview"].shortfall == d(1)
    assert b"Apply adjustment" not in response.content


def test_a_counted_quantity_sets_the_line_to_it(client, staff, variant, warehouse):
    receive(variant, warehouse, 10)

    post(client, variant, warehouse, mode="counted", counted="7", reason="count_correction")

    assert line_of(variant, warehouse).on_hand == d(7)
    assert Movement.objects.get(type=MovementType.ADJUSTMENT).quantity == d(-3)


def test_a_quantity_is_required_in_its_mode(client, staff, variant, warehouse):
    response = post(client, variant, warehouse, quantity="")

    assert response.context["form"].errors["quantity"] == [MSG_QUANTITY_REQUIRED]


def test_a_fraction_of_a_piece_is_refused(client, staff, variant, warehouse):
    receive(variant, warehouse, 10)

    response = post(client, variant, warehouse, quantity="-1.5")

    assert response.status_code == 400
    assert response.context["form"].errors["quantity"] == [
        f"{variant.sku} is counted in whole pieces: -1.5 is not a whole number."
    ]


def test_a_scanned_barcode_finds_the_variant(client, staff, warehouse):
    variant = VariantFactory(barcode="3770000000123")
    receive(variant, warehouse, 4)

    post(client, variant, warehouse, sku="3770000000123", quantity="-1")

    assert line_of(variant, warehouse).on_hand == d(3)


def test_an_unknown_sku_is_refused_next_to_the_sku(client, staff, variant, warehouse):
    response = post(client, variant, warehouse, sku="NOPE-1", quantity="1")

    assert response.status_code == 400
    assert response.context["form"].errors["sku"] == [MSG_UNKNOWN_CODE % {"code": "NOPE-1"}]


def test_a_merchant_reason_is_filed_under_its_ledger_reason_and_named_in_the_note(
    client, staff, variant, warehouse
):
    theft = AdjustmentReason.objects.create(name="Theft", ledger_reason=MovementReason.LOSS)
    receive(variant, warehouse, 10)

    post(client, variant, warehouse, quantity="-1", reason=theft.choice_value, note="Shelf 4")

    movement = Movement.objects.get(type=MovementType.ADJUSTMENT)
    assert (movement.reason, movement.note) == (MovementReason.LOSS, "Theft: Shelf 4")


def test_a_reason_no_longer_offered_is_refused(client, staff, variant, warehouse):
    old = AdjustmentReason.objects.create(name="Old", is_active=False)
    receive(variant, warehouse, 10)

    response = post(client, variant, warehouse, quantity="-1", reason=old.choice_value)

    assert response.status_code == 400
    assert "reason" in response.context["form"].errors


def test_staff_cannot_adjust_another_warehouse_than_theirs(client, variant):
    mine, theirs = WarehouseFactory(), WarehouseFactory()
    user = UserFactory(role="Warehouse staff")
    mine.assigned_staff.add(user)
    client.force_login(user)
    receive(variant, theirs, 5)

    page = client.get(URL)
    response = post(client, variant, theirs, quantity="-1")

    assert theirs.code not in [
        option for option, _ in page.context["form"].fields["warehouse"].choices if option
    ]
    assert response.status_code == 400
    assert "warehouse" in response.context["form"].errors
    assert line_of(variant, theirs).on_hand == d(5)


def test_an_accountant_may_not_adjust(client, variant, warehouse):
    client.force_login(UserFactory(role="Accountant"))

    assert client.get(URL).status_code == 403
    assert post(client, variant, warehouse, quantity="1").status_code == 403
    assert Movement.objects.count() == 0


def test_the_page_costs_a_constant_number_of_queries(
    client, staff, warehouse, django_assert_max_num_queries
):
    for _ in range(20):
        AdjustmentReason.objects.create(name=f"Reason {_}")
    WarehouseFactory.create_batch(10)

    with django_assert_max_num_queries(12):
        client.get(URL)
