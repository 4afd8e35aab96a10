"""The app servers keep no state of their own: two server processes on one database behave as
one app, as several gunicorn servers behind a load balancer must.

One browser (one cookie jar) logs in on server A, then its requests alternate between A and B:
the session, the CSRF cookie and the flash messages written by one server are read by the
other, and stock moved through both adds up. Then both servers take adjustments at the same
time, and the ledger still verifies. An admin import previewed on one server is confirmed on
the other: the uploaded file waits in the database, not on the first server's disk.
"""

import re
import secrets
import threading
from decimal import Decimal

import pytest

from bench.db import connection_url
from bench.http import CSRF_INPUT, Client
from bench.server import AppServer
from catalog.models import Variant
from inventory.ledger import verify_ledger
from inventory.models import Movement
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    # The servers read what the test writes, so it must be committed.
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "secret"
ALTERNATING_STEPS = 6
CONCURRENT_STEPS = 8
ON_HAND_NOW = re.compile(r"On hand is now (\d+(?:\.\d+)?)")
IMPORTED_ROWS = 500
CATALOG_HEADER = "Product,Variant,SKU,Barcode,Unit,Alert threshold,Category,Active"
CONFIRM_FORM = re.compile(r'<form action="[^"]*/process_import/" method="POST">(.*?)</form>', re.S)
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def _servers(tmp_path):
    env = {
        # Production's settings, served over plain HTTP on the loopback (bench/settings.py).
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": connection_url(),
        # What the servers share: the database, and the secret that signs sessions and cookies.
        "SECRET_KEY": secrets.token_urlsafe(50),
    }
    servers = []
    for name in ("a", "b"):
        # Each its own temporary folder, as on two machines: nothing may be left there for
        # the next request.
        folder = tmp_path / f"tmp-{name}"
        folder.mkdir()
        servers.append(
            AppServer({**env, "TMPDIR": str(folder)}, log_path=tmp_path / f"server-{name}.log")
        )
    return servers


