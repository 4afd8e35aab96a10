"""The embedded SQLite path (`make run`) works end to end, and the demo data verifies on both
databases."""

import os
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from inventory.models import Movement
from orders.models import Order

ROOT = Path(__file__).resolve().parent.parent
SEED_ARGS = ["--variants", "40", "--movements", "800"]


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot(database: Path) -> dict:
    with sqlite3.connect(database) as db:
        return {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in (
                "inventory_movement",
                "inventory_holdchange",
                "inventory_stockline",
                "catalog_variant",
                "warehouses_warehouse",
                "auth_user",
                "orders_order",
                "orders_orderline",
                "orders_orderstagechange",
                "orders_stockeffect",
            )
        } | {
            "on_hand": db.execute(
                "SELECT group_concat(on_hand || '/' || reserved || '/' || locked) "
                "FROM (SELECT * FROM inventory_stockline ORDER BY id)"
            ).fetchone()[0],
            "stages": db.execute(
                "SELECT group_concat(stage) FROM (SELECT stage FROM orders_order ORDER BY id)"
            ).fetchone()[0],
        }


def test_sqlite_migrate_seed_and_verify(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }
    env.pop("STOCKROOM_REQUIRE_POSTGRES", None)

    for args in (["migrate", "--noinput"], ["seed_demo", *SEED_ARGS], ["verify_ledger"]):
        done = manage(*args, env=env)
        assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.startswith("ledger OK:")
    seeded = snapshot(database)
    assert seeded["inventory_movement"] > 0
    assert seeded["orders_order"] > 0
    assert done.stdout.strip() == (
        f"ledger OK: {seeded['inventory_stockline']} lines, "
        f"{seeded['inventory_movement']} movements"
    )

    again = manage("seed_demo", *SEED_ARGS, env=env)
    assert again.returncode == 0, again.stderr
    assert snapshot(database) == seeded

    with sqlite3.connect(database) as db:
        # The lines' copy of their variant's product, kept by SQLite's triggers.
        astray = (
            "SELECT COUNT(*) FROM inventory_stockline l JOIN catalog_variant v "
            "ON v.id = l.variant_id WHERE l.product_id IS NOT v.product_id"
        )
        assert db.execute(astray).fetchone()[0] == 0
        variant_id, product_id = db.execute(
            "SELECT variant_id, product_id FROM inventory_stockline ORDER BY id LIMIT 1"
        ).fetchone()
        other = db.execute(
            "SELECT MIN(id) FROM catalog_product WHERE id != ?", [product_id]
        ).fetchone()[0]
        db.execute("UPDATE catalog_variant SET product_id = ? WHERE id = ?", [other, variant_id])
        assert db.execute(astray).fetchone()[0] == 0
        assert (
            db.execute(
                "SELECT COUNT(*) FROM inventory_stockline WHERE variant_id = ? AND product_id = ?",
                [variant_id, other],
            ).fetchone()[0]
            > 0
        )
        db.execute(
            "UPDATE catalog_variant SET product_id = ? WHERE id = ?", [product_id, variant_id]
        )
        db.commit()

    with sqlite3.connect(database) as db:
        for table in ("inventory_movement", "inventory_holdchange"):
            for statement in (f"UPDATE {table} SET note = 'edited'", f"DELETE FROM {table}"):
                with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                    db.execute(statement)
    assert snapshot(database) == seeded


@pytest.mark.django_db
def test_seed_demo_verifies_on_the_test_database():
    out = StringIO()
    call_command("seed_demo", *SEED_ARGS, stdout=out)
    assert "Demo data:" in out.getvalue()
    movements = Movement.objects.count()
    orders = Order.objects.count()
    assert orders > 0

    out = StringIO()
    call_command("seed_demo", *SEED_ARGS, stdout=out)
    assert "nothing to do" in out.getvalue()
    assert Movement.objects.count() == movements
    assert Order.objects.count() == orders

    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert out.getvalue().startswith("ledger OK:")
