"""PostgreSQL restarting while a server takes adjustments:
requests during the outage fail cleanly (a 5xx or a refused connection, nothing half-written),
then succeed again on the same server processes, and the ledger verifies.

The throwaway cluster of scripts/with_postgres.py is restarted with its own pg_ctl
(STOCKROOM_PG_DATA, STOCKROOM_PG_CTL); never a database the test did not create. The restart is
a "fast" one: every session is cut and its open transaction rolled back, as in a failover or a
maintenance restart. (An "immediate" one, a crash, may lose the last acknowledged commits on this
cluster, which runs with synchronous_commit=off for speed: a property of that cluster, not of
the app; production keeps PostgreSQL's durable defaults.)
"""

import os
import secrets
import shlex
import subprocess
import threading
import time

import pytest
from django.db import connection

from bench.db import connection_url
from bench.http import CSRF_INPUT, Client
from bench.server import AppServer
from inventory.ledger import verify_ledger
from inventory.models import Movement
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "secret"
NOTE = "restart-load"
MAX_REQUESTS = 400  # bounded: the load stops after this many, or after the deadline
LOAD_SECONDS = 25


@pytest.fixture
def pg_ctl() -> list[str]:
    data, command = os.environ.get("STOCKROOM_PG_DATA"), os.environ.get("STOCKROOM_PG_CTL")
    if not (data and command):
        message = "needs the throwaway cluster of scripts/with_postgres.py (STOCKROOM_PG_DATA)"
        if os.environ.get("STOCKROOM_REQUIRE_POSTGRES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return [*shlex.split(command), "-D", data]


def adjust(client: Client, sku: str, code: str, n: int):
    form = client.get(f"/inventory/adjust/?sku={sku}&warehouse={code}")
    if form.status != 200:
        return form
    return client.post_form(
        "/inventory/adjust/",
        {
            "csrfmiddlewaretoken": CSRF_INPUT.search(form.text).group(1),
            "sku": sku,
            "warehouse": code,
            "mode": "change",
            "quantity": "1",
            "reason": "manual",
            "note": f"{NOTE} {n}",
            "reference": "",
            "action": "apply",
        },
    )


def test_requests_fail_cleanly_while_postgresql_restarts_and_succeed_afterwards(tmp_path, pg_ctl):
    warehouse = WarehouseFactory(code="RST")
    variant = VariantFactory(sku="RESTART-1")
    receive(variant, warehouse, 100)
    UserFactory(username="restart-merchant", role="Merchant", password=PASSWORD)
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": connection_url(),
        "SECRET_KEY": secrets.token_urlsafe(50),
    }
    outcomes: list[tuple[float, str]] = []  # (when, "ok" | "5xx" | "refused" | other)
    stop = threading.Event()

    with AppServer(env, log_path=tmp_path / "server.log", workers=2) as server:
        client = Client(server.url, timeout=15)
        client.login("restart-merchant", PASSWORD)

        def load():
            for n in range(MAX_REQUESTS):
                if stop.is_set():
                    return
                try:
                    response = adjust(client, variant.sku, warehouse.code, n)
                    if response.status == 302:
                        kind = "ok"
                    elif response.status >= 500:
                        kind = "5xx"
                    else:
                        kind = f"status {response.status}"
                except OSError as error:
                    kind = f"refused: {type(error).__name__}"
                    client.close()
                    time.sleep(0.05)
                outcomes.append((time.monotonic(), kind))

        thread = threading.Thread(target=load)
        thread.start()
        time.sleep(2)
        restart_began = time.monotonic()
        # -l: the new postmaster logs to the cluster's file, not to a pipe this test would wait on.
        log = os.path.join(os.environ["STOCKROOM_PG_DATA"], "server.log")
        done = subprocess.run(
            [*pg_ctl, "-l", log, "-m", "fast", "-w", "-t", "60", "restart"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=90,
        )
        restart_ended = time.monotonic()
        assert done.returncode == 0, f"pg_ctl restart failed, see {log}"
        # The load goes on after the restart; it must succeed again.
        deadline = time.monotonic() + LOAD_SECONDS
        while time.monotonic() < deadline and thread.is_alive():
            after = [kind for when, kind in outcomes if when > restart_ended + 1]
            if after.count("ok") >= 20:
                break
            time.sleep(0.2)
        stop.set()
        thread.join(60)

    connection.close()  # the test's own connection died with the server too
    kinds = [kind for _, kind in outcomes]
    failed = [kind for kind in kinds if kind != "ok"]
    after = [kind for when, kind in outcomes if when > restart_ended + 1]
    print(
        f"restart took {(restart_ended - restart_began) * 1000:.0f} ms; "
        f"{kinds.count('ok')} requests ok, failures: {sorted(set(failed))} x{len(failed)}; "
        f"after the restart: {after.count('ok')} of {len(after)} ok"
    )
    assert all(kind == "5xx" or kind.startswith("refused") for kind in failed), failed
    assert after and after.count("ok") >= 20 and all(kind == "ok" for kind in after[1:])

    written = Movement.objects.filter(note__startswith=NOTE).count()
    # Every answered success was written; a request cut at its COMMIT may have been too.
    assert kinds.count("ok") <= written <= kinds.count("ok") + len(failed)
    assert line_of(variant, warehouse).on_hand == d(100 + written)
    report = verify_ledger()
    assert report.ok, report
