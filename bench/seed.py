"""The benchmark's data: a catalog, warehouses, a stock line per variant and warehouse, and two
years of movements that obey every ledger rule, written set-based with COPY.

Python computes each line's history (the quantities must stay above zero and the hash chain is
sequential) and streams it through COPY as it goes, while PostgreSQL ingests it on the other
core; secondary indexes and foreign keys are built once at the end (``db.bulk_load``).

What ``verify_ledger`` checks holds by construction: each movement's ``balance_after`` is the
running sum of its line's quantities, a line's ``on_hand`` is the last balance, its hash chain
is ``inventory.ledger.movement_hash`` computed over the exact same text (checked against that
function while seeding), ``ledger_head`` is the last hash, ``effective_threshold`` is the
threshold that applies. Nothing is reserved or locked, so no hold changes or orders are needed.

Every reception of a variant is at the same unit cost, so its weighted average cost is set once,
by its first reception in any warehouse: one cost-history row per variant, as the costing
service would write it.
"""

import random
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from hashlib import sha256

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Category, Supplier
from inventory.demo import ensure_users
from inventory.ledger import movement_hash
from warehouses.models import Warehouse

from .db import bulk_load, raw_connect, reset_sequence
from .scales import Scale

HISTORY_DAYS = 730
#: Lines that never moved (created, never stocked): Stockout, and the oldest "last movement".
NEVER_MOVED_SHARE = 0.05
#: Lines still selling in the last weeks; the others stopped at some point (stagnating).
ACTIVE_SHARE = 0.65
RESTOCK_BELOW = 12_000  # thousandths: a line is restocked when its balance falls below 12
COPY_BATCH = 20_000

WAREHOUSES = (
    ("PAR", "Paris central"),
    ("LYO", "Lyon south"),
    ("BDX", "Bordeaux port"),
    ("LIL", "Lille north"),
    ("MRS", "Marseille docks"),
    ("NTE", "Nantes west"),
    ("TLS", "Toulouse hub"),
    ("STR", "Strasbourg east"),
    ("NCE", "Nice riviera"),
    ("RNS", "Rennes depot"),
)
ADJECTIVES = ("Classic", "Organic", "Heritage", "Urban", "Coastal", "Alpine", "Studio", "Nordic")
#: (kind, SKU code, category, sized); the last one is sold by weight.
KINDS = (
    ("T-shirt", "TSHI", "Apparel", True),
    ("Hoodie", "HOOD", "Apparel", True),
    ("Polo", "POLO", "Apparel", True),
    ("Sweater", "SWEA", "Apparel", True),
    ("Jacket", "JACK", "Apparel", True),
    ("Cap", "CAPS", "Apparel", False),
    ("Mug", "MUGS", "Home", False),
    ("Tea towel", "TOWL", "Home", False),
    ("Candle", "CNDL", "Home", False),
    ("Cushion cover", "CUSH", "Home", False),
    ("Poster", "POST", "Home", False),
    ("Water bottle", "BOTL", "Outdoor", False),
    ("Backpack", "BPCK", "Outdoor", False),
    ("Tote bag", "TOTE", "Outdoor", False),
    ("Umbrella", "UMBR", "Outdoor", False),
    ("Notebook", "NOTE", "Stationery", False),
    ("Pen set", "PENS", "Stationery", False),
    ("Sticker pack", "STCK", "Stationery", False),
    ("Calendar", "CALD", "Stationery", False),
    ("Coffee beans", "COFF", "Grocery", None),
)
COLOURS = (
    ("Black", "BLK"),
    ("White", "WHT"),
    ("Navy", "NVY"),
    ("Olive", "OLV"),
    ("Red", "RED"),
    ("Grey", "GRY"),
    ("Sand", "SND"),
    ("Teal", "TEA"),
)
SIZES = ("S", "M", "L", "XL")
VARIANTS_PER_PRODUCT = (4, 2, 6, 1, 3, 4, 8, 2)
SUPPLIERS = ("Atelier Textile SA", "Maison Céramique", "Papeterie Dupont", "Outdoor Gear BV")
PRODUCT_THRESHOLDS = (5, 8, 10, 12, 20, 5, 10, None)

#: The search term and the SKU prefix the list is measured with exist at every scale.
SEARCH_TERM = "hoodie"

