"""Expected receptions (Incoming) and receptions: every rule, every refusal, and the ledger."""

from decimal import Decimal

import pytest

from catalog.models import Variant
from inventory.ledger import verify_ledger
from inventory.models import (
    ExpectedReceptionStatus,
    Movement,
    MovementReason,
    MovementType,
    Reception,
    StockLine,
)
from inventory.services import (
    InvalidOperation,
    InvalidQuantity,
    OverReception,
    StockQuantity,
    expected_reception_close,
    expected_reception_create,
    reception_receive,
)
from inventory.services import receptions as reception_services
from tests.factories import ProductFactory, SupplierFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier():
    return SupplierFactory(name="Atelier Textile")


def order(supplier, warehouse, *lines, reference="PO-1"):
    return expected_reception_create(
        supplier=supplier,
        warehouse=warehouse,
        reference=reference,
        lines=[StockQuantity(variant, quantity, cost) for variant, quantity, cost in lines],
    )


def test_an_expected_reception_raises_incoming_and_nothing_else(supplier, warehouse, variant):
    order(supplier, warehouse, (variant, 10, Decimal("2.50")))

    line = line_of(variant, warehouse)
    assert line.incoming == d(10)
    assert line.on_hand == d(0)
    assert Movement.objects.count() == 0
    assert verify_ledger().ok


def test_receiving_part_of_an_order_leaves_the_rest_incoming(supplier, warehouse, variant):
    expected = order(supplier, warehouse, (variant, 10, None))

    reception = reception_receive(
        warehouse=warehouse,
        supplier=supplier,
        delivery_note="DN-77",
        lines=[StockQuantity(variant, 4, Decimal("2.40"))],
        expected_reception=expected,
    )

    line = line_of(variant, warehouse)
    assert (line.on_hand, line.incoming) == (d(4), d(6))
    expected.refresh_from_db()
    assert expected.status == ExpectedReceptionStatus.OPEN
    assert reception.lines.get().ordered == d(10)
    movement = Movement.objects.get()
    assert movement.type == MovementType.ENTRY
    assert movement.reason == MovementReason.SUPPLIER_RECEPTION
    assert movement.reference == "Atelier Textile / DN-77"
    assert movement.unit_cost == Decimal("2.4000")
    assert movement.operation == reception.operation
    assert verify_ledger().ok


def test_receiving_everything_marks_the_order_received(supplier, warehouse, variant):
    other = VariantFactory()
    expected = order(supplier, warehouse, (variant, 10, None), (other, 5, None))

    reception_receive(
        warehouse=warehouse,
        supplier=supplier,
        delivery_note="DN-1",
        lines=[StockQuantity(variant, 10), StockQuantity(other, 5)],
        expected_reception=expected,
    )

    expected.refresh_from_db()
    assert expected.status == ExpectedReceptionStatus.RECEIVED
    assert line_of(variant, warehouse).incoming == d(0)
    assert verify_ledger().ok


def test_an_over_reception_is_refused_without_confirmation_and_changes_nothing(
    supplier, warehouse, variant
):
    expected = order(supplier, warehouse, (variant, 10, None))
    stranger = VariantFactory()

    with pytest.raises(OverReception) as caught:
        reception_receive(
            warehouse=warehouse,
            supplier=supplier,
            delivery_note="DN-2",
            lines=[StockQuantity(variant, 12), StockQuantity(stranger, 1)],
            expected_reception=expected,
        )

    assert caught.value.code == "over_reception"
    assert caught.value.excess == {variant.sku: d(2), stranger.sku: d(1)}
    assert Movement.objects.count() == 0
    assert Reception.objects.count() == 0
    assert line_of(variant, warehouse).incoming == d(10)


def test_a_confirmed_over_reception_enters_all_and_never_takes_incoming_below_zero(
    supplier, warehouse, variant
):
    expected = order(supplier, warehouse, (variant, 10, None))

    reception_receive(
        warehouse=warehouse,
        supplier=supplier,
        delivery_note="DN-3",
        lines=[StockQuantity(variant, 12)],
        expected_reception=expected,
        accept_over_reception=True,
    )

    line = line_of(variant, warehouse)
    assert (line.on_hand, line.incoming) == (d(12), d(0))
    expected.refresh_from_db()
    assert expected.status == ExpectedReceptionStatus.RECEIVED
    assert verify_ledger().ok


def test_an_ad_hoc_reception_needs_no_order(supplier, warehouse, variant):
    reception = reception_receive(
        warehouse=warehouse,
        supplier=supplier,
        delivery_note="BL 2026-11",
        lines=[StockQuantity(variant, 3)],
    )

    assert reception.expected_reception is None
    assert reception.lines.get().ordered is None
    assert line_of(variant, warehouse).on_hand == d(3)


def test_one_bad_line_refuses_the_whole_reception(supplier, warehouse, variant):
    good = VariantFactory()

    with pytest.raises(InvalidQuantity) as caught:
        reception_receive(
            warehouse=warehouse,
            supplier=supplier,
            delivery_note="DN-4",
            lines=[StockQuantity(good, 5), StockQuantity(variant, "1.5")],
        )

    assert caught.value.code == "fraction_not_allowed"
    assert Movement.objects.count() == 0
    assert not StockLine.objects.filter(variant=good).exists()


