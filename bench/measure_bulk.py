"""Figure 4: a 1,000-line supplier reception (the receptions service, ``reception_receive``) and
a count of every line of a warehouse (100,000 at full scale) applied (``count_session_apply``),
beside set-based raw SQL doing the same writes (``raw_writes``).

Every run works on lines no other run touched (another window of variants for a reception,
another warehouse for a count), so no run is warmed by the one before. The count's sheet is
started and filled through the service before the clock starts: only applying it is timed.
Every counted quantity differs from the expected one (+1 or -1), so applying a 100,000-line
count writes 100,000 movements: the worst case.
"""

import time
from decimal import Decimal

from .context import Bench
from .ledger_check import check_lines
from .raw_writes import count_session_apply as raw_count_apply
from .raw_writes import reception_receive as raw_reception_receive
from .report import AT_MOST, Figure, Timing

COST_STEP = Decimal("0.2500")


def _reception_windows(bench: Bench, count: int) -> list[list[int]]:
    size = min(bench.scale.reception_lines, bench.scale.variants)
    windows = max(1, bench.scale.variants // size)
    return [
        list(range((index % windows) * size + 1, (index % windows) * size + size + 1))
        for index in range(count)
    ]


def measure_reception(bench: Bench) -> None:
    from django.contrib.auth import get_user_model

    from catalog.models import Supplier, Variant
    from inventory.services import StockQuantity, reception_receive
    from warehouses.models import Warehouse

    scale = bench.scale
    runs = 1 + scale.slow_runs
    user = get_user_model().objects.get(username="staff")
    supplier = Supplier.objects.order_by("pk").first()
    warehouse = Warehouse.objects.order_by("code").first()
    windows = _reception_windows(bench, 2 * runs)
    service_samples, raw_samples, touched = [], [], []
    for run in range(runs):
        service_window, raw_window = windows[2 * run], windows[2 * run + 1]
        variants = Variant.objects.in_bulk(service_window)
        # A new price: every average cost moves, as in a real delivery.
        lines = [
            StockQuantity(
                variants[pk],
                Decimal(10) if variants[pk].unit != "kg" else Decimal("10.250"),
                (variants[pk].average_cost or Decimal(1)) + COST_STEP,
            )
            for pk in service_window
        ]
        started = time.perf_counter()
        reception_receive(
            warehouse=warehouse,
            supplier=supplier,
            delivery_note=f"BENCH-S{run}",
            lines=lines,
            user=user,
        )
        service = time.perf_counter() - started
        costs = dict(Variant.objects.filter(pk__in=raw_window).values_list("pk", "average_cost"))
        units = dict(Variant.objects.filter(pk__in=raw_window).values_list("pk", "unit"))
        raw_lines = [
            (
                pk,
                Decimal(10) if units[pk] != "kg" else Decimal("10.250"),
                (costs[pk] or Decimal(1)) + COST_STEP,
            )
            for pk in raw_window
        ]
        started = time.perf_counter()
        raw_reception_receive(
            bench.raw,
            warehouse_id=warehouse.pk,
            supplier_id=supplier.pk,
            supplier_name=supplier.name,
            delivery_note=f"BENCH-R{run}",
            lines=raw_lines,
            user_id=user.pk,
        )
        raw = time.perf_counter() - started
        if run:
            service_samples.append(service)
            raw_samples.append(raw)
        touched += service_window[:5] + raw_window[:5]
    service, raw = Timing(service_samples), Timing(raw_samples)
    line_ids = [
        pk
        for (pk,) in bench.sql(
            "SELECT id FROM inventory_stockline WHERE warehouse_id = %s AND variant_id = ANY(%s)",
            [warehouse.pk, touched],
        )
    ]
    problems = check_lines(line_ids)
    bench.add(
        Figure(
            key="reception",
            label=f"Reception of {len(windows[0]):,} lines",
            unit="ms",
            stockroom=service.median * 1000,
            floor=raw.median * 1000,
            ratio=service.median / raw.median,
            target=(AT_MOST, 4.0),
            details={
                "service": "inventory.services.reception_receive",
                "samples_ms": [s * 1000 for s in service.samples],
                "raw_samples_ms": [s * 1000 for s in raw.samples],
                "ledger_problems": problems[:10],
            },
            fails=problems[:3],
        )
    )


def _prepared_count(warehouse, user):
    """A count of every line of ``warehouse`` with a quantity entered for each, not applied."""
    from inventory.models import CountLine, CountScope
    from inventory.services import CountedQuantity, count_record_many, count_session_start

    session = count_session_start(warehouse=warehouse, scope=CountScope.ALL, user=user)
    counted = [
        CountedQuantity(variant_id, expected + (1 if expected < 1 or variant_id % 2 else -1))
        for variant_id, expected in CountLine.objects.filter(session=session).values_list(
            "variant_id", "expected"
        )
    ]
    count_record_many(session=session, counted=counted, user=user)
    return session, len(counted)


def measure_count(bench: Bench) -> None:
    from django.contrib.auth import get_user_model

    from inventory.services import count_session_apply
    from warehouses.models import Warehouse

    scale = bench.scale
    runs = 1 + scale.slow_runs
    user = get_user_model().objects.get(username="staff")
    # From the last warehouse backwards: the reception figure uses the first one.
    warehouses = list(Warehouse.objects.order_by("-code"))
    service_samples, raw_samples, sizes, sampled = [], [], [], []
    for run in range(runs):
        session, size = _prepared_count(warehouses[(2 * run) % len(warehouses)], user)
        started = time.perf_counter()
        count_session_apply(session=session, user=user)
        service = time.perf_counter() - started
        raw_session, _ = _prepared_count(warehouses[(2 * run + 1) % len(warehouses)], user)
        started = time.perf_counter()
        raw_count_apply(bench.raw, session_id=raw_session.pk, user_id=user.pk)
        raw = time.perf_counter() - started
        sizes.append(size)
        if run:
            service_samples.append(service)
            raw_samples.append(raw)
        sampled += [session.warehouse_id, raw_session.warehouse_id]
    service, raw = Timing(service_samples), Timing(raw_samples)
    line_ids = [
        pk
        for (pk,) in bench.sql(
            "SELECT id FROM inventory_stockline WHERE warehouse_id = ANY(%s) "
            "ORDER BY md5(id::text) LIMIT 200",
            [sampled],
        )
    ]
    problems = check_lines(line_ids)
    bench.add(
        Figure(
            key="count",
            label=f"Count of {sizes[0]:,} lines applied",
            unit="ms",
            stockroom=service.median * 1000,
            floor=raw.median * 1000,
            ratio=service.median / raw.median,
            target=(AT_MOST, 2.0),
            details={
                "service": "inventory.services.count_session_apply",
                "movements_per_count": sizes[0],
                "samples_ms": [s * 1000 for s in service.samples],
                "raw_samples_ms": [s * 1000 for s in raw.samples],
                "ledger_problems": problems[:10],
            },
            fails=problems[:3],
        )
    )