NULL = "\\N"
SEP = "\x1f"


@dataclass
class SeedReport:
    variants: int = 0
    products: int = 0
    warehouses: int = 0
    stock_lines: int = 0
    movements: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


class SeedError(Exception):
    pass


def _quantity(thousandths: int) -> str:
    """A quantity as ``f"{Decimal:.3f}"`` writes it (the ledger's hash text), from thousandths."""
    sign = "-" if thousandths < 0 else ""
    whole, fraction = divmod(abs(thousandths), 1000)
    return f"{sign}{whole}.{fraction:03d}"


def _cost(ten_thousandths: int) -> str:
    whole, fraction = divmod(ten_thousandths, 10_000)
    return f"{whole}.{fraction:04d}"


class Clock:
    """Microsecond timestamps as ISO 8601 text in UTC, as ``movement_hash`` writes them."""

    def __init__(self):
        self._hours: dict[int, str] = {}

    def iso(self, micros: int) -> str:
        hour, rest = divmod(micros, 3_600_000_000)
        prefix = self._hours.get(hour)
        if prefix is None:
            moment = datetime.fromtimestamp(hour * 3600, UTC)
            prefix = self._hours[hour] = f"{moment:%Y-%m-%dT%H:}"
        minute, rest = divmod(rest, 60_000_000)
        second, micro = divmod(rest, 1_000_000)
        return f"{prefix}{minute:02d}:{second:02d}.{micro:06d}+00:00"


@dataclass
class Catalog:
    #: Per variant (index = id - 1): unit cost in ten-thousandths, sold by weight, threshold.
    costs: list[int]
    by_weight: list[bool]
    variant_thresholds: list[int | None]


def _copy(cursor, table: str, columns: str, rows, *, freeze: bool = False) -> int:
    """COPY text rows (already formatted, each ending with a newline) into ``table``."""
    options = " WITH (FREEZE)" if freeze else ""
    count = 0
    with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN{options}') as copy:
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == COPY_BATCH:
                copy.write("".join(batch))
                count += len(batch)
                batch = []
        if batch:
            copy.write("".join(batch))
            count += len(batch)
    return count


def _reference_data(scale: Scale) -> tuple[list[int], dict[str, int], int]:
    """Warehouses, categories and suppliers through the ORM (a few rows); their ids."""
    codes = [code for code, _ in WAREHOUSES]
    codes += [f"W{index:02d}" for index in range(len(codes) + 1, scale.warehouses + 1)]
    names = dict(WAREHOUSES)
    warehouse_ids = [
        Warehouse.objects.create(
            code=code, name=names.get(code, f"Warehouse {code}"), address=f"{code} street 1"
        ).pk
        for code in codes[: scale.warehouses]
    ]
    categories = {
        name: Category.objects.create(name=name).pk
        for name in dict.fromkeys(kind[2] for kind in KINDS)
    }
    for name in SUPPLIERS:
        Supplier.objects.create(name=name)
    return warehouse_ids, categories, len(categories)


