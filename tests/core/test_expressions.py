"""RowComparison: SQL's lexicographic comparison of rows, on PostgreSQL and SQLite alike."""

import operator
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext

from catalog.models import Variant
from core.expressions import AnyOf, RowComparison, SharedSubquery
from inventory.models import StockLine
from tests.factories import VariantFactory, WarehouseFactory
from tests.helpers import receive

pytestmark = pytest.mark.django_db

PYTHON = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@pytest.fixture
def lines():
    """12 lines: 4 variants in 3 warehouses, quantities with many ties."""
    warehouses = [WarehouseFactory(code=code) for code in ("BDX", "LYO", "PAR")]
    variants = [VariantFactory(sku=f"SK-{index}") for index in range(4)]
    for index, (variant, warehouse) in enumerate(
        (variant, warehouse) for variant in variants for warehouse in warehouses
    ):
        receive(variant, warehouse, 1 + index % 2)
    return list(StockLine.objects.select_related("variant", "warehouse"))


def _row(line):
    return (line.available, line.warehouse.code, line.pk)


@pytest.mark.parametrize("sign", list(PYTHON))
def test_rows_compare_column_by_column_like_python_tuples(lines, sign):
    for pivot in lines:
        found = StockLine.objects.filter(
            RowComparison(["available", "warehouse__code", "id"], sign, _row(pivot))
        )
        expected = {line.pk for line in lines if PYTHON[sign](_row(line), _row(pivot))}
        assert set(found.values_list("pk", flat=True)) == expected, (sign, _row(pivot))


def test_annotations_and_expressions_compare_with_values_of_their_own_type(lines):
    pivot = sorted(lines, key=lambda line: (line.variant.sku.lower(), line.pk))[5]
    found = (
        StockLine.objects.annotate(sort_0=Lower("variant__sku"))
        .filter(RowComparison([F("sort_0"), "id"], ">=", (pivot.variant.sku.lower(), pivot.pk)))
        .order_by("sort_0", "id")
    )
    expected = sorted(
        (
            line
            for line in lines
            if (line.variant.sku.lower(), line.pk) >= (pivot.variant.sku.lower(), pivot.pk)
        ),
        key=lambda line: (line.variant.sku.lower(), line.pk),
    )
    assert [line.pk for line in found] == [line.pk for line in expected]


def test_a_decimal_value_compares_as_a_number_not_as_text(lines):
    # As text, "10" < "2": the value must be sent as the column's type.
    assert (
        StockLine.objects.filter(RowComparison(["available"], "<", [Decimal("10")])).count() == 12
    )


@pytest.mark.parametrize(
    ("left", "sign", "right"),
    [(["id"], "=", [1]), (["id", "available"], ">", [1]), ([], ">", [])],
)
def test_a_malformed_comparison_is_refused(left, sign, right):
    with pytest.raises(ValueError):
        RowComparison(left, sign, right)


@pytest.mark.parametrize("count", [1, 2, 5])
def test_any_of_matches_the_rows_whose_value_is_among_the_values(lines, count):
    wanted = [line.pk for line in lines[:count]]
    others = [line.variant_id for line in lines[:count]]

    assert sorted(StockLine.objects.filter(AnyOf("id", wanted)).values_list("pk", flat=True)) == (
        sorted(wanted)
    )
    assert StockLine.objects.filter(AnyOf("variant_id", others)).count() == 3 * len(set(others))


def test_any_of_takes_expressions_and_text_values_with_quotes(lines):
    VariantFactory(sku="it's-1")
    found = Variant.objects.filter(AnyOf(Lower("sku"), ["sk-1", "it's-1", "none"]))

    assert sorted(found.values_list("sku", flat=True)) == ["SK-1", "it's-1"]


def test_any_of_no_values_matches_nothing(lines):
    assert not StockLine.objects.filter(AnyOf("id", [])).exists()
    assert StockLine.objects.exclude(AnyOf("id", [])).count() == 12


def _counts_sharing(*querysets):
    from inventory.selectors.stock_list import capped_counts

    with CaptureQueriesContext(connection) as queries:
        counts = capped_counts(*querysets, cap=100)
    return counts, queries.captured_queries[0]["sql"]


def test_a_shared_subquery_is_computed_once_for_the_whole_statement(lines):
    sk1 = Variant.objects.filter(sku__in=["SK-1", "SK-2"]).values("pk")
    in_sk1 = StockLine.objects.filter(variant__in=SharedSubquery(sk1, "chosen_variants"))

    counts, sql = _counts_sharing(in_sk1, in_sk1.filter(warehouse__code="PAR"), in_sk1)

    assert counts == [(6, False), (2, False), (6, False)]
    assert sql.startswith('WITH "chosen_variants" AS') and sql.count("SK-1") == 1


def test_outside_a_shared_statement_it_is_a_plain_subquery(lines):
    sk1 = Variant.objects.filter(sku="SK-1").values("pk")
    found = StockLine.objects.filter(variant__in=SharedSubquery(sk1, "chosen_variants"))

    assert found.count() == 3
    assert "WITH" not in str(found.query)


def test_two_different_subqueries_under_one_name_are_not_confused(lines):
    first = Variant.objects.filter(sku="SK-1").values("pk")
    second = Variant.objects.filter(sku__in=["SK-2", "SK-3"]).values("pk")

    counts, sql = _counts_sharing(
        StockLine.objects.filter(variant__in=SharedSubquery(first, "chosen_variants")),
        StockLine.objects.filter(variant__in=SharedSubquery(second, "chosen_variants")),
    )

    assert counts == [(3, False), (6, False)]
    assert "SK-1" in sql and "SK-3" in sql  # the first shared, the second inline
