"""SKU and barcode searched by prefix (PostgreSQL only).

The search matches SKUs and barcodes from their start (``UPPER(sku) LIKE 'TSH-20%'``): a
btree with text_pattern_ops on the same expression serves that in any collation. The trigram
indexes of migration 0006 on these two columns are dropped: SKUs share long prefixes, so
their trigrams select almost every variant and the planner read the table instead.
"""

from django.db import migrations

PREFIX_INDEXES = (
    ("inventory_prefix_variant_sku", "catalog_variant", "sku"),
    ("inventory_prefix_variant_barcode", "catalog_variant", "barcode"),
)
DROPPED_TRIGRAM_INDEXES = (
    ("inventory_trgm_variant_sku", "catalog_variant", "sku"),
    ("inventory_trgm_variant_barcode", "catalog_variant", "barcode"),
)


def use_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in DROPPED_TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    for name, table, column in PREFIX_INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" (UPPER("{column}") text_pattern_ops)'
        )


def use_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in PREFIX_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    for name, table, column in DROPPED_TRIGRAM_INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin (UPPER("{column}") gin_trgm_ops)'
        )


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0008_staff_flow_permissions'),
    ]

    operations = [migrations.RunPython(use_prefix_indexes, use_trigram_indexes)]
