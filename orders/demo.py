"""The demo shop's customers: orders placed, confirmed, shipped, cancelled, returned and
restocked through the order pipeline, so that the demo's Orders page and order pages are full,
and every reservation and Sale in its ledger belongs to a real order.

``inventory.demo`` writes the stock side of the history and calls ``ShopCustomers.plan_day``
for each day; the orders app composes the two (``seed_demo``) because it sees both apps, and
inventory never imports orders.
"""

import random
from collections import Counter
from datetime import datetime, timedelta

from django.utils import timezone

from inventory.demo import HISTORY_DAYS, DemoOptions, HistoryWriter
from inventory.demo import seed_demo as seed_stock_demo
from inventory.models import StockLine
from inventory.services import InsufficientStock

from .models import Order, Stage
from .services import OrderLineInput, order_create, order_set_stage

#: Share of orders paid by bank transfer: created New, confirmed (and reserved) a day or two later.
BANK_TRANSFER_RATE = 0.05
#: Share of confirmed orders the customer cancels before they ship.
CANCEL_RATE = 0.03
#: Share of shipped orders sent back, then restocked.
RETURN_RATE = 0.015
#: Orders placed in the last hour before the demo's "now", paid or not: still Confirmed (not
#: shipped yet) or New (waiting for payment), whatever the demo's size.
LATE_ORDERS = (False, True, False, True)
#: Movements an order accounts for, measured on the demo: 1.8 Sale movements when it ships,
#: and 0.6 reception movements of the restocks its sales call for.
MOVEMENTS_PER_ORDER = 2.4
REFERENCE_FORMAT = "SO-{number}"
FIRST_NUMBER = 10001
#: The warehouse and the merchant's office work from 8:00 to 18:00 (local time); the shop's
#: customers order and pay at any hour.
OPENING_HOUR, CLOSING_HOUR = 8, 18


def _minutes(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(minutes=rng.randint(low, high))


def _working_hours(moment: datetime) -> datetime:
    """``moment``, or the next opening hour if the warehouse is closed then."""
    local = timezone.localtime(moment)
    if local.hour >= CLOSING_HOUR:
        local += timedelta(days=1)
    if not OPENING_HOUR <= local.hour < CLOSING_HOUR:
        local = local.replace(hour=OPENING_HOUR)
    return local


class ShopCustomers:
    """The shop pushes its paid orders as Confirmed (which reserves them); the warehouse staff
    ship them within a day or so (an Exit, reason Sale). Orders paid by bank transfer arrive
    New and are confirmed when the money comes in, or cancelled if the stock has gone by then.
    Some customers cancel before shipping (the reservation released); a few send their parcel
    back, and the staff restock it. A step that would fall after the demo's "now" has not
    happened yet, so the latest orders are still New or Confirmed.

    The shop only sells what it shows as available: an order's lines are the SKUs the
    warehouse has enough of when it is placed."""

    def __init__(self):
        self.number = FIRST_NUMBER - 1

    def plan_day(self, history: HistoryWriter, day: int) -> None:
        per_day = max(1, round(history.sales_movements_per_day / MOVEMENTS_PER_ORDER))
        for n in range(per_day):
            history.schedule(history.at(day, 7 + (n * 16) // per_day), self.place, history)
        if day == HISTORY_DAYS:
            for awaiting_payment in LATE_ORDERS:
                moment = history.end - _minutes(history.rng, 5, 55)
                history.schedule(moment, self.place, history, awaiting_payment)

    def _move(self, order: Order, stage: str, user) -> Order:
        order, _ = order_set_stage(order=order, stage=stage, user=user)
        return order

    def _lines(self, history: HistoryWriter, warehouse) -> list[OrderLineInput]:
        wanted = {v.pk: v for v in history.pick(history.rng.randint(1, 3))}
        quantities = {pk: history.quantity(v, 1, 3) for pk, v in wanted.items()}
        available = dict(
            StockLine.objects.in_warehouse(warehouse)
            .filter(variant__in=list(wanted))
            .values_list("variant_id", "available")
        )
        return [
            OrderLineInput(wanted[pk], quantity)
            for pk, quantity in quantities.items()
            if available.get(pk, 0) >= quantity
        ]

    def place(self, history: HistoryWriter, awaiting_payment: bool = False) -> None:
        rng = history.rng
        warehouse = rng.choice(history.warehouses)
        lines = self._lines(history, warehouse)
        if not lines:
            return
        by_transfer = awaiting_payment or rng.random() < BANK_TRANSFER_RATE
        self.number += 1
        order, _ = order_create(
            reference=REFERENCE_FORMAT.format(number=self.number),
            warehouse=warehouse,
            lines=lines,
            stage=Stage.NEW if by_transfer else Stage.CONFIRMED,
            user=history.users["merchant"],
        )
        if not by_transfer:
            self.confirmed(history, order)
        elif not awaiting_payment:
            moment = order.created_at + _minutes(rng, 12 * 60, 48 * 60)
            history.schedule(moment, self.payment_received, history, order)

    def payment_received(self, history: HistoryWriter, order: Order) -> None:
        merchant = history.users["merchant"]
        try:
            order = self._move(order, Stage.CONFIRMED, merchant)
        except InsufficientStock:
            # Nothing was reserved: the shop cancels the order it can no longer serve.
            self._move(order, Stage.CANCELLED, merchant)
            return
        self.confirmed(history, order)

    def confirmed(self, history: HistoryWriter, order: Order) -> None:
        rng = history.rng
        if rng.random() < CANCEL_RATE:
            moment = _working_hours(order.stage_changed_at + _minutes(rng, 60, 360))
            history.schedule(moment, self._move, order, Stage.CANCELLED, history.users["merchant"])
        else:
            moment = _working_hours(order.stage_changed_at + _minutes(rng, 2 * 60, 26 * 60))
            history.schedule(moment, self.ship, history, order)

    def ship(self, history: HistoryWriter, order: Order) -> None:
        rng = history.rng
        order = self._move(order, Stage.SHIPPED, history.users["staff"])
        if rng.random() < RETURN_RATE:
            moment = _working_hours(order.stage_changed_at + _minutes(rng, 3 * 1440, 12 * 1440))
            history.schedule(moment, self.send_back, history, order)

    def send_back(self, history: HistoryWriter, order: Order) -> None:
        order = self._move(order, Stage.RETURNED, history.users["merchant"])
        moment = _working_hours(order.stage_changed_at + _minutes(history.rng, 1440, 3 * 1440))
        # The staff check the parcel, then enter the goods back into stock.
        history.schedule(moment, self._move, order, Stage.RETURN_RESTOCKED, history.users["staff"])


def seed_demo(options: DemoOptions) -> dict:
    """The whole demo: inventory's users, catalog, warehouses and stock history, with the
    shop's orders written through the pipeline; once (see ``inventory.demo.seed_demo``)."""
    result = seed_stock_demo(options, customers=ShopCustomers())
    stages = Counter(Order.objects.values_list("stage", flat=True))
    return result | {"orders": sum(stages.values()), "orders_by_stage": dict(stages)}
