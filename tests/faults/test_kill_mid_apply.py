"""A count applied while its server process is killed (SIGKILL) in the middle: afterwards it is
entirely applied or not at all, and the ledger verifies. Then it applies, whole, on a new server.

A real gunicorn on the test database (PostgreSQL): the test sees the server's transaction in
pg_stat_activity, lets it run a little, then kills the worker and its master at once.
"""

import os
import secrets
import signal
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from bench.db import connection_url
from bench.http import CSRF_INPUT, Client
from bench.server import AppServer
from inventory.ledger import verify_ledger
from inventory.models import CountStatus, Movement, StockLine
from tests.factories import UserFactory, WarehouseFactory
from tests.helpers import counted_everywhere

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    # The server reads what the test writes; the role groups come back after the flush
    # (inventory/roles.py).
    pytest.mark.django_db(transaction=True),
]

LINES = 40_000
PASSWORD = "secret"
POLL = 0.02


def server_transaction_running(database: str, own_pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> %s "
            "AND xact_start IS NOT NULL AND state <> 'idle' "
            "AND xact_start < now() - interval '5 milliseconds'",
            [database, own_pid],
        )
        return cursor.fetchone()[0] > 0


def server_env() -> dict:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": connection_url(),
        "SECRET_KEY": secrets.token_urlsafe(50),
    }


def logged_in(server: AppServer) -> Client:
    client = Client(server.url, timeout=120)
    client.login("fault-merchant", PASSWORD)
    return client


#: How long the apply's transaction runs before the kill (the whole apply takes about 6 s).
@pytest.mark.parametrize("kill_after", [0.5, 3.0])
def test_a_count_killed_mid_apply_is_all_or_nothing_and_applies_whole_afterwards(
    tmp_path, kill_after
):
    warehouse = WarehouseFactory(code="KILL")
    UserFactory(username="fault-merchant", role="Merchant", password=PASSWORD)
    session = counted_everywhere(warehouse, lines=LINES)  # one correction per line
    database = connection.settings_dict["NAME"]
    own_pid = connection.connection.info.backend_pid
    env = server_env()

    server = AppServer(env, log_path=tmp_path / "killed.log").start()
    try:
        client = logged_in(server)
        answers: list = []
        page = client.get(f"/inventory/counts/{session.pk}/gaps/")
        token = CSRF_INPUT.search(page.text).group(1)

        def apply():
            try:
                answers.append(
                    client.post_form(
                        f"/inventory/counts/{session.pk}/apply/",
                        {"csrfmiddlewaretoken": token},
                    )
                )
            except OSError as error:
                answers.append(error)

        thread = threading.Thread(target=apply)
        started = time.monotonic()
        thread.start()
        deadline = started + 60
        while not server_transaction_running(database, own_pid):
            assert time.monotonic() < deadline, "the apply never started"
            assert thread.is_alive(), f"the apply finished before the kill: {answers}"
            time.sleep(POLL)
        time.sleep(kill_after)
        killed_after_ms = (time.monotonic() - started) * 1000
        os.killpg(server.process.pid, signal.SIGKILL)  # master and worker, no cleanup
        server.process.wait(10)
        thread.join(30)
    finally:
        server.stop()

    # PostgreSQL rolls the dead connection's transaction back; wait until it is gone.
    deadline = time.monotonic() + 30
    while server_transaction_running(database, own_pid):
        assert time.monotonic() < deadline
        time.sleep(POLL)

    written = Movement.objects.filter(reference=session.reference).count()
    session.refresh_from_db()
    print(
        f"killed after {killed_after_ms:.0f} ms: {written} of {LINES} movements written, "
        f"session {session.status}, answer {answers}"
    )
    assert isinstance(answers[0], OSError), answers  # the request never got its answer
    assert written in {0, LINES}
    assert (written == LINES) == (session.status == CountStatus.APPLIED)
    assert verify_ledger().ok
    assert set(StockLine.objects.filter(warehouse=warehouse).values_list("on_hand", flat=True)) == {
        Decimal(11) if written else Decimal(10)
    }

    # A new server applies it, whole, once.
    with AppServer(env, log_path=tmp_path / "after.log") as again:
        client = logged_in(again)
        page = client.get(f"/inventory/counts/{session.pk}/gaps/")
        token = CSRF_INPUT.search(page.text).group(1)
        start = time.monotonic()
        answer = client.post_form(
            f"/inventory/counts/{session.pk}/apply/", {"csrfmiddlewaretoken": token}
        )
        print(f"applied again in {(time.monotonic() - start) * 1000:.0f} ms: {answer.status}")
        assert answer.status == 302
    assert Movement.objects.filter(reference=session.reference).count() == LINES
    assert set(StockLine.objects.filter(warehouse=warehouse).values_list("on_hand", flat=True)) == {
        Decimal(11)
    }
    assert verify_ledger().ok
