"""The order services: each stage change moves stock through the stock services, atomically."""

from decimal import Decimal

import pytest

from inventory.ledger import verify_ledger
from inventory.models import HoldChange, HoldKind, Movement, MovementReason, MovementType
from inventory.services import InsufficientStock, InvalidQuantity
from orders import errors
from orders.errors import IllegalStageChange, InvalidOrder, ReferenceConflict
from orders.models import (
    Order,
    OrderStageChange,
    Stage,
    StockEffectKind,
)
from orders.services import OrderLineInput, order_create, order_set_stage
from tests.factories import VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive
from tests.orders.helpers import configure, line_of_order, move, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(warehouse):
    """Two variants with 10 and 5 in stock."""
    shirt, mug = VariantFactory(), VariantFactory()
    receive(shirt, warehouse, 10)
    receive(mug, warehouse, 5)
    return shirt, mug


def quantities(variant, warehouse):
    line = line_of(variant, warehouse)
    return line.on_hand, line.reserved, line.available


# --- creation ---------------------------------------------------------------------------------


def test_a_new_order_is_stored_with_its_lines_and_reserves_nothing(warehouse, stocked, pipeline):
    shirt, mug = stocked

    order = place("SO-1", warehouse, {shirt: 3, mug: "2"})

    assert order.stage == Stage.NEW
    assert [(line.variant, line.quantity, line.reserved) for line in order.lines.all()] == [
        (shirt, d(3), d(0)),
        (mug, d(2), d(0)),
    ]
    assert quantities(shirt, warehouse) == (d(10), d(0), d(10))
    [created] = order.stage_changes.all()
    assert (created.from_stage, created.to_stage) == ("", Stage.NEW)


def test_an_order_created_at_the_reserve_stage_is_reserved_at_once(warehouse, stocked, pipeline):
    shirt, mug = stocked

    order = place("SO-1", warehouse, {shirt: 3, mug: 2}, stage=Stage.CONFIRMED)

    assert quantities(shirt, warehouse) == (d(10), d(3), d(7))
    assert quantities(mug, warehouse) == (d(5), d(2), d(3))
    assert [line.reserved for line in order.lines.all()] == [d(3), d(2)]
    [created] = order.stage_changes.all()
    assert (created.from_stage, created.to_stage) == ("", Stage.CONFIRMED)
    assert order.created_at == order.stage_changed_at == created.created_at
    assert [e.kind for e in created.stock_effects.all()] == [StockEffectKind.RESERVE]


def test_an_order_created_as_delivered_is_reserved_and_deducted_in_one_go(
    warehouse, stocked, pipeline
):
    shirt, _ = stocked

    order = place("SO-1", warehouse, {shirt: 4}, stage=Stage.DELIVERED)

    assert quantities(shirt, warehouse) == (d(6), d(0), d(6))
    assert line_of_order(order, shirt).shipped == d(4)
    assert verify_ledger().ok


def test_an_order_that_cannot_be_fully_reserved_is_refused_whole_and_not_stored(
    warehouse, stocked, pipeline
):
    shirt, mug = stocked

    with pytest.raises(InsufficientStock) as refused:
        place("SO-1", warehouse, {shirt: 3, mug: 6}, stage=Stage.CONFIRMED)

    assert refused.value.code == "insufficient_stock"
    assert [(s.sku, s.missing) for s in refused.value.shortfalls] == [(mug.sku, d(1))]
    assert not Order.objects.exists()
    assert quantities(shirt, warehouse) == (d(10), d(0), d(10))
    assert not HoldChange.objects.exists()


def test_the_refused_reference_can_be_posted_again_once_there_is_stock(
    warehouse, stocked, pipeline
):
    shirt, _ = stocked
    with pytest.raises(InsufficientStock):
        place("SO-1", warehouse, {shirt: 12}, stage=Stage.CONFIRMED)
    receive(shirt, warehouse, 2)

    order = place("SO-1", warehouse, {shirt: 12}, stage=Stage.CONFIRMED)

    assert line_of_order(order, shirt).reserved == d(12)


