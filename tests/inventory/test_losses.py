"""The losses report: adjustments by reason over a period, in quantity and value."""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from inventory.models import Movement
from inventory.selectors.valuation import LOSS_REPORT_REASONS, losses_by_reason
from inventory.services import StockQuantity, stock_adjust, stock_apply_counts, stock_receive
from inventory.services.clock import simulated_time
from tests.factories import UserFactory, VariantFactory

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2025-03-10T09:00:00+00:00")


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def receive_at(moment, variant, warehouse, quantity, cost=None):
    with simulated_time(moment):
        stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, quantity, cost)])


def adjust_at(moment, variant, warehouse, quantity, reason):
    with simulated_time(moment):
        stock_adjust(variant=variant, warehouse=warehouse, quantity=quantity, reason=reason)


@pytest.fixture
def losses(variant, warehouse, other_warehouse):
    """March 2025: breakage and a loss at 2.00, a count at 3.00 (after a costlier reception),
    one found unit; in April, a breakage that is outside the March period."""
    cheap = VariantFactory()
    receive_at(at(0), variant, warehouse, 20, Decimal("2.00"))
    receive_at(at(0), cheap, other_warehouse, 10)  # no cost ever
    adjust_at(at(1), variant, warehouse, -2, "breakage")
    adjust_at(at(2), variant, warehouse, -1, "loss")
    adjust_at(at(2), cheap, other_warehouse, -4, "loss")
    receive_at(at(3), variant, warehouse, 17, Decimal("4.00"))  # (17 x 2 + 17 x 4) / 34 = 3
    with simulated_time(at(4)):
        stock_apply_counts(warehouse=warehouse, counted={variant: 30}, reference="COUNT-1")
    adjust_at(at(5), variant, warehouse, 1, "found")
    adjust_at(at(25), variant, warehouse, -5, "breakage")  # 4 April
    return {"cheap": cheap}


def line(report, reason):
    return next(item for item in report.lines if item.reason == reason)


def test_losses_are_valued_at_the_average_cost_of_their_day(losses):
    report = losses_by_reason(Movement.objects.all(), start=at(-1), end=at(20))

    breakage, loss = line(report, "breakage"), line(report, "loss")
    count, found = line(report, "physical_count"), line(report, "found")
    assert (breakage.movements, breakage.lost_quantity, breakage.lost_value) == (
        1,
        Decimal("2.000"),
        Decimal("4.00"),
    )
    assert (loss.movements, loss.lost_quantity, loss.lost_value, loss.uncosted) == (
        2,
        Decimal("5.000"),
        Decimal("2.00"),  # the uncosted variant's 4 units have no value
        1,
    )
    assert (count.lost_quantity, count.lost_value) == (Decimal("4.000"), Decimal("12.00"))
    assert (found.found_quantity, found.found_value) == (Decimal("1.000"), Decimal("3.00"))
    assert (found.net_quantity, found.net_value) == (Decimal("1.000"), Decimal("3.00"))
    assert report.total.lost_value == Decimal("18.00")
    assert report.total.net_value == Decimal("-15.00")
    assert report.total.movements == 5
    assert [item.reason for item in report.lines] == list(LOSS_REPORT_REASONS)


def test_losses_report_period_includes_both_days(client, losses):
    client.force_login(UserFactory(role="Accountant"))

    march = client.get("/movements/losses/?from=2025-03-11&to=2025-03-11")
    april = client.get("/movements/losses/?from=2025-04-01")

    assert march.status_code == 200
    assert march.context["report"].total.movements == 1  # the breakage of 11 March
    assert april.context["report"].total.lost_value == Decimal("15.00")  # 5 x 3.00


def test_losses_report_by_warehouse(client, losses, other_warehouse):
    client.force_login(UserFactory(role="Accountant"))

    response = client.get(f"/movements/losses/?warehouse={other_warehouse.code}")

    report = response.context["report"]
    assert report.total.lost_quantity == Decimal("4.000")
    assert report.total.uncosted == 1
    assert "no cost yet" in response.content.decode()


def test_losses_csv_rows_and_total_match(client, losses):
    client.force_login(UserFactory(role="Accountant"))

    response = client.get("/movements/losses/export.csv?from=2025-03-01&to=2025-03-31")

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="losses-2025-03-01-to-2025-03-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "Reason",
        "Movements",
        "Lost quantity",
        "Lost value",
        "Found quantity",
        "Found value",
        "Net quantity",
        "Net value",
    ]
    assert rows[1] == ["Breakage", "1", "2.000", "4.00", "0.000", "0.00", "-2.000", "-4.00"]
    total = rows[-1]
    assert total[0] == "Total"
    for column in range(1, 8):
        assert sum(Decimal(row[column]) for row in rows[1:-1]) == Decimal(total[column])


def test_losses_report_refuses_a_reversed_period(client, losses):
    client.force_login(UserFactory(role="Accountant"))

    page = client.get("/movements/losses/?from=2025-04-01&to=2025-03-01")
    export = client.get("/movements/losses/export.csv?from=2025-04-01&to=2025-03-01")

    assert page.context["report"] is None
    assert "The end date is before the start date." in page.content.decode()
    assert export.status_code == 400


def test_losses_report_respects_scope_and_permissions(client, losses, warehouse):
    staff = UserFactory(role="Warehouse staff")
    staff.assigned_warehouses.add(warehouse)
    client.force_login(staff)

    response = client.get("/movements/losses/")

    assert line(response.context["report"], "loss").lost_quantity == Decimal("1.000")
    assert client.get("/movements/losses/export.csv").status_code == 403
    client.force_login(UserFactory())
    assert client.get("/movements/losses/").status_code == 403
