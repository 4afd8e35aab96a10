"""Demo data: a small shop's catalog, three warehouses and six months of history.

The history is written through the stock services, in time order in simulated time, so it
obeys every ledger rule: receptions, weekly restocks, breakage, transfers, quality holds and a
monthly physical count. The customers' side (orders reserved, shipped, cancelled, returned) is
supplied by the caller, ``orders.demo``, which writes it through the order pipeline.
"""

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Protocol

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from catalog.models import Category, Product, Supplier, Unit, Variant
from warehouses.models import Warehouse

from .models import LockReason, Movement, MovementReason, StockLine
from .services import (
    StockQuantity,
    stock_adjust,
    stock_apply_counts,
    stock_lock,
    stock_receive,
    stock_transfer,
)
from .services.clock import simulated_time

DEMO_PASSWORD = "demo"
DEMO_USERS = (
    # username, group, is_staff (admin site access), is_superuser
    ("merchant", "Merchant", True, False),
    ("staff", "Warehouse staff", False, False),
    ("accountant", "Accountant", True, False),
    ("admin", None, True, True),
)
WAREHOUSES = (
    ("PAR", "Paris central", "12 rue des Entrepôts, 75019 Paris"),
    ("LYO", "Lyon south", "4 quai Rambaud, 69002 Lyon"),
    ("BDX", "Bordeaux port", "80 quai de Bacalan, 33300 Bordeaux"),
    ("LIL", "Lille north", "3 rue de Tournai, 59000 Lille"),
    ("MRS", "Marseille docks", "1 boulevard des Dames, 13002 Marseille"),
)
CATEGORIES = {
    "Apparel": (["T-shirt", "Hoodie", "Polo", "Sweater", "Jacket", "Cap"], True),
    "Home": (["Mug", "Tea towel", "Candle", "Cushion cover", "Poster"], False),
    "Outdoor": (["Water bottle", "Backpack", "Tote bag", "Umbrella"], False),
    "Stationery": (["Notebook", "Pen set", "Sticker pack", "Calendar"], False),
}
ADJECTIVES = ["Classic", "Organic", "Heritage", "Urban", "Coastal", "Alpine", "Studio", "Nordic"]
COLOURS = ["Black", "White", "Navy", "Olive", "Red"]
SIZES = ["S", "M", "L", "XL"]
BULK_GOODS = (
    ("Arabica coffee beans", "COF", Unit.KILOGRAM),
    ("Basmati rice", "RICE", Unit.KILOGRAM),
    ("Cotton rope", "ROPE", Unit.METRE),
    ("Olive oil", "OIL", Unit.LITRE),
)
SUPPLIERS = ("Atelier Textile SA", "Maison Céramique", "Papeterie Dupont", "Épicerie Fine Import")
HISTORY_DAYS = 182


@dataclass(frozen=True)
class DemoOptions:
    variants: int = 240
    warehouses: int = 3
    movements: int = 6000
    seed: int = 42


def ensure_users() -> list[str]:
    User = get_user_model()
    created = []
    for username, group_name, is_staff, is_superuser in DEMO_USERS:
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={"is_staff": is_staff, "is_superuser": is_superuser},
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            created.append(username)
        if group_name:
            user.groups.add(Group.objects.get(name=group_name))
    return created


