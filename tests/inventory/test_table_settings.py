"""PostgreSQL settings of the stock line table that the list's speed depends on."""

import pytest
from django.db import connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_stock_lines_are_vacuumed_after_two_percent_of_them_changed():
    # The list's counts read the status index alone only on pages a vacuum marked all-visible.
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'inventory_stockline'")
        (options,) = cursor.fetchone()
    assert sorted(options) == [
        "autovacuum_analyze_scale_factor=0.02",
        "autovacuum_vacuum_scale_factor=0.02",
    ]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_search_indexes_have_no_pending_list():
    # Entries queued in a GIN pending list are read through by every search until a vacuum.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class "
            "WHERE relname IN ('inventory_trgm_product_name', 'inventory_trgm_variant_name')"
        )
        options = dict(cursor.fetchall())
    assert options == {
        "inventory_trgm_product_name": ["fastupdate=off"],
        "inventory_trgm_variant_name": ["fastupdate=off"],
    }