def test_the_same_reference_with_the_same_content_returns_the_order_unchanged(
    warehouse, stocked, pipeline
):
    shirt, mug = stocked
    first, created = order_create(
        reference="SO-1",
        warehouse=warehouse,
        lines=[OrderLineInput(shirt, 2), OrderLineInput(mug, 1)],
        stage=Stage.CONFIRMED,
    )

    # Lines in another order, quantities written another way: the same content.
    again, created_again = order_create(
        reference="SO-1",
        warehouse=warehouse,
        lines=[OrderLineInput(mug, "1.000"), OrderLineInput(shirt, Decimal("2"))],
        stage=Stage.CONFIRMED,
    )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert quantities(shirt, warehouse) == (d(10), d(2), d(8))
    assert HoldChange.objects.count() == 2
    assert OrderStageChange.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"lines": {"shirt": 3}},
        {"lines": {"shirt": 2, "mug": 1}},
        {"stage": Stage.NEW},
        {"warehouse": "other"},
    ],
)
def test_the_same_reference_with_other_content_is_a_conflict(
    warehouse, other_warehouse, stocked, pipeline, change
):
    shirt, mug = stocked
    place("SO-1", warehouse, {shirt: 2}, stage=Stage.CONFIRMED)
    variants = {"shirt": shirt, "mug": mug}
    lines = {variants[k]: v for k, v in change.get("lines", {"shirt": 2}).items()}
    target = other_warehouse if change.get("warehouse") else warehouse

    with pytest.raises(ReferenceConflict) as conflict:
        place("SO-1", target, lines, stage=change.get("stage", Stage.CONFIRMED))

    assert conflict.value.code == "reference_conflict"
    assert conflict.value.message == errors.MSG_REFERENCE_CONFLICT % {"reference": "SO-1"}
    assert quantities(shirt, warehouse) == (d(10), d(2), d(8))


@pytest.mark.parametrize(
    ("reference", "lines", "stage", "code"),
    [
        ("SO 1", {"shirt": 1}, "new", "invalid_reference"),
        ("SO/1", {"shirt": 1}, "new", "invalid_reference"),
        ("", {"shirt": 1}, "new", "invalid_reference"),
        ("x" * 65, {"shirt": 1}, "new", "invalid_reference"),
        ("SO-1", {}, "new", "no_lines"),
        ("SO-1", {"shirt": 1}, "cancelled", "invalid_stage"),
        ("SO-1", {"shirt": 1}, "return_restocked", "invalid_stage"),
    ],
)
def test_an_invalid_order_is_refused_with_its_code(
    warehouse, stocked, pipeline, reference, lines, stage, code
):
    shirt, _ = stocked
    with pytest.raises(InvalidOrder) as refused:
        place(reference, warehouse, {shirt: lines["shirt"]} if lines else {}, stage=stage)
    assert refused.value.code == code
    assert not Order.objects.exists()


def test_an_order_with_a_sku_on_two_lines_is_refused(warehouse, stocked, pipeline):
    shirt, _ = stocked
    with pytest.raises(InvalidOrder) as refused:
        order_create(
            reference="SO-1",
            warehouse=warehouse,
            lines=[OrderLineInput(shirt, 1), OrderLineInput(shirt, 2)],
        )
    assert refused.value.code == "duplicate_sku"
    assert refused.value.message == errors.MSG_DUPLICATE_SKU % {"sku": shirt.sku}


@pytest.mark.parametrize(
    ("quantity", "code"),
    [("1.5", "fraction_not_allowed"), (0, "quantity_not_positive"), ("abc", "not_a_number")],
)
def test_an_order_with_a_bad_quantity_is_refused(warehouse, stocked, pipeline, quantity, code):
    shirt, _ = stocked
    with pytest.raises(InvalidQuantity) as refused:
        place("SO-1", warehouse, {shirt: quantity})
    assert refused.value.code == code
    assert not Order.objects.exists()