def _catalog_names(rng: random.Random, count: int):
    """Yield (category, product name, sku stem, [(variant name, unit)]) until ``count`` variants."""
    made = 0
    index = 0
    for name, stem, unit in BULK_GOODS:
        yield "Grocery & bulk", name, stem, [("", unit)]
        made += 1
    while made < count:
        category = list(CATEGORIES)[index % len(CATEGORIES)]
        kinds, sized = CATEGORIES[category]
        kind = kinds[(index // len(CATEGORIES)) % len(kinds)]
        adjective = ADJECTIVES[(index // (len(CATEGORIES) * len(kinds))) % len(ADJECTIVES)]
        stem = f"{kind.upper().replace(' ', '').replace('-', '')[:5]}{index:03d}"
        colours = rng.sample(COLOURS, 2 if sized else 3)
        if sized:
            options = [(f"{c} / {s}", Unit.PIECE) for c in colours for s in SIZES]
        else:
            options = [(c, Unit.PIECE) for c in colours]
        options = options[: count - made]
        made += len(options)
        index += 1
        yield category, f"{adjective} {kind.lower()}", stem, options


def ensure_catalog(options: DemoOptions, rng: random.Random):
    warehouses = []
    for code, name, address in WAREHOUSES[: options.warehouses]:
        warehouse, _ = Warehouse.objects.get_or_create(
            code=code, defaults={"name": name, "address": address}
        )
        warehouses.append(warehouse)
    for name in SUPPLIERS:
        Supplier.objects.get_or_create(name=name)
    variants = []
    barcode_number = 0
    for category_name, product_name, stem, variant_specs in _catalog_names(rng, options.variants):
        category, _ = Category.objects.get_or_create(name=category_name)
        threshold = Decimal(rng.choice([5, 8, 10, 12, 20]))
        product, _ = Product.objects.get_or_create(
            name=product_name,
            category=category,
            defaults={
                "alert_threshold": threshold,
                "description": f"{product_name}, from the demo catalog.",
                "weight_kg": Decimal(rng.randint(100, 1500)) / 1000,
            },
        )
        for variant_name, unit in variant_specs:
            barcode_number += 1
            suffix = "".join(part[:3].upper() for part in variant_name.split(" / ")) or "STD"
            sku = f"{stem}-{suffix}" if variant_name else stem
            variant, _ = Variant.objects.get_or_create(
                sku=sku,
                defaults={
                    "product": product,
                    "name": variant_name,
                    "unit": unit,
                    "barcode": f"3770{barcode_number:09d}",
                },
            )
            variants.append(variant)
    return warehouses, variants


class Customers(Protocol):
    """The demand side of the history: what the shop's customers order and send back.

    The orders app provides it (inventory never imports orders): ``plan_day`` schedules the
    day's activity on the writer, whose actions then run in time order."""

    def plan_day(self, history: "HistoryWriter", day: int) -> None: ...


class HistoryWriter:
    """Writes six months of plausible activity through the stock services.

    Every action is an event scheduled at a moment of the simulated past; ``run`` carries them
    out in time order (an action may schedule later ones: an order is shipped hours after it
    is confirmed), so every stock line's movements are dated in the order they were written.
    Events after ``end`` (the demo's "now") have not happened yet and are dropped."""

    def __init__(self, options: DemoOptions, rng, warehouses, variants, users):
        self.rng = rng
        self.warehouses = warehouses
        self.variants = variants
        self.users = users
        # A few best sellers, a long tail, and some products that never sell (stagnating).
        self.popularity = {v.pk: rng.paretovariate(1.3) for v in variants}
        for v in rng.sample(variants, max(1, len(variants) // 12)):
            self.popularity[v.pk] = 0
        self.end = timezone.now().replace(microsecond=0) - timedelta(hours=1)
        # Day 0 starts at midnight (local time), so that "at 9" means 9 o'clock.
        self.start = timezone.localtime(self.end - timedelta(days=HISTORY_DAYS)).replace(
            hour=0, minute=0, second=0
        )
        # The movement target, less what the stock side writes on its own, is left to the
        # customers' orders (and to the restocks their sales call for).
        fixed_calls = HISTORY_DAYS // 7 * (len(warehouses) + 3) + 6 * len(warehouses)
        self.sales_movements_per_day = max(0, options.movements - fixed_calls) / HISTORY_DAYS
        self._events: list[tuple] = []
        self._sequence = count()

    def schedule(self, moment: datetime, action: Callable, *args) -> None:
        """Run ``action(*args)`` at ``moment`` (simulated); same-moment events keep their order."""
        heapq.heappush(self._events, (moment, next(self._sequence), action, args))

    def at(self, day: int, hour: int) -> datetime:
        """A moment in ``hour`` of ``day`` (0 = the first day of the history)."""
        minute = self.rng.randint(0, 59)
        return self.start + timedelta(days=day, hours=hour, minutes=minute)

    def quantity(self, variant, low, high) -> Decimal:
        if variant.allows_fractions:
            return Decimal(self.rng.randint(low * 4, high * 4)) / 4
        return Decimal(self.rng.randint(low, high))

    def pick(self, count: int):
        """``count`` variants drawn by popularity (repeats possible)."""
        weights = [self.popularity[v.pk] for v in self.variants]
        return self.rng.choices(self.variants, weights=weights, k=count)

    def run(self, customers: Customers) -> None:
        staff = self.users["staff"]
        self.schedule(self.at(0, 8), self.initial_reception)
        # Up to today: what is planned after `end` (the demo's "now") has not happened yet.
        for day in range(1, HISTORY_DAYS + 1):
            if day % 7 == 1:
                self.schedule(self.at(day, 7), self.restock, day)
            if day % 7 == 3:
                self.schedule(self.at(day, 15), self.breakage, staff)
            if day % 7 == 5:
                self.schedule(self.at(day, 11), self.transfer, day, staff)
            if day % 30 == 28:
                self.schedule(self.at(day, 18), self.monthly_count, day, staff)
            if day % 45 == 20:
                self.schedule(self.at(day, 10), self.quality_hold, staff)
            customers.plan_day(self, day)
        self.schedule(self.end, self.clear_out_some_lines, staff)
        while self._events:
            moment, _, action, args = heapq.heappop(self._events)
            if moment <= self.end:
                with simulated_time(moment):
                    action(*args)

    def initial_reception(self):
        for warehouse in self.warehouses:
            stock_receive(
                warehouse=warehouse,
                lines=[
                    StockQuantity(
                        v,
                        self.quantity(v, 10, 60),
                        unit_cost=Decimal(self.rng.randint(150, 4000)) / 100,
                    )
                    for v in self.variants
                ],
                user=self.users["staff"],
                reference=f"{SUPPLIERS[0]} / DN-{warehouse.code}-0001",
                note="Opening stock",
            )

    def restock(self, day):
        for warehouse in self.warehouses:
            lines = []
            for line in (
                StockLine.objects.in_warehouse(warehouse).with_threshold().select_related("variant")
            ):
                threshold = line.threshold or Decimal(5)
                # Some products are restocked late: they end up Low or out of stock.
                restock_late = self.rng.random() >= 0.8
                if self.popularity[line.variant_id] and line.available < threshold * 2:
                    if restock_late:
                        continue
                    lines.append(
                        StockQuantity(
                            line.variant,
                            self.quantity(line.variant, int(threshold) * 2, int(threshold) * 4),
                            unit_cost=Decimal(self.rng.randint(150, 4000)) / 100,
                        )
                    )
            if lines:
                supplier = self.rng.choice(SUPPLIERS)
                stock_receive(
                    warehouse=warehouse,
                    lines=lines,
                    user=self.users["staff"],
                    reference=f"{supplier} / DN-{day:03d}{warehouse.code}",
                )

    def _line_with_stock(self, warehouse, minimum=Decimal(2)):
        lines = list(
            StockLine.objects.in_warehouse(warehouse)
            .filter(available__gte=minimum)
            .select_related("variant")
            .order_by("pk")
        )
        return self.rng.choice(lines) if lines else None

    def breakage(self, user):
        warehouse = self.rng.choice(self.warehouses)
        line = self._line_with_stock(warehouse)
        if line:
            reason = self.rng.choice([MovementReason.BREAKAGE, MovementReason.LOSS])
            stock_adjust(
                variant=line.variant,
                warehouse=warehouse,
                quantity=-1,
                reason=reason,
                note="Dropped during picking" if reason == "breakage" else "Not found on shelf",
                user=user,
            )

    def transfer(self, day, user):
        if len(self.warehouses) < 2:
            return
        source, destination = self.rng.sample(self.warehouses, 2)
        line = self._line_with_stock(source, Decimal(10))
        if line:
            stock_transfer(
                source=source,
                destination=destination,
                lines=[StockQuantity(line.variant, self.quantity(line.variant, 2, 5))],
                user=user,
                reference=f"TR-{day:03d}",
            )

    def monthly_count(self, day, user):
        for warehouse in self.warehouses:
            lines = list(
                StockLine.objects.in_warehouse(warehouse)
                .filter(reserved=0, locked=0, on_hand__gt=2)
                .select_related("variant")
            )
            counted = {}
            for line in self.rng.sample(lines, min(len(lines), 40)):
                gap = self.rng.choice([0, 0, 0, 0, -1, 1, -2])
                counted[line.variant] = line.on_hand + gap
            if counted:
                stock_apply_counts(
                    warehouse=warehouse,
                    counted=counted,
                    user=user,
                    reference=f"COUNT-{warehouse.code}-{day:03d}",
                    note="Monthly physical count",
                )

    def quality_hold(self, user):
        warehouse = self.rng.choice(self.warehouses)
        line = self._line_with_stock(warehouse, Decimal(6))
        if line:
            stock_lock(
                variant=line.variant,
                warehouse=warehouse,
                quantity=2,
                reason=LockReason.QUALITY_CHECK,
                note="Stitching defect reported by a customer",
                user=user,
            )

    def clear_out_some_lines(self, user):
        """Leave a few lines entirely out of stock, so the demo shows every status."""
        lines = list(
            StockLine.objects.filter(reserved=0, locked=0, on_hand__gt=0)
            .select_related("variant", "warehouse")
            .order_by("pk")
        )
        for line in self.rng.sample(lines, min(len(lines), max(3, len(lines) // 40))):
            stock_adjust(
                variant=line.variant,
                warehouse=line.warehouse,
                quantity=-line.on_hand,
                reason=MovementReason.LOSS,
                note="Water damage, whole shelf written off",
                user=user,
            )


def seed_demo(options: DemoOptions, *, customers: Customers) -> dict:
    """Users, catalog and warehouses (kept up to date), then the history with ``customers``'
    activity, once: an installation with movements already keeps its history."""
    rng = random.Random(options.seed)
    with transaction.atomic():
        created_users = ensure_users()
        warehouses, variants = ensure_catalog(options, rng)
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}
    wrote_history = False
    if not Movement.objects.exists():
        with transaction.atomic():
            HistoryWriter(options, rng, warehouses, variants, users).run(customers)
        wrote_history = True
    return {
        "users_created": created_users,
        "warehouses": len(warehouses),
        "variants": len(variants),
        "history_written": wrote_history,
        "movements": Movement.objects.count(),
        "stock_lines": StockLine.objects.count(),
    }
