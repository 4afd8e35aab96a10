"""A stock line's copy of its variant's product is the database's to keep (migration 0015):
whoever writes the line or moves the variant, the broad search counts by it."""

import pytest
from django.db import connection

from inventory.models import StockLine
from inventory.selectors import search as search_module
from inventory.selectors.stock_list import list_counts
from tests.factories import ProductFactory, VariantFactory, WarehouseFactory
from tests.helpers import receive

pytestmark = pytest.mark.django_db


def products_of_lines() -> dict[int, int]:
    return dict(StockLine.objects.values_list("pk", "product_id"))


def test_a_line_created_by_the_services_carries_its_variants_product(variant, warehouse):
    line = receive(variant, warehouse, 5)

    assert line.product_id == variant.product_id


def test_a_line_inserted_by_hand_with_another_product_gets_its_variants(variant, warehouse):
    stranger = ProductFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_stockline (variant_id, warehouse_id, product_id, on_hand, "
            "reserved, locked, incoming, effective_threshold, alert_threshold, changed_at, "
            "ledger_head, created_at) VALUES (%s, %s, %s, 0, 0, 0, 0, NULL, NULL, "
            "CURRENT_TIMESTAMP, '', CURRENT_TIMESTAMP)",
            [variant.pk, warehouse.pk, stranger.pk],
        )

    assert StockLine.objects.get(variant=variant).product_id == variant.product_id


def test_a_variant_moved_to_another_product_moves_its_lines_and_no_other(warehouse):
    hoodie, mug = VariantFactory(), VariantFactory()
    other_warehouse = WarehouseFactory()
    for variant in (hoodie, mug):
        receive(variant, warehouse, 3)
        receive(variant, other_warehouse, 2)
    hoodies = ProductFactory(name="Hoodie")

    hoodie.product = hoodies
    hoodie.save()

    assert set(StockLine.objects.filter(variant=hoodie).values_list("product_id", flat=True)) == {
        hoodies.pk
    }
    assert set(StockLine.objects.filter(variant=mug).values_list("product_id", flat=True)) == {
        mug.product_id
    }


def test_saving_a_line_or_a_variant_without_moving_it_keeps_the_product(variant, warehouse):
    line = receive(variant, warehouse, 4)
    # Full saves: each names the product (the variant's) and the variant (the line's).
    variant.name = "Renamed"
    variant.save()
    line.save()

    assert StockLine.objects.get(pk=line.pk).product_id == variant.product_id


def test_a_broad_search_counts_a_moved_variants_lines_under_its_new_product(warehouse, monkeypatch):
    # Every search counts as broad: the counts then go by product.
    monkeypatch.setattr(search_module, "FEW_MATCHING_VARIANTS", 0)
    variant = VariantFactory(product=ProductFactory(name="Plain mug"), name="")
    receive(variant, warehouse, 2)
    lines = StockLine.objects.all()

    def found(text):
        # As the list counts: each line checked, by its copy of the product.
        matching = lines.search(text, walk_variants=False)
        return list_counts(matching, matching)[0]

    assert found("hoodie") == (0, False)
    variant.product = ProductFactory(name="Zip hoodie")
    variant.save()

    assert found("hoodie") == (1, False)
    assert found("mug") == (0, False)
    assert set(products_of_lines().values()) == {variant.product_id}
