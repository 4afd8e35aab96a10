"""The ledger is append-only, enforced by the database itself.

UPDATE and DELETE on the movement and hold-change tables are refused by triggers, on
PostgreSQL and on SQLite. A mistake is corrected by a new movement, never by editing one.
"""

from django.db import migrations

LEDGER_TABLES = ("inventory_movement", "inventory_holdchange")

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION stockroom_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the stock ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'Correct a mistake with a new movement.';
END;
$$ LANGUAGE plpgsql;
"""


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION, params=None)  # "%" is not a placeholder
        for table in LEDGER_TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION stockroom_ledger_append_only()"
            )
    elif vendor == "sqlite":
        for table in LEDGER_TABLES:
            for operation in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the stock ledger is append-only: "
                    f"{operation} on {table} is refused'); END"
                )
    else:
        raise NotImplementedError(f"No append-only ledger trigger for {vendor}")


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in LEDGER_TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        elif vendor == "sqlite":
            for operation in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS stockroom_ledger_append_only()")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