def _adjust(client: Client, *, sku: str, warehouse: str, quantity: int, note: str):
    form = client.get(f"/inventory/adjust/?sku={sku}&warehouse={warehouse}")
    assert form.status == 200, form.status
    token = CSRF_INPUT.search(form.text).group(1)
    return client.post_form(
        "/inventory/adjust/",
        {
            "csrfmiddlewaretoken": token,
            "sku": sku,
            "warehouse": warehouse,
            "mode": "change",
            "quantity": str(quantity),
            "reason": "manual",
            "note": note,
            "reference": "",
            "action": "apply",
        },
    )


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body, as a browser sends a form with a file input."""
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_two_server_processes_share_sessions_and_move_stock_on_one_database(tmp_path):
    warehouse = WarehouseFactory(code="TWO")
    variant = VariantFactory(sku="TWO-SERVERS-1")
    receive(variant, warehouse, 100)
    UserFactory(username="lb-merchant", role="Merchant", password=PASSWORD)
    server_a, server_b = _servers(tmp_path)
    with server_a, server_b:
        assert server_a.process.pid != server_b.process.pid
        browser = Client(server_a.url)
        browser.login("lb-merchant", PASSWORD)
        # The same browser (the same cookies) sent to the other server by the load balancer.
        via_b = Client(server_b.url, cookies=browser.cookies)
        assert via_b.get("/inventory/").status == 200

        expected = Decimal(100)
        for step in range(ALTERNATING_STEPS):
            writer, reader = (browser, via_b) if step % 2 == 0 else (via_b, browser)
            quantity = 5 if step % 3 else -3
            answer = _adjust(
                writer,
                sku=variant.sku,
                warehouse=warehouse.code,
                quantity=quantity,
                note=f"step {step}",
            )
            assert answer.status == 302, answer.text[:500]
            expected += quantity
            # The success message written by one server is shown by the other.
            shown = reader.get(answer.header("location"))
            assert shown.status == 200
            assert ON_HAND_NOW.search(shown.text).group(1) == f"{expected:f}"

        failures = []

        def adjust_many(client: Client, name: str):
            for step in range(CONCURRENT_STEPS):
                answer = _adjust(
                    client,
                    sku=variant.sku,
                    warehouse=warehouse.code,
                    quantity=1,
                    note=f"{name} {step}",
                )
                if answer.status != 302:
                    failures.append((name, step, answer.status))

        # Two browsers at once, one on each server, each with its own session.
        other = Client(server_b.url)
        other.login("lb-merchant", PASSWORD)
        on_a = Client(server_a.url, cookies=dict(browser.cookies))
        threads = [
            threading.Thread(target=adjust_many, args=(on_a, "A")),
            threading.Thread(target=adjust_many, args=(other, "B")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads)
        assert failures == []
        expected += 2 * CONCURRENT_STEPS

        # Logging out through B ends the session for A too: it lives in the database.
        before_logout = Client(server_a.url, cookies=dict(browser.cookies))
        token = CSRF_INPUT.search(via_b.get("/inventory/adjust/").text).group(1)
        logout = via_b.post_form("/accounts/logout/", {"csrfmiddlewaretoken": token})
        assert logout.status == 302
        answer = before_logout.get("/inventory/")
        assert answer.status == 302
        assert answer.header("location").startswith("/accounts/login/")

    line = line_of(variant, warehouse)
    assert line.on_hand == d(expected)
    assert Movement.objects.filter(stock_line=line).count() == 1 + ALTERNATING_STEPS + 2 * (
        CONCURRENT_STEPS
    )
    report = verify_ledger()
    assert report.problems == []


def test_an_admin_import_previewed_on_one_server_is_confirmed_on_the_other(tmp_path):
    UserFactory(username="lb-importer", role="Merchant", is_staff=True, password=PASSWORD)
    catalog = (
        CATALOG_HEADER
        + "\n"
        + "".join(
            f"Server mug {n},Red,LB-IMPORT-{n:04d},,pc,3,Home,1\n" for n in range(IMPORTED_ROWS)
        )
    )
    server_a, server_b = _servers(tmp_path)
    with server_a, server_b:
        on_a = Client(server_a.url)
        on_a.login("lb-importer", PASSWORD)
        body, content_type = _multipart(
            {
                "csrfmiddlewaretoken": on_a.csrf_token("/admin/catalog/variant/import/"),
                "resource": "0",
                "format": "0",
            },
            {"import_file": ("catalog.csv", catalog.encode())},
        )
        preview = on_a.request(
            "POST",
            "/admin/catalog/variant/import/",
            body=body,
            headers={"Content-Type": content_type},
        )
        assert preview.status == 200, preview.text[-2000:]
        confirm = dict(HIDDEN_INPUT.findall(CONFIRM_FORM.search(preview.text).group(1)))
        assert {"import_file_name", "format", "csrfmiddlewaretoken"} <= confirm.keys()
        assert not Variant.objects.filter(sku__startswith="LB-IMPORT-").exists()

        # The load balancer sends the confirmation to the other server.
        on_b = Client(server_b.url, cookies=dict(on_a.cookies))
        done = on_b.post_form("/admin/catalog/variant/process_import/", confirm)

        assert done.status == 302, done.text[-2000:]
        assert done.header("location") == "/admin/catalog/variant/"
        assert "Import finished" in on_b.get(done.header("location")).text
    imported = Variant.objects.filter(sku__startswith="LB-IMPORT-")
    assert imported.count() == IMPORTED_ROWS
    assert set(imported.values_list("alert_threshold", flat=True)) == {d(3)}
    # Neither server kept anything in its own temporary folder.
    assert [path.name for path in (tmp_path / "tmp-a").iterdir()] == []
    assert [path.name for path in (tmp_path / "tmp-b").iterdir()] == []
