"""One benchmark run in a database Django is already set up on: seed, start a server, measure
every figure, verify the ledger, print the table and write the JSON."""

import os
import platform
import subprocess
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import django
from django.db import connection

from . import measure_adjust, measure_bulk, measure_export, measure_list, measure_stock_at
from .context import PASSWORD, QUERY_LOG, USERNAME, Bench
from .db import raw_connect
from .http import Client
from .report import AT_MOST, RESULTS_DIR, Figure, table, write_json
from .scales import Scale
from .seed import seed
from .server import AppServer

#: The figures, in the order they are measured: reads first, then writes.
GROUPS: dict[str, Callable[[Bench], None]] = {
    "list": measure_list.measure,
    "export": measure_export.measure,
    "stock_at": measure_stock_at.measure,
    "adjust": measure_adjust.measure,
    "reception": measure_bulk.measure_reception,
    "count": measure_bulk.measure_count,
}


SERVER_SETTINGS = (
    "random_page_cost",
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "fsync",
    "synchronous_commit",
)


def environment() -> dict:
    base = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=base,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (postgres,) = cursor.fetchone()
        # What the plans depend on: a run against another server is read with these.
        cursor.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
            [list(SERVER_SETTINGS)],
        )
        server_settings = dict(cursor.fetchall())
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": postgres,
        "postgresql_settings": server_settings,
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "commit": commit,
    }


def _verify(bench_figures: list[Figure], progress) -> dict:
    from inventory.ledger import verify_ledger

    started = time.monotonic()
    report = verify_ledger()
    seconds = time.monotonic() - started
    progress(f"verify_ledger: {'OK' if report.ok else 'NOT OK'} in {seconds:.0f} s")
    bench_figures.append(
        Figure(
            key="ledger",
            label=f"verify_ledger after the run ({report.lines:,} lines, "
            f"{report.movements:,} movements, {seconds:.0f} s)",
            unit="problems",
            stockroom=len(report.problems),
            target=(AT_MOST, 0),
            details={"problems": report.problems[:20], "seconds": seconds},
        )
    )
    return {
        "ok": report.ok,
        "lines": report.lines,
        "movements": report.movements,
        "seconds": seconds,
        "problems": report.problems[:20],
    }


def run(
    scale: Scale,
    *,
    server_env: dict[str, str],
    workdir: Path,
    results_dir: Path = RESULTS_DIR,
    groups: Sequence[str] = tuple(GROUPS),
    seed_data: bool = True,
    verify: bool = True,
    progress: Callable[[str], None] = print,
) -> dict:
    """Measure ``groups`` at ``scale``; return what was written to ``results_dir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    payload: dict = {"started_at": started.isoformat(), "scale": scale.__dict__}
    payload["environment"] = environment()
    if seed_data:
        progress(f"seeding {scale.stock_lines:,} stock lines, {scale.movements:,} movements")
        report = seed(scale, progress=lambda text: progress(f"  {text}"))
        payload["seed"] = {**report.__dict__, "total_seconds": report.total_seconds}
        progress(f"seeded in {report.total_seconds:.0f} s")
    figures: list[Figure] = []
    errors: list[dict] = []
    if seed_data:
        figures.append(
            Figure(
                key="seed",
                label=f"Seeding {scale.stock_lines:,} stock lines, {scale.movements:,} movements",
                unit="s",
                stockroom=report.total_seconds,
                target=None
                if scale.seed_seconds_target is None
                else (AT_MOST, scale.seed_seconds_target),
                details={"phases_s": report.seconds},
            )
        )
    server_env = {**server_env, "BENCH_QUERY_LOG": str(workdir / QUERY_LOG)}
    with AppServer(server_env, log_path=workdir / "gunicorn.log") as server:
        client = Client(server.url)
        client.login(USERNAME, PASSWORD)
        with raw_connect() as raw:
            bench = Bench(scale, server, client, raw, workdir, progress, figures)
            for name in groups:
                progress(f"{name}:")
                try:
                    GROUPS[name](bench)
                except Exception as error:  # one unfinished page must not hide the others
                    progress(f"  {name} FAILED: {error!r}")
                    errors.append(
                        {"group": name, "error": repr(error), "trace": traceback.format_exc()}
                    )
        client.close()
    if verify:
        payload["verify_ledger"] = _verify(figures, progress)
    payload["errors"] = errors
    payload["figures"] = [figure.as_json() for figure in figures]
    payload["table"] = table(figures)
    payload["seconds"] = (datetime.now(UTC) - started).total_seconds()
    payload["environment"]["load_average_at_end"] = os.getloadavg()
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = write_json(payload, directory=results_dir, stamp=f"{stamp}-{scale.name}")
    payload["results_file"] = str(path)
    return payload
