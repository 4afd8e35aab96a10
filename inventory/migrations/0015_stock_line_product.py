"""A stock line carries its variant's product, kept by the database, and the (status,
warehouse) index covers it.

A broad search ("hoodie": 1,380 products, 9,660 variants) counts its lines, its Low stock and
its Stockout lines. By variant, each count first listed the variants of the matching products
(1,380 index lookups, 4.7 ms at a million lines) and hashed all 9,660 of them; by product it
hashes the 1,380 products and reads the status index alone.

The copy is the database's to keep, on PostgreSQL and on SQLite, whoever writes: a new line
takes its variant's product, and a variant moved to another product moves its lines'. At a
million lines the backfill rewrites every line (about 40 s); autovacuum then marks the pages
visible again (migration 0011 starts it after 2% of the lines changed).
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRES_FUNCTIONS = """
CREATE OR REPLACE FUNCTION stockroom_stock_line_product() RETURNS trigger AS $$
BEGIN
    NEW.product_id := (SELECT product_id FROM catalog_variant WHERE id = NEW.variant_id);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION stockroom_variant_product_moved() RETURNS trigger AS $$
BEGIN
    UPDATE inventory_stockline SET product_id = NEW.product_id WHERE variant_id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

POSTGRES_TRIGGERS = (
    "CREATE TRIGGER inventory_stockline_product_insert BEFORE INSERT ON inventory_stockline "
    "FOR EACH ROW EXECUTE FUNCTION stockroom_stock_line_product()",
    # A line's every save names its variant: only a new variant looks its product up.
    "CREATE TRIGGER inventory_stockline_product_variant BEFORE UPDATE OF variant_id "
    "ON inventory_stockline FOR EACH ROW WHEN (OLD.variant_id IS DISTINCT FROM NEW.variant_id) "
    "EXECUTE FUNCTION stockroom_stock_line_product()",
    "CREATE TRIGGER catalog_variant_product_moved AFTER UPDATE OF product_id ON catalog_variant "
    "FOR EACH ROW WHEN (OLD.product_id IS DISTINCT FROM NEW.product_id) "
    "EXECUTE FUNCTION stockroom_variant_product_moved()",
)

# SQLite's triggers cannot change the row being written: they update it just after.
SQLITE_LINE_PRODUCT = (
    "UPDATE inventory_stockline SET product_id = "
    "(SELECT product_id FROM catalog_variant WHERE id = NEW.variant_id) WHERE id = NEW.id"
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER inventory_stockline_product_insert AFTER INSERT ON inventory_stockline "
    f"BEGIN {SQLITE_LINE_PRODUCT}; END",
    "CREATE TRIGGER inventory_stockline_product_variant AFTER UPDATE OF variant_id "
    "ON inventory_stockline WHEN OLD.variant_id IS NOT NEW.variant_id "
    f"BEGIN {SQLITE_LINE_PRODUCT}; END",
    "CREATE TRIGGER catalog_variant_product_moved AFTER UPDATE OF product_id ON catalog_variant "
    "WHEN OLD.product_id IS NOT NEW.product_id BEGIN "
    "UPDATE inventory_stockline SET product_id = NEW.product_id WHERE variant_id = NEW.id; END",
)

BACKFILL = {
    "postgresql": (
        "UPDATE inventory_stockline AS line SET product_id = variant.product_id "
        "FROM catalog_variant AS variant WHERE variant.id = line.variant_id"
    ),
    "sqlite": (
        "UPDATE inventory_stockline SET product_id = (SELECT product_id FROM catalog_variant "
        "WHERE catalog_variant.id = inventory_stockline.variant_id)"
    ),
}


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTIONS, params=None)
        triggers = POSTGRES_TRIGGERS
    elif vendor == "sqlite":
        triggers = SQLITE_TRIGGERS
    else:
        raise NotImplementedError(f"No stock line product trigger for {vendor}")
    for statement in triggers:
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL[vendor])


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name in ("inventory_stockline_product_insert", "inventory_stockline_product_variant"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON inventory_stockline")
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS catalog_variant_product_moved ON catalog_variant"
        )
        schema_editor.execute("DROP FUNCTION IF EXISTS stockroom_stock_line_product()")
        schema_editor.execute("DROP FUNCTION IF EXISTS stockroom_variant_product_moved()")
    elif vendor == "sqlite":
        for name in (
            "inventory_stockline_product_insert",
            "inventory_stockline_product_variant",
            "catalog_variant_product_moved",
        ):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_variant_product_id_index"),
        ("inventory", "0014_stock_line_variant_status_index"),
    ]

    operations = [
        # Dropped first, so that the backfill does not write each line into it.
        migrations.RemoveIndex(model_name="stockline", name="inventory_sl_status_wh"),
        migrations.AddField(
            model_name="stockline",
            name="product",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="catalog.product",
                verbose_name="product",
            ),
        ),
        migrations.RunPython(install, uninstall),
        migrations.AddIndex(
            model_name="stockline",
            index=models.Index(
                fields=["status", "warehouse"],
                include=("variant", "product"),
                name="inventory_sl_status_wh",
            ),
        ),
    ]
