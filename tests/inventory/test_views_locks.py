"""/inventory/locks/new/: quality holds, locked stock is not available."""

import pytest

from inventory.ledger import verify_ledger
from inventory.models import HoldChange, HoldKind, LockReason
from inventory.services.errors import MSG_REASON_REQUIRED
from tests.factories import UserFactory
from tests.helpers import d, line_of, receive

pytestmark = pytest.mark.django_db

URL = "/inventory/locks/new/"


@pytest.fixture
def staff(client):
    user = UserFactory(role="Warehouse staff")
    client.force_login(user)
    return user


def post(client, variant, warehouse, *, kind="lock", quantity="2", action="apply", **fields):
    data = {
        "sku": variant.sku,
        "warehouse": warehouse.code,
        "action_kind": kind,
        "quantity": quantity,
        "reason": LockReason.QUALITY_CHECK,
        "note": "Stitching",
        "reference": "",
        "action": action,
    }
    data.update(fields)
    return client.post(URL, data)


def test_the_form_has_the_contract_labels(client, staff):
    html = client.get(URL).content.decode()

    for label in ("SKU", "Warehouse", "Quantity", "Reason", "Note", "Reference"):
        assert f">{label}</label>" in html


def test_locking_holds_stock_back_from_sale(client, staff, variant, warehouse):
    receive(variant, warehouse, 10)

    response = post(client, variant, warehouse)

    assert response.status_code == 302
    line = line_of(variant, warehouse)
    assert (line.on_hand, line.locked, line.available) == (d(10), d(2), d(8))
    change = HoldChange.objects.get()
    assert (change.kind, change.reason, change.created_by) == (
        HoldKind.LOCK,
        LockReason.QUALITY_CHECK,
        staff,
    )
    assert verify_ledger().ok


def test_unlocking_makes_it_available_again(client, staff, variant, warehouse):
    receive(variant, warehouse, 10)
    post(client, variant, warehouse, quantity="3")

    post(client, variant, warehouse, kind="unlock", quantity="3")

    assert line_of(variant, warehouse).available == d(10)


def test_the_preview_refuses_to_unlock_more_than_is_locked(client, staff, variant, warehouse):
    receive(variant, warehouse, 10)
    post(client, variant, warehouse, quantity="1")

    response = post(client, variant, warehouse, kind="unlock", quantity="2", action="preview")

    assert response.status_code == 400
    assert response.context["form"].errors["quantity"] == [
        f"Only 1.000 of {variant.sku} is locked in {warehouse.code}; cannot unlock 2.000."
    ]


def test_locking_more_than_available_is_refused(client, staff, variant, warehouse):
    receive(variant, warehouse, 2)

    response = post(client, variant, warehouse, quantity="3")

    assert response.status_code == 400
    assert "1.000 short" in response.context["form"].errors["quantity"][0]
    assert line_of(variant, warehouse).locked == d(0)


def test_a_reason_is_required(client, staff, variant, warehouse):
    receive(variant, warehouse, 2)

    response = post(client, variant, warehouse, reason="")

    assert response.context["form"].errors["reason"] == [MSG_REASON_REQUIRED]
    assert HoldChange.objects.count() == 0


def test_an_accountant_may_not_lock(client, variant, warehouse):
    client.force_login(UserFactory(role="Accountant"))

    assert post(client, variant, warehouse).status_code == 403
