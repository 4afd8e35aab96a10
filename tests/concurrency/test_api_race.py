"""The same races through HTTP: clients in threads post to a live server (a thread per request,
each with its own PostgreSQL connection), as shops would."""

import http.client
import json
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Permission

from api.services import api_token_create
from inventory.ledger import verify_ledger
from orders.models import Order, PipelineSettings
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 60


def connect(connection: http.client.HTTPConnection, attempts: int = 20) -> None:
    for attempt in range(attempts):
        try:
            connection.connect()
            return
        except (ConnectionRefusedError, ConnectionResetError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def post_together(base_url: str, token: str, path: str, bodies: list[dict]) -> list[tuple]:
    """POST each body from its own thread, all released at once; return (status, json) each."""
    host = urlsplit(base_url)
    barrier = threading.Barrier(len(bodies))
    answers: list[tuple] = [(None, None)] * len(bodies)

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=TIMEOUT)
        try:
            payload = json.dumps(bodies[index])
            # Connected before the barrier (tests/conftest.py raises the server's listen
            # backlog), so that the requests themselves all arrive at once.
            connect(connection)
            barrier.wait(timeout=TIMEOUT)
            connection.request(
                "POST",
                path,
                body=payload,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            answers[index] = (response.status, json.loads(response.read()))
        except Exception as error:  # reported to the test, which fails on it
            answers[index] = ("error", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a client is stuck"
    return answers


@pytest.fixture
def shop(db):
    PipelineSettings.load()
    warehouse = WarehouseFactory(code="PAR")
    variant = VariantFactory(sku="TSHIRT-M")
    receive(variant, warehouse, 10)
    # Not the Merchant group: transactional tests flush the groups the roles migration made.
    merchant = UserFactory()
    merchant.user_permissions.add(
        Permission.objects.get(content_type__app_label="inventory", codename="reserve_stock")
    )
    _, token = api_token_create(user=merchant, name="Shop")
    return warehouse, variant, token


def order(reference: str, quantity=1) -> dict:
    return {
        "reference": reference,
        "warehouse": "PAR",
        "stage": "confirmed",
        "lines": [{"sku": "TSHIRT-M", "quantity": quantity}],
    }


def test_50_clients_ordering_1_of_10_units_get_10_created_and_40_refused_with_409(
    live_server, shop
):
    warehouse, variant, token = shop

    answers = post_together(
        live_server.url, token, "/api/v1/orders", [order(f"SO-{i}") for i in range(50)]
    )

    assert Counter(status for status, _ in answers) == {201: 10, 409: 40}, answers
    for status, body in answers:
        if status == 409:
            assert body["details"]["code"] == "insufficient_stock"
            assert body["details"]["shortfalls"][0]["sku"] == "TSHIRT-M"
        else:
            assert body["lines"][0]["reserved"] == "1.000"
    line = line_of(variant, warehouse)
    assert (line.on_hand, line.reserved, line.available) == (d(10), d(10), d(0))
    assert Order.objects.count() == 10
    report = verify_ledger()
    assert report.ok, report.problems


def test_10_clients_posting_the_same_order_get_one_201_and_nine_200_and_it_reserves_once(
    live_server, shop
):
    warehouse, variant, token = shop

    answers = post_together(live_server.url, token, "/api/v1/orders", [order("SO-1", 3)] * 10)

    assert Counter(status for status, _ in answers) == {201: 1, 200: 9}, answers
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
    assert line_of(variant, warehouse).reserved == d(3)
    assert Order.objects.count() == 1
    assert verify_ledger().ok


def test_clients_moving_the_same_order_at_once_apply_its_stock_effect_once(live_server, shop):
    warehouse, variant, token = shop
    post_together(live_server.url, token, "/api/v1/orders", [order("SO-1", 4)])

    answers = post_together(
        live_server.url, token, "/api/v1/orders/SO-1/stage", [{"stage": "shipped"}] * 8
    )

    assert Counter(status for status, _ in answers) == {200: 8}, answers
    line = line_of(variant, warehouse)
    assert (line.on_hand, line.reserved) == (d(6), d(0))
    assert verify_ledger().ok