def test_an_inactive_warehouse_takes_no_order(stocked, pipeline):
    closed = WarehouseFactory(is_active=False)
    with pytest.raises(InvalidOrder) as refused:
        place("SO-1", closed, {stocked[0]: 1})
    assert refused.value.code == "inactive_warehouse"


# --- the lifecycle ----------------------------------------------------------------------------


def test_confirming_reserves_every_line_under_the_order_reference(warehouse, stocked, pipeline):
    shirt, mug = stocked
    order = place("SO-1", warehouse, {shirt: 3, mug: 2})

    order = move(order, Stage.CONFIRMED)

    assert quantities(shirt, warehouse) == (d(10), d(3), d(7))
    assert quantities(mug, warehouse) == (d(5), d(2), d(3))
    holds = HoldChange.objects.order_by("pk")
    assert [(h.kind, h.reserved_delta, h.reference) for h in holds] == [
        (HoldKind.RESERVE, d(3), "SO-1"),
        (HoldKind.RESERVE, d(2), "SO-1"),
    ]
    assert not Movement.objects.filter(reference="SO-1").exists()


def test_shipping_deducts_a_sale_exit_and_consumes_the_reservation(warehouse, stocked, pipeline):
    shirt, mug = stocked
    order = place("SO-1", warehouse, {shirt: 3, mug: 2}, stage=Stage.CONFIRMED)

    order = move(order, Stage.SHIPPED)

    assert quantities(shirt, warehouse) == (d(7), d(0), d(7))
    assert quantities(mug, warehouse) == (d(3), d(0), d(3))
    sales = Movement.objects.filter(reference="SO-1").order_by("pk")
    assert [(m.type, m.reason, m.quantity) for m in sales] == [
        (MovementType.EXIT, MovementReason.SALE, d(-3)),
        (MovementType.EXIT, MovementReason.SALE, d(-2)),
    ]
    line = line_of_order(order, shirt)
    assert (line.reserved, line.shipped) == (d(0), d(3))


def test_cancelling_before_the_deduction_releases_the_reservation(warehouse, stocked, pipeline):
    shirt, _ = stocked
    order = place("SO-1", warehouse, {shirt: 3}, stage=Stage.CONFIRMED)

    order = move(order, Stage.CANCELLED)

    assert order.stage == Stage.CANCELLED
    assert quantities(shirt, warehouse) == (d(10), d(0), d(10))
    assert line_of_order(order, shirt).reserved == d(0)
    assert HoldChange.objects.filter(kind=HoldKind.RELEASE, reference="SO-1").count() == 1


def test_cancelling_a_new_order_changes_no_stock(warehouse, stocked, pipeline):
    shirt, _ = stocked
    order = move(place("SO-1", warehouse, {shirt: 3}), Stage.CANCELLED)

    assert order.stage == Stage.CANCELLED
    assert not HoldChange.objects.exists()
    assert not order.stage_changes.last().stock_effects.exists()


def test_cancelling_after_the_deduction_is_refused_and_changes_nothing(
    warehouse, stocked, pipeline
):
    shirt, _ = stocked
    order = place("SO-1", warehouse, {shirt: 3}, stage=Stage.SHIPPED)

    with pytest.raises(IllegalStageChange) as refused:
        move(order, Stage.CANCELLED)

    assert refused.value.code == "illegal_stage_change"
    assert refused.value.message == errors.MSG_ILLEGAL_STAGE_CHANGE % {
        "reference": "SO-1",
        "current": "shipped",
        "target": "cancelled",
        "why": errors.WHY_ALREADY_DEDUCTED,
    }
    assert Order.objects.get(pk=order.pk).stage == Stage.SHIPPED
    assert quantities(shirt, warehouse) == (d(7), d(0), d(7))


