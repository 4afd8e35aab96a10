"""Stock status as an indexed column, and the indexes of the inventory list.

- ``effective_threshold``: a copy of the threshold that applies to each line (its own, else
  the variant's, else the product's), kept by inventory.services.thresholds; filled here.
- ``status``: computed by the database from the quantities and that copy, indexed with the
  warehouse: the status filter and the Low stock / Stockout counts are index scans.
- Keyset paging indexes: (available, id), (reserved, id), (on_hand, id) and
  (COALESCE(last_movement_at, 1970-01-01), id), which replaces the plain last_movement_at
  index: it also serves the stagnant filter, never-moved lines included. (available, id)
  again for Low stock and Stockout lines only (partial): the morning routine sorted by
  available, a tenth of the lines, read in order.
- PostgreSQL only: pg_trgm GIN indexes for the search (product name, variant name, SKU,
  barcode). They index UPPER(column), the expression Django's ``icontains`` compares, so
  ``UPPER(name::text) LIKE UPPER('%shirt%')`` is a bitmap index scan. On the catalog's
  tables, created here because the inventory list is what searches them.
"""

import datetime

import django.db.models.expressions
import django.db.models.functions.comparison
import django.db.models.lookups
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

TRIGRAM_INDEXES = (
    ("inventory_trgm_product_name", "catalog_product", "name"),
    ("inventory_trgm_variant_name", "catalog_variant", "name"),
    ("inventory_trgm_variant_sku", "catalog_variant", "sku"),
    ("inventory_trgm_variant_barcode", "catalog_variant", "barcode"),
)


def fill_effective_threshold(apps, schema_editor):
    StockLine = apps.get_model("inventory", "StockLine")
    Variant = apps.get_model("catalog", "Variant")
    variant_threshold = Subquery(
        Variant.objects.filter(pk=OuterRef("variant_id"))
        .order_by()
        .values(applies=Coalesce("alert_threshold", "product__alert_threshold"))[:1]
    )
    StockLine.objects.update(
        effective_threshold=Coalesce(
            "alert_threshold",
            variant_threshold,
            output_field=models.DecimalField(max_digits=15, decimal_places=3),
        )
    )


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin (UPPER("{column}") gin_trgm_ops)'
        )


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0001_initial'),
        ('inventory', '0005_stockline_changed_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='stockline',
            name='effective_threshold',
            field=models.DecimalField(blank=True, decimal_places=3, editable=False, max_digits=15, null=True, verbose_name='alert threshold'),
        ),
        migrations.RunPython(fill_effective_threshold, migrations.RunPython.noop),
        migrations.AddField(
            model_name='stockline',
            name='status',
            field=models.GeneratedField(db_persist=True, expression=models.Case(models.When(django.db.models.lookups.LessThanOrEqual(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('on_hand'), '-', models.F('reserved')), '-', models.F('locked')), 0), then=models.Value('out')), models.When(django.db.models.lookups.LessThan(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('on_hand'), '-', models.F('reserved')), '-', models.F('locked')), models.F('effective_threshold')), then=models.Value('low')), default=models.Value('ok')), output_field=models.CharField(choices=[('ok', 'OK'), ('low', 'Low stock'), ('out', 'Stockout')], max_length=3), verbose_name='status'),
        ),
        migrations.RemoveIndex(
            model_name='stockline',
            name='inventory_sl_last_movement',
        ),
        migrations.AddIndex(
            model_name='stockline',
            index=models.Index(fields=['status', 'warehouse'], name='inventory_sl_status_wh'),
        ),
        migrations.AddIndex(
            model_name='stockline',
            index=models.Index(fields=['available', 'id'], name='inventory_sl_available_id'),
        ),
        migrations.AddIndex(
            model_name='stockline',
            index=models.Index(condition=models.Q(('status__in', ['low', 'out'])), fields=['available', 'id'], name='inventory_sl_alert_available'),
        ),
        migrations.AddIndex(
            model_name='stockline',
            index=models.Index(fields=['reserved', 'id'], name='inventory_sl_reserved_id'),
        ),
        migrations.AddIndex(
            model_name='stockline',
            index=models.Index(fields=['on_hand', 'id'], name='inventory_sl_on_hand_id'),
        ),
        migrations.AddIndex(
            model_name='stockline',
            index=models.Index(django.db.models.functions.comparison.Coalesce('last_movement_at', models.Value(datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.UTC))), models.F('id'), name='inventory_sl_last_movement_id'),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