def _catalog_rows(scale: Scale, rng: random.Random, categories: dict[str, int], now_text: str):
    """Product and variant COPY rows, and what the movements need to know of each variant."""
    products, variants = [], []
    catalog = Catalog(costs=[], by_weight=[], variant_thresholds=[])
    per_kind: dict[str, int] = {}
    product_id = 0
    while len(variants) < scale.variants:
        kind, code, category, sized = KINDS[product_id % len(KINDS)]
        adjective = ADJECTIVES[(product_id // len(KINDS)) % len(ADJECTIVES)]
        product_id += 1
        number = per_kind[code] = per_kind.get(code, 0) + 1
        threshold = rng.choice(PRODUCT_THRESHOLDS)
        products.append(
            f"{product_id}\t{adjective} {kind.lower()} {number}\t{adjective} {kind.lower()}, "
            f"from the benchmark catalog.\t{rng.randint(100, 1500) / 1000:.3f}\t{NULL}\t{NULL}"
            f"\t{NULL}\t{NULL if threshold is None else threshold}\tt\t{now_text}\t{now_text}"
            f"\t{categories[category]}\n"
        )
        if sized is None:  # sold by weight: one variant, no name
            options = [("", "")]
        else:
            count = VARIANTS_PER_PRODUCT[product_id % len(VARIANTS_PER_PRODUCT)]
            if sized:
                combos = [(c, s) for c in COLOURS for s in SIZES]
                options = [(f"{c[0]} / {s}", f"{c[1]}-{s}") for c, s in combos[:count]]
            else:
                options = [(name, colour) for name, colour in COLOURS[:count]]
        cost = rng.randint(150, 4000) * 100
        for name, suffix in options[: scale.variants - len(variants)]:
            variant_id = len(variants) + 1
            sku = f"{code}-{number:05d}" + (f"-{suffix}" if suffix else "")
            override = rng.randint(3, 30) if rng.random() < 0.05 else None
            by_weight = sized is None
            variants.append(
                [
                    variant_id,
                    name,
                    sku,
                    f"377{variant_id:010d}",
                    "kg" if by_weight else "pc",
                    NULL if override is None else str(override),
                    product_id,
                    _cost(cost),
                ]
            )
            catalog.costs.append(cost)
            catalog.by_weight.append(by_weight)
            effective = override if override is not None else threshold
            catalog.variant_thresholds.append(effective)
    return products, variants, catalog


def _movement_counts(scale: Scale, rng: random.Random) -> array:
    """How many movements each line gets: 0 for the never-moved ones, the rest varied around
    the mean so that the total is exactly ``scale.movements``."""
    lines = scale.stock_lines
    counts = array("i", [0]) * lines
    moving = [index for index in range(lines) if rng.random() >= NEVER_MOVED_SHARE]
    if not moving or scale.movements < len(moving):
        raise SeedError("fewer movements than moving stock lines: raise the movement count")
    mean = scale.movements / len(moving)
    total = 0
    for index in moving:
        counts[index] = max(1, round(mean * (0.1 + 1.8 * rng.random())))
        total += counts[index]
    while total != scale.movements:
        index = moving[rng.randrange(len(moving))]
        if total < scale.movements:
            counts[index] += 1
            total += 1
        elif counts[index] > 1:
            counts[index] -= 1
            total -= 1
    return counts


class HistoryWriter:
    """Generates each line's movements and final state, as COPY text rows."""

    def __init__(self, scale, rng, catalog, warehouse_ids, counts, staff_id, now_us):
        self.scale = scale
        self.rng = rng
        self.catalog = catalog
        self.warehouse_ids = warehouse_ids
        self.counts = counts
        self.staff = str(staff_id)
        self.now_us = now_us
        self.start_us = now_us - HISTORY_DAYS * 86_400_000_000
        self.clock = Clock()
        self.line_rows: list[str] = []
        self.cost_rows: list[str] = []
        self.movement_id = 0
        self.delivery = 0
        self.order = 0
        self.checked = 0

    def _times(self, count: int) -> list[int]:
        rng, span = self.rng, self.now_us - self.start_us
        first = self.start_us + int(rng.random() * 0.35 * span)
        if rng.random() < ACTIVE_SHARE:
            last = self.now_us - int(rng.random() * 20 * 86_400_000_000)
        else:
            last = first + int((0.05 + 0.9 * rng.random()) * (self.now_us - first))
        slot = (last - first) / count
        times, previous = [], 0
        for index in range(count):
            moment = max(first + int(slot * (index + rng.random())), previous + 1)
            times.append(moment)
            previous = moment
        return times

    def movements(self):
        """Yield every movement row; fill ``line_rows`` and ``cost_rows`` on the way."""
        scale, rng, catalog = self.scale, self.rng, self.catalog
        iso, random_ = self.clock.iso, rng.random
        randint = rng.randint
        staff = self.staff
        for variant_index in range(scale.variants):
            variant_id = variant_index + 1
            cost = _cost(catalog.costs[variant_index])
            step = 250 if catalog.by_weight[variant_index] else 1000
            threshold = catalog.variant_thresholds[variant_index]
            first_reception = None  # (time, quantity, operation) of the variant's first entry
            for warehouse_index, warehouse_id in enumerate(self.warehouse_ids):
                line_id = variant_index * scale.warehouses + warehouse_index + 1
                line_key = str(line_id)
                count = self.counts[line_id - 1]
                balance, previous, moment = 0, "", None
                times = self._times(count) if count else []
                for index, moment in enumerate(times):
                    self.movement_id += 1
                    operation = f"5eed0000-0000-4000-8000-{self.movement_id:012x}"
                    unit_cost, reference, note, by = NULL, "", "", ""
                    draw = random_()
                    if index == 0 or balance < RESTOCK_BELOW:
                        kind, reason = "entry", "supplier_reception"
                        quantity = randint(20_000 // step, 120_000 // step) * step
                        unit_cost, by = cost, staff
                        self.delivery += 1
                        supplier = SUPPLIERS[self.delivery % len(SUPPLIERS)]
                        reference = f"{supplier} / DN-{self.delivery:07d}"
                    elif draw < 0.03:
                        kind, reason, quantity = "adjustment", "loss", -step
                        note, by = "Not found on shelf", staff
                    elif draw < 0.05:
                        kind, reason, by = "adjustment", "count_correction", staff
                        quantity = step if draw < 0.04 else -step
                        note = "Cycle count"
                    elif draw < 0.06:
                        kind, reason, quantity = "entry", "return_restocked", step
                        unit_cost, by = cost, staff
                        self.order += 1
                        reference, note = f"SO-{self.order:08d}", "Customer return, resellable"
                    elif draw < 0.10 and index == count - 1:
                        kind, reason, quantity = "adjustment", "loss", -balance
                        note, by = "Water damage, whole shelf written off", staff
                    else:
                        kind, reason = "exit", "sale"
                        quantity = -min(randint(1, 8) * step, balance)
                        self.order += 1
                        reference = f"SO-{self.order:08d}"
                    balance += quantity
                    at = iso(moment)
                    text_quantity, text_balance = _quantity(quantity), _quantity(balance)
                    hashed = (
                        f"{line_key}{SEP}{at}{SEP}{kind}{SEP}{reason}{SEP}{text_quantity}{SEP}"
                        f"{text_balance}{SEP}{'' if unit_cost is NULL else unit_cost}{SEP}"
                        f"{reference}{SEP}{note}{SEP}{by}{SEP}{operation}{SEP}{previous}"
                    )
                    digest = sha256(hashed.encode()).hexdigest()
                    if self.checked < 50:
                        self._check(
                            line_id,
                            at,
                            kind,
                            reason,
                            text_quantity,
                            text_balance,
                            unit_cost,
                            reference,
                            note,
                            by,
                            operation,
                            previous,
                            digest,
                        )
                    yield (
                        f"{self.movement_id}\t{at}\t{kind}\t{reason}\t{text_quantity}\t"
                        f"{text_balance}\t{unit_cost}\t{reference}\t{note}\t{operation}\t"
                        f"{previous}\t{digest}\t{by or NULL}\t{line_id}\n"
                    )
                    previous = digest
                    if index == 0 and (first_reception is None or moment < first_reception[0]):
                        first_reception = (moment, quantity, operation)
                self._line_row(
                    line_id, variant_id, warehouse_id, balance, previous, moment, threshold, times
                )
            if first_reception is not None:
                at, quantity, operation = first_reception
                self.cost_rows.append(
                    f"{iso(at)}\t{cost}\t{_quantity(quantity)}\t{operation}\t{variant_id}\n"
                )

    def _line_row(self, line_id, variant_id, warehouse_id, balance, head, last, threshold, times):
        rng = self.rng
        override = rng.randint(2, 25) if rng.random() < 0.01 else None
        effective = override if override is not None else threshold
        if times:
            created = times[0] - 86_400_000_000
            last_text = self.clock.iso(last)
        else:
            created = self.start_us + int(rng.random() * (self.now_us - self.start_us))
            last_text = NULL
        self.line_rows.append(
            f"{line_id}\t{variant_id}\t{warehouse_id}\t{_quantity(balance)}\t0\t0\t0\t"
            f"{NULL if override is None else override}\t"
            f"{NULL if effective is None else effective}\t{last_text}\t{last_text}\t"
            f"{head}\t{self.clock.iso(created)}\n"
        )

    def _check(
        self,
        line_id,
        at,
        kind,
        reason,
        quantity,
        balance,
        unit_cost,
        reference,
        note,
        by,
        operation,
        previous,
        digest,
    ) -> None:
        """The first movements' hashes, recomputed by the ledger's own function."""
        expected = movement_hash(
            stock_line_id=line_id,
            created_at=datetime.fromisoformat(at),
            type=kind,
            reason=reason,
            quantity=Decimal(quantity),
            balance_after=Decimal(balance),
            unit_cost=None if unit_cost is NULL else Decimal(unit_cost),
            reference=reference,
            note=note,
            created_by_id=int(by) if by else None,
            operation=operation,
            previous_hash=previous,
        )
        if expected != digest:
            raise SeedError(f"the seed's hash text differs from inventory.ledger's ({at})")
        self.checked += 1


MOVEMENT_COLUMNS = (
    "id, created_at, type, reason, quantity, balance_after, unit_cost, reference, note, "
    "operation, previous_hash, hash, created_by_id, stock_line_id"
)
LINE_COLUMNS = (
    "id, variant_id, warehouse_id, on_hand, reserved, locked, incoming, alert_threshold, "
    "effective_threshold, last_movement_at, changed_at, ledger_head, created_at"
)
PRODUCT_COLUMNS = (
    "id, name, description, weight_kg, length_cm, width_cm, height_cm, alert_threshold, "
    "is_active, created_at, updated_at, category_id"
)
VARIANT_COLUMNS = (
    "id, name, sku, barcode, unit, alert_threshold, product_id, average_cost, is_active, created_at"
)
COST_COLUMNS = "effective_at, average_cost, on_hand_after, operation, variant_id"
LOADED_TABLES = (
    "catalog_product",
    "catalog_variant",
    "catalog_averagecost",
    "inventory_stockline",
    "inventory_movement",
)


def seed(
    scale: Scale, *, seed: int = 42, progress: Callable[[str], None] = lambda text: None
) -> SeedReport:
    """Write ``scale``'s data into Django's (empty) database; return counts and timings."""
    from inventory.models import StockLine

    if StockLine.objects.exists() or Warehouse.objects.exists():
        raise SeedError("the database already has stock: the benchmark seeds an empty database")
    report = SeedReport()
    rng = random.Random(seed)
    started = time.monotonic()
    ensure_users()
    staff_id = get_user_model().objects.get(username="staff").pk
    warehouse_ids, categories, _ = _reference_data(scale)
    now = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    now_text = now.isoformat()
    products, variants, catalog = _catalog_rows(scale, rng, categories, now_text)
    counts = _movement_counts(scale, rng)
    received = {index // scale.warehouses for index in range(len(counts)) if counts[index]}
    variant_rows = [
        "\t".join(map(str, row[:7])) + f"\t{row[7] if index in received else NULL}\tt\t{now_text}\n"
        for index, row in enumerate(variants)
    ]
    report.seconds["catalog"] = time.monotonic() - started
    progress(f"catalog: {len(products)} products, {len(variants)} variants")

    writer = HistoryWriter(
        scale, rng, catalog, warehouse_ids, counts, staff_id, int(now.timestamp()) * 1_000_000
    )
    with bulk_load(LOADED_TABLES, progress=progress):
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            _copy(raw, "catalog_product", PRODUCT_COLUMNS, products)
            _copy(raw, "catalog_variant", VARIANT_COLUMNS, variant_rows)
            # FREEZE: rows written visible to all, the visibility map set, so that index-only
            # scans work at once (the table must be emptied in the same transaction).
            cursor.execute('TRUNCATE "inventory_movement"')
            report.movements = _copy(
                raw, "inventory_movement", MOVEMENT_COLUMNS, writer.movements(), freeze=True
            )
            _copy(raw, "catalog_averagecost", COST_COLUMNS, writer.cost_rows)
            _copy(raw, "inventory_stockline", LINE_COLUMNS, writer.line_rows)
            for table in LOADED_TABLES:
                reset_sequence(cursor, table)
        report.seconds["copy"] = time.monotonic() - started
        progress(f"copied {report.movements} movements in {report.seconds['copy']:.0f} s")
        started = time.monotonic()
    report.seconds["indexes"] = time.monotonic() - started
    started = time.monotonic()
    with raw_connect() as raw:
        for table in LOADED_TABLES:
            raw.execute(f'VACUUM (ANALYZE) "{table}"')
        raw.execute("ANALYZE")
    report.seconds["vacuum"] = time.monotonic() - started
    report.variants = len(variants)
    report.products = len(products)
    report.warehouses = len(warehouse_ids)
    report.stock_lines = len(writer.line_rows)
    return report
