"""Figure 3: adjustments through the service (``stock_adjust``) by 1 and 8 concurrent clients,
beside the same transaction in raw SQL with the same clients: lock the line FOR UPDATE, insert
the movement (hash included), update the line.

Each client is a process of its own with its own database connection (forked from the
harness, so the GIL is not what is measured). All clients adjust random lines of the same
set of stock lines, +1 and -1 in turn, so some of them wait for each other's row locks; no
update may be lost: the lines are checked (hash chain, balances, on hand) after the runs.
"""

import multiprocessing
import random
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from django.db import connections

from .context import Bench
from .db import connection_params
from .ledger_check import check_lines
from .report import AT_LEAST, AT_MOST, Figure, Timing

HOT_LINES = 1000
CLIENTS = (1, 8)
NOTE = "benchmark adjustment"

LOCK_SQL = """SELECT id, on_hand, reserved, locked, ledger_head, last_movement_at
FROM inventory_stockline WHERE variant_id = %s AND warehouse_id = %s FOR UPDATE"""
INSERT_SQL = """INSERT INTO inventory_movement (created_at, type, reason, quantity, balance_after,
  unit_cost, reference, note, operation, previous_hash, hash, created_by_id, stock_line_id)
VALUES (%s, 'adjustment', 'manual', %s, %s, NULL, '', %s, %s, %s, %s, %s, %s)"""
UPDATE_SQL = """UPDATE inventory_stockline
SET on_hand = %s, last_movement_at = %s, changed_at = %s, ledger_head = %s WHERE id = %s"""


def _service_client(lines, seconds, start, results, seed, staff_id):
    from django.contrib.auth import get_user_model

    from catalog.models import Variant
    from inventory.services import StockError, stock_adjust
    from warehouses.models import Warehouse

    variants = Variant.objects.in_bulk({variant for _, variant, _ in lines})
    warehouses = Warehouse.objects.in_bulk({warehouse for _, _, warehouse in lines})
    user = get_user_model().objects.get(pk=staff_id)
    rng, sign, done, refused = random.Random(seed), 1, 0, 0
    start.wait()
    began = time.perf_counter()
    deadline = began + seconds
    while time.perf_counter() < deadline:
        _, variant, warehouse = lines[rng.randrange(len(lines))]
        try:
            stock_adjust(
                variant=variants[variant],
                warehouse=warehouses[warehouse],
                quantity=sign,
                reason="manual",
                note=NOTE,
                user=user,
            )
            done += 1
        except StockError:
            refused += 1
        sign = -sign
    results.put((done, refused, time.perf_counter() - began))
    connections.close_all()


def _raw_client(lines, seconds, start, results, seed, staff_id):
    from inventory.ledger import movement_hash

    rng, sign, done, refused = random.Random(seed), 1, 0, 0
    with psycopg.connect(**connection_params(), autocommit=True) as raw:
        start.wait()
        began = time.perf_counter()
        deadline = began + seconds
        while time.perf_counter() < deadline:
            _, variant, warehouse = lines[rng.randrange(len(lines))]
            quantity = Decimal(sign)
            with raw.transaction(), raw.cursor() as cursor:
                line_id, on_hand, reserved, locked, head, last = cursor.execute(
                    LOCK_SQL, (variant, warehouse)
                ).fetchone()
                if on_hand + quantity - reserved - locked < 0:
                    refused += 1
                else:
                    now = max(datetime.now(UTC), last) if last else datetime.now(UTC)
                    balance = on_hand + quantity
                    operation = uuid.uuid4()
                    digest = movement_hash(
                        stock_line_id=line_id,
                        created_at=now,
                        type="adjustment",
                        reason="manual",
                        quantity=quantity,
                        balance_after=balance,
                        unit_cost=None,
                        reference="",
                        note=NOTE,
                        created_by_id=staff_id,
                        operation=operation,
                        previous_hash=head,
                    )
                    cursor.execute(
                        INSERT_SQL,
                        (now, quantity, balance, NOTE, operation, head, digest, staff_id, line_id),
                    )
                    cursor.execute(UPDATE_SQL, (balance, now, now, digest, line_id))
                    done += 1
            sign = -sign
        results.put((done, refused, time.perf_counter() - began))


def _throughput(client, clients: int, lines, seconds: float, seed: int, staff_id: int) -> dict:
    """Run ``clients`` processes for ``seconds``; adjustments per second, all clients together."""
    context = multiprocessing.get_context("fork")
    connections.close_all()  # a forked child must open its own connection
    start, results = context.Event(), context.Queue()
    processes = [
        context.Process(
            target=client, args=(lines, seconds, start, results, seed + index, staff_id)
        )
        for index in range(clients)
    ]
    for process in processes:
        process.start()
    time.sleep(0.2)  # every client has set up before the clock starts
    start.set()
    outcomes = [results.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join(30)
    done = sum(outcome[0] for outcome in outcomes)
    return {
        "per_second": sum(outcome[0] / outcome[2] for outcome in outcomes),
        "adjustments": done,
        "refused": sum(outcome[1] for outcome in outcomes),
    }


def measure(bench: Bench) -> None:
    scale = bench.scale
    lines = bench.sql(
        "SELECT id, variant_id, warehouse_id FROM inventory_stockline "
        "WHERE on_hand >= 20 AND reserved = 0 AND locked = 0 ORDER BY md5(id::text) LIMIT %s",
        [HOT_LINES],
    )
    (staff_id,) = bench.sql("SELECT id FROM auth_user WHERE username = 'staff'")[0]
    ids = [line_id for line_id, _, _ in lines]
    (before,) = bench.sql(
        "SELECT count(*) FROM inventory_movement WHERE stock_line_id = ANY(%s)", [ids]
    )[0]
    written = 0
    for clients in CLIENTS:
        samples = {"service": [], "raw": []}
        for run in range(1 + scale.slow_runs):
            seconds = scale.adjust_seconds if run else min(1.0, scale.adjust_seconds)
            for name, client in (("service", _service_client), ("raw", _raw_client)):
                outcome = _throughput(client, clients, lines, seconds, 1000 * run, staff_id)
                written += outcome["adjustments"]
                if run:
                    samples[name].append(outcome["per_second"])
        service, raw = Timing(samples["service"]), Timing(samples["raw"])
        bench.add(
            Figure(
                key=f"adjust.clients_{clients}",
                label=f"Adjustments, {clients} client{'s' if clients > 1 else ''} (per second)",
                unit="/s",
                stockroom=service.median,
                floor=raw.median,
                ratio=service.median / raw.median,
                target=(AT_LEAST, 0.4),
                details={"service_samples": service.samples, "raw_samples": raw.samples},
            )
        )
    (after,) = bench.sql(
        "SELECT count(*) FROM inventory_movement WHERE stock_line_id = ANY(%s)", [ids]
    )[0]
    problems = check_lines(ids)
    if after - before != written:
        problems.append(f"{written} adjustments reported, {after - before} movements written")
    bench.add(
        Figure(
            key="adjust.no_lost_update",
            label=f"Adjustments, no lost update ({len(ids)} contended lines checked)",
            unit="problems",
            stockroom=len(problems),
            target=(AT_MOST, 0),
            details={"problems": problems[:20], "adjustments_written": written},
            fails=problems[:5],
        )
    )
