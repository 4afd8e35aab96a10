"""`make bench` (`python -m bench`): a million stock lines and ten million movements, measured
side by side with raw PostgreSQL and the Django admin.

    python scripts/with_postgres.py --keep-defaults -- python -m bench [--scale full|small|tiny]

DATABASE_URL names the PostgreSQL server to use (with_postgres.py starts a throwaway one). The
benchmark creates a database of its own there (``stockroom_bench``), never touching the one in
DATABASE_URL, and drops it at the end unless --keep. Prints the table of figures and writes
them as JSON to bench/results/<time>-<scale>.json.
"""

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from .db import DATABASE_NAME, create_database, database_exists, database_url, drop_database
from .scales import SCALES

SETTINGS = "bench.settings"
#: The figure groups of bench.run.GROUPS, in the order they run (importable before Django is).
GROUP_NAMES = ("list", "export", "stock_at", "adjust", "reception", "count")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scale", choices=sorted(SCALES), default=os.environ.get("SCALE") or "full"
    )
    parser.add_argument("--database", default=DATABASE_NAME, help="database to create and use")
    parser.add_argument(
        "--keep", action="store_true", help="keep the benchmark's database after the run"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse a kept database seeded at the same scale (for repeated runs; earlier "
        "runs' writes are in it)",
    )
    parser.add_argument(
        "--only", help=f"comma-separated figure groups among {','.join(GROUP_NAMES)}"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the final verify_ledger")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a figure misses its target"
    )
    return parser.parse_args(argv)


def _marker(scale) -> str:
    return f"stockroom bench: scale={scale.name} lines={scale.stock_lines} moves={scale.movements}"


def _seeded_marker(server_url: str, name: str) -> str | None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    return row[0] if row else None


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    scale = SCALES[args.scale]
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        print(
            "bench: needs PostgreSQL: run `make bench`, or set DATABASE_URL=postgres://...",
            file=sys.stderr,
        )
        return 2
    groups = args.only.split(",") if args.only else list(GROUP_NAMES)
    unknown = set(groups) - set(GROUP_NAMES)
    if unknown:
        print(f"bench: unknown figure groups: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    reuse = (
        args.reuse
        and database_exists(server_url, args.database)
        and _seeded_marker(server_url, args.database) == _marker(scale)
    )
    if not reuse:
        create_database(server_url, args.database)
    bench_url = database_url(server_url, args.database)
    env = {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": bench_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from .run import GROUPS, run

    assert tuple(GROUPS) == GROUP_NAMES

    started = time.monotonic()
    try:
        # Also on a reused database: the code may have new migrations since it was seeded.
        call_command("migrate", verbosity=0)
        workdir = Path(tempfile.mkdtemp(prefix="stockroom-bench-"))
        payload = run(
            scale,
            server_env=env,
            workdir=workdir,
            groups=groups,
            seed_data=not reuse,
            verify=not args.no_verify,
            progress=lambda text: print(text, flush=True),
        )
        if not reuse:
            with connections["default"].cursor() as cursor:
                cursor.execute(f'COMMENT ON DATABASE "{args.database}" IS %s', [_marker(scale)])
    finally:
        connections.close_all()
        if not args.keep:
            drop_database(server_url, args.database)
    print()
    print(payload["table"])
    print(
        f"\n{len(payload['figures'])} figures in {time.monotonic() - started:.0f} s: "
        f"{payload['results_file']}"
    )
    if payload["errors"]:
        print(
            f"{len(payload['errors'])} figure group(s) failed to run: "
            f"{', '.join(error['group'] for error in payload['errors'])}",
            file=sys.stderr,
        )
        return 1
    if payload.get("verify_ledger", {}).get("ok") is False:
        return 1
    if args.strict and any(figure["passed"] is False for figure in payload["figures"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
