"""The only code that writes stock quantities and ledger rows.

An operation locks the stock lines it touches (``StockBatch.lock``), records its changes on
them, then ``commit()`` checks the available-stock rule on every line and writes the
movements, the hold changes and the new quantities together. Callers run inside
``transaction.atomic()``; a domain error raised before ``commit()`` finishes writes nothing.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from catalog.models import Variant
from warehouses.models import Warehouse

from ..ledger import movement_hash
from ..models import HoldChange, Movement, StockLine
from . import clock
from .bulk import insert_objects, update_objects
from .errors import InsufficientStock, Shortfall
from .thresholds import variant_thresholds

LineKey = tuple[int, int]  # (variant_id, warehouse_id)

#: SQLite refuses statements with more bound parameters than this; it has no row locks either,
#: so chunking the lookup there loses nothing.
SQLITE_CHUNK = 5000
LINE_FIELDS = (
    "on_hand",
    "reserved",
    "locked",
    "incoming",
    "last_movement_at",
    "ledger_head",
    # When any quantity last changed: what API clients sync on (GET /api/v1/inventory).
    "changed_at",
)


def _key_conditions(keys: Iterable[LineKey]) -> list[Q]:
    """Conditions selecting the stock lines of these keys: one on PostgreSQL, whatever the
    number of keys (the keys travel as two arrays), a few chunked IN lists on SQLite."""
    keys = sorted(keys)
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(StockLine._meta.db_table)
        pairs = RawSQL(
            f'({table}."variant_id", {table}."warehouse_id") IN '
            "(SELECT * FROM unnest(%s::bigint[], %s::bigint[]))",
            ([variant for variant, _ in keys], [warehouse for _, warehouse in keys]),
            output_field=BooleanField(),
        )
        return [Q(pairs)]
    by_warehouse: dict[int, list[int]] = defaultdict(list)
    for variant_id, warehouse_id in keys:
        by_warehouse[warehouse_id].append(variant_id)
    conditions = []
    for warehouse_id, variant_ids in by_warehouse.items():
        for start in range(0, len(variant_ids), SQLITE_CHUNK):
            chunk = variant_ids[start : start + SQLITE_CHUNK]
            conditions.append(Q(warehouse_id=warehouse_id, variant_id__in=chunk))
    return conditions


def _existing_keys(conditions: list[Q]) -> set[LineKey]:
    found: set[LineKey] = set()
    for condition in conditions:
        found.update(
            StockLine.objects.filter(condition)
            .order_by()  # no sort by SKU and its joins: only the keys are wanted
            .values_list("variant_id", "warehouse_id")
        )
    return found


def _create_missing_lines(keys: set[LineKey], conditions: list[Q]) -> None:
    missing = keys - _existing_keys(conditions)
    if not missing:
        return
    # A new line's status needs its alert threshold from the start (see services.thresholds).
    thresholds = variant_thresholds(variant for variant, _ in missing)
    # A concurrent operation may create some of the same lines first: those are skipped, and
    # the lock that follows takes whatever exists.
    insert_objects(
        [
            StockLine(variant_id=v, warehouse_id=w, effective_threshold=thresholds.get(v))
            for v, w in sorted(missing)
        ],
        ignore_conflicts=True,
    )


def lock_stock_lines(keys: Iterable[LineKey]) -> dict[LineKey, StockLine]:
    """Lock the stock lines of these (variant_id, warehouse_id) pairs, creating missing ones.

    Missing lines are inserted before any lock is taken, then every line is locked with ONE
    ``SELECT ... FOR UPDATE`` ordered by primary key: two operations touching the same lines
    always lock them in the same order, so they queue instead of deadlocking. Only the stock
    line rows are locked (``of=("self",)``). The lines' warehouses are attached from one
    query; their variants are attached by ``StockBatch.line()`` from the caller's instances
    (or fetched together when a message needs a SKU): a 100,000-line count does not build
    100,000 variant objects it does not need.
    """
    keys = set(keys)
    if not keys:
        return {}
    conditions = _key_conditions(keys)
    _create_missing_lines(keys, conditions)
    locked: dict[LineKey, StockLine] = {}
    if connection.vendor == "sqlite":
        # No row locks on SQLite: the write transaction (BEGIN IMMEDIATE) serialises writers.
        for condition in conditions:
            for line in StockLine.objects.filter(condition):
                locked[(line.variant_id, line.warehouse_id)] = line
    else:
        lines = (
            StockLine.objects.filter(conditions[0]).order_by("pk").select_for_update(of=("self",))
        )
        for line in lines:
            locked[(line.variant_id, line.warehouse_id)] = line
    warehouses = Warehouse.objects.in_bulk({warehouse for _, warehouse in keys})
    warehouse_cache = StockLine.warehouse.field
    for line in locked.values():
        warehouse_cache.set_cached_value(line, warehouses[line.warehouse_id])
    return locked


def _available(line: StockLine) -> Decimal:
    return line.on_hand - line.reserved - line.locked


class StockBatch:
    """The stock lines one operation has locked and the changes it makes to them."""

    def __init__(self, lines: dict[LineKey, StockLine], *, user=None):
        self.lines = lines
        self.user_id = getattr(user, "pk", None)
        self.operation = uuid.uuid4()
        self.movements: list[Movement] = []
        self.hold_changes: list[HoldChange] = []
        self._available_before = {key: _available(line) for key, line in lines.items()}
        self._touched: dict[LineKey, StockLine] = {}
        #: Lines where some change must respect the available-stock rule.
        self._checked: set[LineKey] = set()

    @classmethod
    def lock(cls, keys: Iterable[LineKey], *, user=None) -> "StockBatch":
        return cls(lock_stock_lines(keys), user=user)

    def line(self, variant: Variant | int, warehouse: Warehouse | int) -> StockLine:
        variant_id = getattr(variant, "pk", variant)
        warehouse_id = getattr(warehouse, "pk", warehouse)
        line = self.lines[(variant_id, warehouse_id)]
        if isinstance(variant, Variant) and not StockLine.variant.field.is_cached(line):
            # The caller's variant, so that line.variant costs no query.
            StockLine.variant.field.set_cached_value(line, variant)
        return line

    def move(
        self,
        line: StockLine,
        *,
        type: str,
        reason: str,
        quantity: Decimal,
        unit_cost: Decimal | None = None,
        reference: str = "",
        note: str = "",
        check_available: bool = True,
    ) -> Movement:
        """Change on_hand by ``quantity`` and record the movement that explains it."""
        line.on_hand += quantity
        movement = Movement(
            stock_line_id=line.pk,
            created_by_id=self.user_id,
            type=type,
            reason=reason,
            quantity=quantity,
            balance_after=line.on_hand,
            unit_cost=unit_cost,
            reference=reference,
            note=note,
            operation=self.operation,
        )
        # The line itself rather than through the FK descriptor: cheaper, 100,000 times.
        Movement.stock_line.field.set_cached_value(movement, line)
        self.movements.append(movement)
        self._touch(line, check_available)
        return movement

    def hold(
        self,
        line: StockLine,
        *,
        kind: str,
        reserved_delta: Decimal = Decimal(0),
        locked_delta: Decimal = Decimal(0),
        reason: str = "",
        reference: str = "",
        note: str = "",
    ) -> HoldChange:
        """Change reserved and/or locked and record the hold change that explains it."""
        line.reserved += reserved_delta
        line.locked += locked_delta
        change = HoldChange(
            stock_line=line,
            created_by_id=self.user_id,
            kind=kind,
            reason=reason,
            reserved_delta=reserved_delta,
            locked_delta=locked_delta,
            reserved_after=line.reserved,
            locked_after=line.locked,
            reference=reference,
            note=note,
            operation=self.operation,
        )
        self.hold_changes.append(change)
        self._touch(line, check_available=True)
        return change

    def expect(self, line: StockLine, *, incoming_delta: Decimal) -> None:
        """Change the quantity expected from suppliers (open expected receptions explain it)."""
        line.incoming += incoming_delta
        self._touch(line, check_available=False)

    def _touch(self, line: StockLine, check_available: bool) -> None:
        key = (line.variant_id, line.warehouse_id)
        self._touched[key] = line
        if check_available:
            self._checked.add(key)

    def shortfalls(self) -> list[Shortfall]:
        """Lines whose available stock this batch would take below zero where not allowed."""
        short = []
        for key, line in sorted(self._touched.items()):
            if key not in self._checked or line.warehouse.allow_negative_stock:
                continue
            before = self._available_before[key]
            after = _available(line)
            if after < 0 and after < before:
                short.append((line, before, after))
        skus = self._skus([line for line, _, _ in short])
        return [
            Shortfall(
                sku=skus[line.variant_id],
                warehouse=line.warehouse.code,
                available=before,
                requested=before - after,
            )
            for line, before, after in short
        ]

    @staticmethod
    def _skus(lines: list[StockLine]) -> dict[int, str]:
        """The SKUs of these lines: from their variants when attached, else in one query."""
        variant_cache = StockLine.variant.field
        skus = {
            line.variant_id: line.variant.sku for line in lines if variant_cache.is_cached(line)
        }
        missing = {line.variant_id for line in lines} - skus.keys()
        if missing:
            skus.update(Variant.objects.filter(pk__in=missing).values_list("pk", "sku"))
        return skus

    def commit(self) -> None:
        """Check the rules, then write movements, hold changes and quantities together."""
        shortfalls = self.shortfalls()
        if shortfalls:
            raise InsufficientStock(shortfalls)
        # Taken after the locks, and never before a touched line's latest movement (clock skew
        # between app servers): a line's history is in time order and in write order alike.
        now = max(
            [clock.now()]
            + [line.last_movement_at for line in self._touched.values() if line.last_movement_at]
        )
        for movement in self.movements:
            line = movement.stock_line
            movement.created_at = now
            movement.previous_hash = line.ledger_head
            movement.hash = movement_hash(
                stock_line_id=line.pk,
                created_at=now,
                type=movement.type,
                reason=movement.reason,
                quantity=movement.quantity,
                balance_after=movement.balance_after,
                unit_cost=movement.unit_cost,
                reference=movement.reference,
                note=movement.note,
                created_by_id=movement.created_by_id,
                operation=movement.operation,
                previous_hash=movement.previous_hash,
            )
            line.ledger_head = movement.hash
            line.last_movement_at = now
        for change in self.hold_changes:
            change.created_at = now
        for line in self._touched.values():
            line.changed_at = now
        insert_objects(self.movements)
        insert_objects(self.hold_changes)
        self._write_lines(list(self._touched.values()))

    @staticmethod
    def _write_lines(lines: list[StockLine]) -> None:
        """Write the lines' quantities: one statement per 20,000 lines on PostgreSQL."""
        update_objects(lines, LINE_FIELDS)