def test_a_delivery_note_number_is_required(supplier, warehouse, variant):
    with pytest.raises(InvalidOperation) as caught:
        reception_receive(
            warehouse=warehouse,
            supplier=supplier,
            delivery_note="  ",
            lines=[StockQuantity(variant, 1)],
        )
    assert caught.value.code == "delivery_note_required"
    assert caught.value.message == reception_services.MSG_DELIVERY_NOTE_REQUIRED


def test_a_sku_given_twice_is_refused(supplier, warehouse, variant):
    with pytest.raises(InvalidOperation) as caught:
        reception_receive(
            warehouse=warehouse,
            supplier=supplier,
            delivery_note="DN-5",
            lines=[StockQuantity(variant, 1), StockQuantity(variant, 2)],
        )
    assert caught.value.code == "duplicate_sku"


def test_a_delivery_for_another_warehouse_or_supplier_than_the_order_is_refused(
    supplier, warehouse, variant
):
    expected = order(supplier, warehouse, (variant, 10, None))

    with pytest.raises(InvalidOperation) as elsewhere:
        reception_receive(
            warehouse=WarehouseFactory(),
            supplier=supplier,
            delivery_note="DN-6",
            lines=[StockQuantity(variant, 1)],
            expected_reception=expected,
        )
    with pytest.raises(InvalidOperation) as other_supplier:
        reception_receive(
            warehouse=warehouse,
            supplier=SupplierFactory(),
            delivery_note="DN-6",
            lines=[StockQuantity(variant, 1)],
            expected_reception=expected,
        )

    assert elsewhere.value.code == "order_other_warehouse"
    assert other_supplier.value.code == "order_other_supplier"
    assert Movement.objects.count() == 0


def test_closing_an_order_releases_what_did_not_arrive(supplier, warehouse, variant):
    expected = order(supplier, warehouse, (variant, 10, None))
    reception_receive(
        warehouse=warehouse,
        supplier=supplier,
        delivery_note="DN-7",
        lines=[StockQuantity(variant, 7)],
        expected_reception=expected,
    )

    expected_reception_close(expected_reception=expected)

    expected.refresh_from_db()
    assert expected.status == ExpectedReceptionStatus.CLOSED
    assert line_of(variant, warehouse).incoming == d(0)
    assert verify_ledger().ok
    with pytest.raises(InvalidOperation) as caught:
        reception_receive(
            warehouse=warehouse,
            supplier=supplier,
            delivery_note="DN-8",
            lines=[StockQuantity(variant, 3)],
            expected_reception=expected,
        )
    assert caught.value.code == "order_not_open"


def test_a_supplier_reference_is_used_once(supplier, warehouse, variant):
    order(supplier, warehouse, (variant, 1, None), reference="PO-9")

    with pytest.raises(InvalidOperation) as caught:
        order(supplier, warehouse, (variant, 1, None), reference="PO-9")

    assert caught.value.code == "duplicate_reference"
    assert line_of(variant, warehouse).incoming == d(1)


def test_the_ledger_check_finds_incoming_that_no_open_order_explains(supplier, warehouse, variant):
    order(supplier, warehouse, (variant, 10, None))
    StockLine.objects.filter(variant=variant).update(incoming=3)

    report = verify_ledger()

    assert not report.ok
    assert (
        f"{variant.sku} @ {warehouse.code}: incoming 3.000 but open expected receptions "
        "still expect 10.000"
    ) in report.problems


def test_a_thousand_line_reception_is_written_in_bulk_not_line_by_line(
    supplier, warehouse, django_assert_max_num_queries
):
    # One product, bulk-created: a thousand factory variants would mostly time the factory.
    product = ProductFactory()
    variants = Variant.objects.bulk_create(
        [Variant(product=product, sku=f"BULK-{n:04d}") for n in range(1000)]
    )

    # Far below one query per line on both databases (SQLite's bulk inserts go ~75 rows at a
    # time: its limit on bound parameters).
    with django_assert_max_num_queries(100):
        reception_receive(
            warehouse=warehouse,
            supplier=supplier,
            delivery_note="DN-BIG",
            lines=[StockQuantity(v, 2, Decimal("1.25")) for v in variants],
        )

    assert Movement.objects.count() == 1000
    assert StockLine.objects.filter(on_hand=2).count() == 1000
    assert verify_ledger().ok


def test_a_long_supplier_name_is_shortened_in_the_reference_never_the_delivery_note(warehouse):
    supplier = SupplierFactory(name="Établissements " + "Dupont " * 20)
    note = "BL-" + "9" * 61

    reference = reception_services.reception_reference(supplier, note)

    assert len(reference) == 100
    assert reference.endswith(f"… / {note}")
    assert reference.startswith("Établissements Dupont")


def test_a_line_without_a_unit_cost_takes_the_orders(supplier, warehouse, variant):
    expected = order(supplier, warehouse, (variant, 10, Decimal("3.20")))

    reception_receive(
        warehouse=warehouse,
        supplier=supplier,
        delivery_note="DN-COST",
        lines=[StockQuantity(variant, 4)],
        expected_reception=expected,
    )

    assert Movement.objects.get().unit_cost == Decimal("3.2000")
    assert expected.receptions.get().lines.get().unit_cost == Decimal("3.2000")