def test_restocking_a_return_enters_the_shipped_quantities_back(warehouse, stocked, pipeline):
    shirt, mug = stocked
    order = place("SO-1", warehouse, {shirt: 3, mug: 2}, stage=Stage.DELIVERED)
    order = move(order, Stage.RETURNED)
    assert quantities(shirt, warehouse) == (d(7), d(0), d(7))

    order = move(order, Stage.RETURN_RESTOCKED)

    assert quantities(shirt, warehouse) == (d(10), d(0), d(10))
    assert quantities(mug, warehouse) == (d(5), d(0), d(5))
    entries = Movement.objects.filter(reason=MovementReason.RETURN_RESTOCKED).order_by("pk")
    assert [(m.type, m.quantity, m.reference) for m in entries] == [
        (MovementType.ENTRY, d(3), "SO-1"),
        (MovementType.ENTRY, d(2), "SO-1"),
    ]
    assert line_of_order(order, shirt).restocked == d(3)
    assert verify_ledger().ok


def test_a_delivered_return_may_be_restocked_without_the_returned_stage(
    warehouse, stocked, pipeline
):
    shirt, _ = stocked
    order = place("SO-1", warehouse, {shirt: 3}, stage=Stage.DELIVERED)

    move(order, Stage.RETURN_RESTOCKED)

    assert quantities(shirt, warehouse) == (d(10), d(0), d(10))


def test_skipping_from_new_to_shipped_reserves_and_deducts_together(warehouse, stocked, pipeline):
    shirt, _ = stocked
    order = place("SO-1", warehouse, {shirt: 4})

    order = move(order, Stage.SHIPPED)

    assert quantities(shirt, warehouse) == (d(6), d(0), d(6))
    change = order.stage_changes.last()
    assert [e.kind for e in change.stock_effects.order_by("pk")] == [
        StockEffectKind.RESERVE,
        StockEffectKind.DEDUCT,
    ]


def test_repeating_the_current_stage_changes_nothing(warehouse, stocked, pipeline):
    shirt, _ = stocked
    order = place("SO-1", warehouse, {shirt: 3}, stage=Stage.CONFIRMED)

    again, changed = order_set_stage(order=order, stage=Stage.CONFIRMED)

    assert changed is False
    assert again.stage == Stage.CONFIRMED
    assert quantities(shirt, warehouse) == (d(10), d(3), d(7))
    assert HoldChange.objects.count() == 1
    assert order.stage_changes.count() == 1


@pytest.mark.parametrize(
    ("path", "target", "why"),
    [
        ([Stage.CONFIRMED], Stage.NEW, errors.WHY_BACKWARDS),
        ([Stage.SHIPPED], Stage.CONFIRMED, errors.WHY_BACKWARDS),
        ([Stage.CANCELLED], Stage.CONFIRMED, errors.WHY_CLOSED),
        ([Stage.CANCELLED], Stage.RETURN_RESTOCKED, errors.WHY_CLOSED),
        ([Stage.DELIVERED, Stage.RETURN_RESTOCKED], Stage.RETURNED, errors.WHY_CLOSED),
        ([Stage.DELIVERED, Stage.RETURNED], Stage.DELIVERED, errors.WHY_BACKWARDS),
        ([Stage.CONFIRMED], Stage.RETURNED, errors.WHY_NOTHING_DEDUCTED),
        ([Stage.CONFIRMED], Stage.RETURN_RESTOCKED, errors.WHY_NOT_RETURNED),
        ([], Stage.RETURN_RESTOCKED, errors.WHY_NOT_RETURNED),
    ],
)
def test_an_impossible_stage_change_is_refused_and_changes_nothing(
    warehouse, stocked, pipeline, path, target, why
):
    shirt, _ = stocked
    order = place("SO-1", warehouse, {shirt: 3})
    for stage in path:
        order = move(order, stage)
    before = (quantities(shirt, warehouse), HoldChange.objects.count(), Movement.objects.count())

    with pytest.raises(IllegalStageChange) as refused:
        move(order, target)

    assert refused.value.message.endswith(why)
    assert refused.value.details == {"stage": order.stage, "requested": target}
    assert Order.objects.get(pk=order.pk).stage == order.stage
    after = (quantities(shirt, warehouse), HoldChange.objects.count(), Movement.objects.count())
    assert after == before


