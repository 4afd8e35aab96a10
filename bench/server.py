"""App server processes for the benchmark and the statelessness test: gunicorn on a free
loopback port, as in production, and the memory of its worker process."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .http import Client

BASE_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerError(Exception):
    pass


class AppServer:
    """``gunicorn config.wsgi`` with one sync worker (unless told otherwise) on 127.0.0.1.

    ``env`` is added to this process's environment: DJANGO_SETTINGS_MODULE, DATABASE_URL and
    SECRET_KEY at least. Use as a context manager; the server is stopped on the way out.
    """

    def __init__(
        self,
        env: dict[str, str],
        *,
        log_path: Path,
        workers: int = 1,
        worker_class: str = "sync",
        threads: int = 1,
        timeout: int = 900,
    ):
        self.env = {**os.environ, **env}
        self.log_path = Path(log_path)
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.timeout = timeout
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "AppServer":
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            # A sync worker is killed when one request outlasts the timeout: a million-line
            # export streams for longer than gunicorn's default 30 s.
            "--timeout",
            str(self.timeout),
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        client = Client(self.url, timeout=5)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn exited ({self.process.returncode}): {self.log_tail()}")
            try:
                if client.get("/accounts/login/").status == 200:
                    return
            except OSError:
                pass
            finally:
                client.close()
            time.sleep(0.2)
        self.stop()
        raise ServerError(f"gunicorn did not answer in {READY_TIMEOUT:.0f} s: {self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The worker processes (children of gunicorn's master)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(child) for child in children.read_text().split()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB, from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def reset_peak_rss(pid: int) -> bool:
    """Start measuring the peak resident memory afresh (Linux: ``5`` into clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True
