"""Figure 2: the CSV export of every stock line through the server, its time and the peak
memory of the server's worker process, beside ``psql \\copy`` of the same columns."""

import subprocess
import threading
import time

from .context import Bench
from .db import connection_params
from .report import AT_MOST, Figure, Timing
from .server import reset_peak_rss, rss_mb

EXPORT_PATH = "/inventory/export.csv"
#: The export's columns, in the contract's order and the list's default order (by SKU).
COPY_SQL = """SELECT p.name AS "Product", v.name AS "Variant", v.sku AS "SKU",
  w.code AS "Warehouse", sl.available AS "Available", sl.reserved AS "Reserved",
  sl.locked AS "Locked", sl.on_hand AS "Total", sl.incoming AS "Incoming",
  sl.effective_threshold AS "Alert threshold",
  CASE sl.status WHEN 'ok' THEN 'OK' WHEN 'low' THEN 'Low stock' ELSE 'Stockout' END
    AS "Status",
  sl.last_movement_at AS "Last movement"
FROM inventory_stockline sl
JOIN catalog_variant v ON v.id = sl.variant_id
JOIN catalog_product p ON p.id = v.product_id
JOIN warehouses_warehouse w ON w.id = sl.warehouse_id
ORDER BY lower(v.sku), w.code, sl.id"""
SAMPLE_EVERY = 0.05


class RssSampler(threading.Thread):
    """Samples a process's resident memory while an export streams (a cross-check of the
    kernel's own peak, VmHWM)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            self.peak = max(self.peak, rss_mb(self.pid)[0])
            self._halt.wait(SAMPLE_EVERY)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak


def _export_once(bench: Bench, pid: int) -> dict:
    lines = 0

    def count(chunk: bytes):
        nonlocal lines
        lines += chunk.count(b"\n")

    before, _ = rss_mb(pid)
    peak_reset = reset_peak_rss(pid)
    sampler = RssSampler(pid)
    sampler.start()
    answer = bench.client.get(EXPORT_PATH, keep_body=False, on_chunk=count)
    sampled = sampler.stop()
    _, kernel_peak = rss_mb(pid)
    if answer.status != 200:
        raise AssertionError(f"GET {EXPORT_PATH}: {answer.status}")
    return {
        "seconds": answer.seconds,
        "bytes": answer.size,
        "rows": lines - 1,
        "rss_before_mb": before,
        "peak_rss_mb": kernel_peak if peak_reset else sampled,
        "sampled_peak_rss_mb": sampled,
    }


def _psql_copy(bench: Bench) -> dict:
    target = bench.workdir / "psql-copy.csv"
    params = connection_params()
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", params["dbname"]]
    for flag, name in (("-h", "host"), ("-p", "port"), ("-U", "user")):
        if params.get(name):
            command += [flag, params[name]]
    copy = " ".join(COPY_SQL.split())
    command += ["-c", f"\\copy ({copy}) TO '{target}' WITH (FORMAT csv, HEADER)"]
    env = {"PGPASSWORD": params["password"]} if params.get("password") else None
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True)
    seconds = time.perf_counter() - started
    size = target.stat().st_size
    with target.open("rb") as file:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b"")) - 1
    target.unlink()
    return {"seconds": seconds, "bytes": size, "rows": rows}


def measure(bench: Bench) -> None:
    scale = bench.scale
    (pid,) = bench.server.worker_pids()
    exports, copies = [], []
    for run in range(1 + scale.slow_runs):  # the first of each is the warm-up
        exports.append(_export_once(bench, pid))
        copies.append(_psql_copy(bench))
        if run:
            export, copy = exports[-1]["seconds"], copies[-1]["seconds"]
            bench.progress(f"  export {export:.1f} s, psql \\copy {copy:.1f} s")
    exports, copies = exports[1:], copies[1:]
    export_time = Timing([run["seconds"] for run in exports])
    copy_time = Timing([run["seconds"] for run in copies])
    rows = exports[-1]["rows"]
    details = {
        "rows": rows,
        "psql_rows": copies[-1]["rows"],
        "bytes": exports[-1]["bytes"],
        "psql_bytes": copies[-1]["bytes"],
        "samples_s": export_time.samples,
        "psql_samples_s": copy_time.samples,
    }
    fails = []
    if rows != copies[-1]["rows"]:
        fails.append(f"{rows} rows exported, psql wrote {copies[-1]['rows']}")
    bench.add(
        Figure(
            key="export.time",
            label=f"CSV export of all {rows:,} lines (time)",
            unit="s",
            stockroom=export_time.median,
            floor=copy_time.median,
            ratio=export_time.median / copy_time.median,
            target=(AT_MOST, 1.5),
            details=details,
            fails=fails,
        )
    )
    peak = max(run["peak_rss_mb"] for run in exports)
    bench.add(
        Figure(
            key="export.memory",
            label="CSV export, peak memory of the server process",
            unit="MB",
            stockroom=peak,
            target=(AT_MOST, 100.0),
            details={
                "rss_before_mb": exports[-1]["rss_before_mb"],
                "growth_mb": peak - exports[-1]["rss_before_mb"],
                "sampled_peak_mb": max(run["sampled_peak_rss_mb"] for run in exports),
            },
        )
    )