def test_an_unknown_stage_is_invalid(warehouse, stocked, pipeline):
    order = place("SO-1", warehouse, {stocked[0]: 1})
    with pytest.raises(InvalidOrder) as refused:
        move(order, "paid")
    assert refused.value.code == "unknown_stage"


def test_confirming_without_enough_stock_leaves_the_order_new(warehouse, stocked, pipeline):
    shirt, mug = stocked
    order = place("SO-1", warehouse, {shirt: 3, mug: 9})

    with pytest.raises(InsufficientStock):
        move(order, Stage.CONFIRMED)

    order.refresh_from_db()
    assert order.stage == Stage.NEW
    assert [line.reserved for line in order.lines.all()] == [d(0), d(0)]
    assert quantities(shirt, warehouse) == (d(10), d(0), d(10))
    assert order.stage_changes.count() == 1


def test_every_stage_change_records_its_time_user_and_api_token(
    warehouse, stocked, pipeline, merchant
):
    order = place("SO-1", warehouse, {stocked[0]: 1}, user=merchant, api_token="sr_abcdefgh…")
    order = move(order, Stage.CONFIRMED, user=merchant)

    changes = list(order.stage_changes.order_by("pk"))
    assert [(c.from_stage, c.to_stage, c.user, c.api_token) for c in changes] == [
        ("", Stage.NEW, merchant, "sr_abcdefgh…"),
        (Stage.NEW, Stage.CONFIRMED, merchant, ""),
    ]
    assert changes[1].created_at >= changes[0].created_at
    assert order.stage_changed_at == changes[1].created_at
    assert order.created_by == merchant


# --- configured stages ------------------------------------------------------------------------


def test_reserve_and_deduct_may_be_the_same_stage(warehouse, stocked, pipeline):
    configure(reserve_stage=Stage.SHIPPED, deduct_stage=Stage.SHIPPED)
    shirt, _ = stocked
    order = move(place("SO-1", warehouse, {shirt: 3}), Stage.CONFIRMED)
    assert quantities(shirt, warehouse) == (d(10), d(0), d(10))

    move(order, Stage.SHIPPED)

    assert quantities(shirt, warehouse) == (d(7), d(0), d(7))


def test_reserving_at_new_reserves_when_the_order_arrives(warehouse, stocked, pipeline):
    configure(reserve_stage=Stage.NEW)
    shirt, _ = stocked

    place("SO-1", warehouse, {shirt: 3})

    assert quantities(shirt, warehouse) == (d(10), d(3), d(7))


def test_returned_before_the_deduction_releases_when_it_is_a_release_stage(
    warehouse, stocked, pipeline
):
    configure(deduct_stage=Stage.DELIVERED, release_stages=["cancelled", "returned"])
    shirt, _ = stocked
    order = place("SO-1", warehouse, {shirt: 3}, stage=Stage.SHIPPED)
    assert quantities(shirt, warehouse) == (d(10), d(3), d(7))

    order = move(order, Stage.RETURNED)

    assert quantities(shirt, warehouse) == (d(10), d(0), d(10))
    with pytest.raises(IllegalStageChange):
        move(order, Stage.RETURN_RESTOCKED)


def test_changing_the_settings_midway_never_reserves_or_deducts_twice(warehouse, stocked, pipeline):
    shirt, _ = stocked
    order = place("SO-1", warehouse, {shirt: 3}, stage=Stage.CONFIRMED)
    configure(reserve_stage=Stage.SHIPPED, deduct_stage=Stage.DELIVERED)

    order = move(order, Stage.SHIPPED)
    assert quantities(shirt, warehouse) == (d(10), d(3), d(7))
    configure(reserve_stage=Stage.NEW, deduct_stage=Stage.CONFIRMED)
    move(order, Stage.DELIVERED)

    assert quantities(shirt, warehouse) == (d(7), d(0), d(7))
    assert HoldChange.objects.filter(kind=HoldKind.RESERVE).count() == 1
    assert verify_ledger().ok
