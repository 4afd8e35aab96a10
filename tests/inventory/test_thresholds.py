"""The threshold each stock line's status uses, kept as a copy on the line
(inventory.services.thresholds and the receivers in inventory.receivers)."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Product, Variant
from inventory.ledger import verify_ledger
from inventory.models import StockLine, StockStatus
from inventory.services import InvalidQuantity, StockQuantity, stock_adjust, stock_receive
from inventory.services.thresholds import (
    stale_threshold_lines,
    stock_lines_refresh_thresholds,
    variant_set_alert_threshold,
)
from tests.factories import ProductFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = pytest.mark.django_db


def status_of(variant, warehouse) -> str:
    return line_of(variant, warehouse).status


def test_new_line_takes_the_products_threshold_when_the_variant_has_none(warehouse):
    variant = VariantFactory(product=ProductFactory(alert_threshold=10))

    line = receive(variant, warehouse, 4)

    assert line.effective_threshold == d(10)
    assert line.status == StockStatus.LOW


def test_new_lines_of_one_reception_take_each_variants_own_threshold(warehouse):
    product = ProductFactory(alert_threshold=10)
    own = VariantFactory(product=product, alert_threshold=3)
    inherits = VariantFactory(product=product)

    stock_receive(warehouse=warehouse, lines=[StockQuantity(own, 4), StockQuantity(inherits, 4)])

    assert line_of(own, warehouse).effective_threshold == d(3)
    assert line_of(own, warehouse).status == StockStatus.OK
    assert line_of(inherits, warehouse).status == StockStatus.LOW


def test_status_is_stockout_at_zero_available_and_never_low_without_threshold(warehouse):
    variant = VariantFactory()
    receive(variant, warehouse, 1)
    assert status_of(variant, warehouse) == StockStatus.OK

    stock_adjust(variant=variant, warehouse=warehouse, quantity=-1, reason="loss")

    assert status_of(variant, warehouse) == StockStatus.OUT


def test_status_is_low_strictly_below_the_threshold(warehouse):
    variant = VariantFactory(alert_threshold=5)
    receive(variant, warehouse, 5)
    assert status_of(variant, warehouse) == StockStatus.OK

    stock_adjust(variant=variant, warehouse=warehouse, quantity=-1, reason="loss")

    assert status_of(variant, warehouse) == StockStatus.LOW


def test_saving_a_products_threshold_reaches_lines_of_variants_without_their_own(warehouse):
    product = ProductFactory()
    inherits = VariantFactory(product=product)
    own = VariantFactory(product=product, alert_threshold=2)
    receive(inherits, warehouse, 6)
    receive(own, warehouse, 6)

    product.alert_threshold = Decimal(8)
    product.save()

    assert line_of(inherits, warehouse).effective_threshold == d(8)
    assert status_of(inherits, warehouse) == StockStatus.LOW
    assert line_of(own, warehouse).effective_threshold == d(2)
    assert status_of(own, warehouse) == StockStatus.OK


def test_saving_a_variants_threshold_reaches_its_lines_but_not_a_warehouse_override(
    warehouse, other_warehouse
):
    variant = VariantFactory()
    receive(variant, warehouse, 6)
    overridden = receive(variant, other_warehouse, 6)
    overridden.alert_threshold = Decimal(1)
    overridden.save()

    variant.alert_threshold = Decimal(10)
    variant.save()

    assert status_of(variant, warehouse) == StockStatus.LOW
    assert line_of(variant, other_warehouse).effective_threshold == d(1)
    assert status_of(variant, other_warehouse) == StockStatus.OK


def test_saving_a_lines_own_threshold_changes_its_status(warehouse):
    variant = VariantFactory()
    line = receive(variant, warehouse, 6)

    line.alert_threshold = Decimal(7)
    line.save()

    assert status_of(variant, warehouse) == StockStatus.LOW


def test_clearing_a_lines_own_threshold_falls_back_to_the_variants(warehouse):
    variant = VariantFactory(alert_threshold=3)
    line = receive(variant, warehouse, 6)
    line.alert_threshold = Decimal(9)
    line.save()
    assert status_of(variant, warehouse) == StockStatus.LOW

    line = line_of(variant, warehouse)
    line.alert_threshold = None
    line.save(update_fields=["alert_threshold"])

    assert line_of(variant, warehouse).effective_threshold == d(3)
    assert status_of(variant, warehouse) == StockStatus.OK


def test_saving_an_unrelated_variant_field_does_not_rewrite_its_lines(warehouse):
    variant = VariantFactory(alert_threshold=3)
    receive(variant, warehouse, 6)

    assert stock_lines_refresh_thresholds(variant_ids=[variant.pk]) == 0
    variant.name = "Renamed"
    variant.save(update_fields=["name"])

    assert not stale_threshold_lines().exists()


def test_set_alert_threshold_applies_to_every_line_of_the_variant(warehouse, other_warehouse):
    variant = VariantFactory()
    receive(variant, warehouse, 15)
    receive(variant, other_warehouse, 30)

    variant_set_alert_threshold(variant=variant, threshold="20")

    assert Variant.objects.get(pk=variant.pk).alert_threshold == d(20)
    assert status_of(variant, warehouse) == StockStatus.LOW
    assert status_of(variant, other_warehouse) == StockStatus.OK


def test_set_alert_threshold_none_returns_to_the_products(warehouse):
    variant = VariantFactory(product=ProductFactory(alert_threshold=4), alert_threshold=50)
    receive(variant, warehouse, 10)

    variant_set_alert_threshold(variant=variant, threshold=None)

    assert line_of(variant, warehouse).effective_threshold == d(4)
    assert status_of(variant, warehouse) == StockStatus.OK


@pytest.mark.parametrize(
    ("threshold", "code"),
    [
        ("-1", "quantity_negative"),
        ("2.5", "fraction_not_allowed"),
        ("abc", "not_a_number"),
        ("1.0001", "too_many_decimals"),
    ],
)
def test_set_alert_threshold_refuses_bad_values_and_changes_nothing(warehouse, threshold, code):
    variant = VariantFactory(alert_threshold=3)
    receive(variant, warehouse, 6)

    with pytest.raises(InvalidQuantity) as caught:
        variant_set_alert_threshold(variant=variant, threshold=threshold)

    assert caught.value.code == code
    assert Variant.objects.get(pk=variant.pk).alert_threshold == d(3)
    assert line_of(variant, warehouse).effective_threshold == d(3)


def test_set_alert_threshold_takes_fractions_for_goods_sold_by_weight(warehouse):
    variant = VariantFactory(by_weight=True)
    receive(variant, warehouse, "2.5")

    variant_set_alert_threshold(variant=variant, threshold="2.75")

    assert status_of(variant, warehouse) == StockStatus.LOW


def test_a_bulk_update_that_skips_save_is_reported_then_repaired(warehouse):
    product = ProductFactory(alert_threshold=2)
    variant = VariantFactory(product=product)
    receive(variant, warehouse, 5)

    Product.objects.filter(pk=product.pk).update(alert_threshold=Decimal(9))

    report = verify_ledger()
    assert [problem for problem in report.problems if "alert threshold" in problem] == [
        f"{variant.sku} @ {warehouse.code}: its status uses alert threshold 2.000 but 9.000 "
        "applies (run manage.py refresh_thresholds)"
    ]
    assert stock_lines_refresh_thresholds() == 1
    assert status_of(variant, warehouse) == StockStatus.LOW
    assert verify_ledger().ok


def test_refresh_thresholds_command_says_how_many_lines_it_fixed(warehouse):
    variants = VariantFactory.create_batch(3, alert_threshold=1)
    for variant in variants:
        receive(variant, warehouse, 5)
    Variant.objects.filter(pk__in=[v.pk for v in variants[:2]]).update(alert_threshold=8)
    out = StringIO()

    call_command("refresh_thresholds", stdout=out)

    assert out.getvalue() == "2 stock lines refreshed\n"
    assert StockLine.objects.filter(status=StockStatus.LOW).count() == 2


def test_refresh_covers_more_lines_than_one_chunk(warehouse, monkeypatch):
    from inventory.services import thresholds

    monkeypatch.setattr(thresholds, "REFRESH_CHUNK", 2)
    variants = VariantFactory.create_batch(5)
    stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 3) for v in variants])
    Variant.objects.update(alert_threshold=4)

    assert stock_lines_refresh_thresholds() == 5
    assert StockLine.objects.filter(status=StockStatus.LOW).count() == 5


def test_verify_ledger_lists_twenty_stale_lines_then_counts_the_rest():
    warehouses = WarehouseFactory.create_batch(2)
    variants = VariantFactory.create_batch(11)
    for warehouse in warehouses:
        stock_receive(warehouse=warehouse, lines=[StockQuantity(v, 3) for v in variants])
    Variant.objects.update(alert_threshold=4)

    problems = [p for p in verify_ledger().problems if "alert threshold" in p]

    assert len(problems) == 21
    assert problems[-1] == (
        "2 more stock lines use a stale alert threshold (run manage.py refresh_thresholds)"
    )


def test_an_admin_import_of_variants_refreshes_the_lines_it_made_stale(warehouse):
    from import_export.signals import post_import

    variant = VariantFactory(alert_threshold=1)
    receive(variant, warehouse, 5)
    # What the catalog import does: variants written in bulk, no post_save.
    Variant.objects.filter(pk=variant.pk).update(alert_threshold=9)
    assert status_of(variant, warehouse) == StockStatus.OK

    post_import.send(sender=None, model=Variant)

    assert status_of(variant, warehouse) == StockStatus.LOW
