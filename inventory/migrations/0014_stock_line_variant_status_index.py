"""A stock line's variant is indexed with its status, instead of alone.

A narrow search (a SKU prefix: 70 variants, 700 lines) counts its Low stock and Stockout
lines: with the variant alone PostgreSQL combined that index with the status index and read
the entry of every Stockout line in the database (16,000 at a million lines, 1.9 ms); with
both in one index it reads the 700 lines' entries only. The new index serves every lookup
by variant the old one did, which is dropped after it is built.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_strict_code_validators"),
        ("inventory", "0013_search_indexes_without_pending_list"),
        ("warehouses", "0002_strict_code_validators"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="stockline",
            index=models.Index(fields=["variant", "status"], name="inventory_sl_variant_status"),
        ),
        migrations.AlterField(
            model_name="stockline",
            name="variant",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="stock_lines",
                to="catalog.variant",
                verbose_name="variant",
            ),
        ),
    ]
