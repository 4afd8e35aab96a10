"""manage.py apply_count: applies a session with progress, refuses clearly."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.ledger import verify_ledger
from inventory.models import CountScope, CountStatus, Movement
from inventory.services import StockQuantity, count_record, count_session_start, stock_reserve
from tests.factories import UserFactory
from tests.helpers import d, line_of, receive

pytestmark = pytest.mark.django_db


def test_apply_count_applies_the_session_and_reports_progress(warehouse, variant):
    UserFactory(username="clara")
    receive(variant, warehouse, 10)
    session = count_session_start(warehouse=warehouse, scope=CountScope.ALL)
    count_record(session=session, variant=variant, quantity=8)
    out = StringIO()

    call_command("apply_count", str(session.pk), "--user", "clara", stdout=out)

    text = out.getvalue()
    assert f"{session.reference} in {warehouse.code}: 1 lines, 1 counted, 1 with a gap." in text
    assert "Locking 1 stock lines with a gap…" in text
    assert f"{session.reference} applied: 1 corrections" in text
    session.refresh_from_db()
    assert session.status == CountStatus.APPLIED
    assert session.applied_by.username == "clara"
    assert line_of(variant, warehouse).on_hand == d(8)
    assert verify_ledger().ok


def test_apply_count_refuses_an_unknown_or_applied_session(warehouse, variant):
    receive(variant, warehouse, 10)
    session = count_session_start(warehouse=warehouse, scope=CountScope.ALL)
    count_record(session=session, variant=variant, quantity=8)
    call_command("apply_count", str(session.pk), stdout=StringIO())

    with pytest.raises(CommandError, match="No count session 999999"):
        call_command("apply_count", "999999", stdout=StringIO())
    with pytest.raises(CommandError, match="it cannot be changed any more"):
        call_command("apply_count", str(session.pk), stdout=StringIO())
    assert Movement.objects.filter(reference=session.reference).count() == 1


def test_apply_count_names_the_lines_that_would_go_below_available(warehouse, variant):
    receive(variant, warehouse, 10)
    stock_reserve(warehouse=warehouse, lines=[StockQuantity(variant, 9)], reference="SO-1")
    session = count_session_start(warehouse=warehouse, scope=CountScope.ALL)
    count_record(session=session, variant=variant, quantity=5)
    err = StringIO()

    with pytest.raises(CommandError, match="Nothing applied: 1 lines"):
        call_command("apply_count", str(session.pk), stdout=StringIO(), stderr=err)

    assert f"Not enough stock of {variant.sku}" in err.getvalue()
    assert line_of(variant, warehouse).on_hand == d(10)
