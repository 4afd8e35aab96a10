#!/usr/bin/env python3
"""Run a command against a throwaway PostgreSQL cluster (standard library only).

    python scripts/with_postgres.py [--keep-defaults] -- COMMAND [ARG...]

With DATABASE_URL already set, runs COMMAND as it is. Otherwise creates a cluster in a temporary
folder, starts it on a free 127.0.0.1 port, runs COMMAND with
DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres and STOCKROOM_REQUIRE_POSTGRES=1 (and the
cluster's STOCKROOM_PG_DATA folder and STOCKROOM_PG_CTL command, for tests that restart it), then
stops the cluster and deletes the folder, also after Ctrl-C or SIGTERM. Exits with COMMAND's status.

PostgreSQL refuses to run as root: as root, the cluster's folders belong to the `postgres` user and
initdb / pg_ctl run through `runuser -u postgres --`; clients stay root and connect as `postgres`.
The cluster trades durability for speed (fsync=off, ...); --keep-defaults keeps PostgreSQL's
durability defaults (benchmarks). Either way the planner costs a random read as on an SSD
(random_page_cost=1.1), as the README asks of a production server. PG_BINDIR overrides the
binaries' folder (/usr/lib/postgresql/15/bin).
"""

import contextlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_BINDIR = Path(os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
#: The README's production setting: the default (4) assumes spinning disks, and steered a
#: search's deep page to a hash join over 16,000 variants (11 ms instead of 3 ms).
PRODUCTION_OPTIONS = "-c random_page_cost=1.1"
START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it
USAGE = "usage: with_postgres.py [--keep-defaults] -- COMMAND [ARG...]"


class ClusterError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self, *, keep_defaults: bool) -> None:
        self.keep_defaults = keep_defaults
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="stockroom-pg-"))
        self.root.chmod(0o755)  # the postgres user must traverse it
        self.data = self.root / "data"
        self.sockets = self.root / "sock"
        self.log = self.data / "server.log"
        self.port = 0

    @property
    def url(self) -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/postgres"

    def command(self, tool: str) -> list[str]:
        command = [str(PG_BINDIR / tool)]
        if self.as_root:
            command = ["runuser", "-u", PG_USER, "--", *command]
        return command

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        command = [*self.command(tool), *args]
        return subprocess.run(
            command, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def init(self) -> None:
        for folder in (self.data, self.sockets):
            folder.mkdir(mode=0o700)
            if self.as_root:
                shutil.chown(folder, PG_USER, PG_USER)
        done = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )
        if done.returncode:
            raise ClusterError(f"initdb failed:\n{done.stdout}")

    def start(self) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_port()
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1"
                f" -k {shlex.quote(str(self.sockets))} -c max_connections=300"
                f" {PRODUCTION_OPTIONS}"
            )
            if not self.keep_defaults:
                options += f" {FAST_OPTIONS}"
            done = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
            )
            if done.returncode == 0:
                return
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            if "could not bind" in log and attempt < START_ATTEMPTS:
                self.log.unlink()
                continue
            raise ClusterError(
                f"PostgreSQL did not start:\n{done.stdout}\n--- {self.log} ---\n{log}"
            )

    def stop_and_remove(self) -> None:
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            stopped = self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            if stopped.returncode:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGQUIT)  # the postmaster's own immediate shutdown
        shutil.rmtree(self.root, ignore_errors=True)


def parse_args(args: list[str]) -> tuple[bool, list[str]]:
    if "--" not in args:
        sys.exit(USAGE)
    split = args.index("--")
    options, command = args[:split], args[split + 1 :]
    if not command or any(option != "--keep-defaults" for option in options):
        sys.exit(USAGE)
    return bool(options), command


def main() -> int:
    keep_defaults, command = parse_args(sys.argv[1:])
    if os.environ.get("DATABASE_URL"):
        os.execvp(command[0], command)

    if not (PG_BINDIR / "initdb").exists():
        sys.exit(
            f"with_postgres: no PostgreSQL in {PG_BINDIR}: run "
            "`scripts/install_system_deps.sh postgres` (or set DATABASE_URL)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            sys.exit(f"with_postgres: running as root needs a `{PG_USER}` system user")

    child: subprocess.Popen | None = None

    def forward_or_exit(signum: int, _frame: object) -> None:
        if child is not None and child.poll() is None:
            child.send_signal(signum)  # the command ends, then the cluster is removed below
        else:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, forward_or_exit)
    signal.signal(signal.SIGHUP, forward_or_exit)

    started = time.monotonic()
    cluster = Cluster(keep_defaults=keep_defaults)
    try:
        cluster.init()
        cluster.start()
        print(
            f"with_postgres: PostgreSQL at {cluster.url} (data in {cluster.data}, "
            f"ready in {time.monotonic() - started:.1f}s)",
            file=sys.stderr,
            flush=True,
        )
        env = {
            **os.environ,
            "DATABASE_URL": cluster.url,
            "STOCKROOM_REQUIRE_POSTGRES": "1",
            # For tests that restart this throwaway server (tests/faults/test_db_restart.py).
            "STOCKROOM_PG_DATA": str(cluster.data),
            "STOCKROOM_PG_CTL": shlex.join(cluster.command("pg_ctl")),
        }
        # Ctrl-C at the terminal reaches the command itself (same process group): wait for it.
        signal.signal(signal.SIGINT, lambda _signum, _frame: None)
        try:
            child = subprocess.Popen(command, env=env)
        except OSError as error:
            print(f"with_postgres: cannot run {command[0]}: {error}", file=sys.stderr)
            return 127
        returncode = child.wait()
        return 128 - returncode if returncode < 0 else returncode
    except ClusterError as error:
        print(f"with_postgres: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # let the cleanup finish
        cluster.stop_and_remove()


if __name__ == "__main__":
    sys.exit(main())
