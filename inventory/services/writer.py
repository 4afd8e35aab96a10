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
from django.db.models import Q

from catalog.models import Variant
from warehouses.models import Warehouse

from ..ledger import movement_hash
from ..models import HoldChange, Movement, StockLine
from . import clock
from .errors import InsufficientStock, Shortfall

LineKey = tuple[int, int]  # (variant_id, warehouse_id)

#: SQLite refuses statements with more bound parameters than this; it has no row locks either,
#: so chunking the lookup there loses nothing.
SQLITE_CHUNK = 5000
BULK_BATCH = 2000
LINE_FIELDS = (
    "on_hand",
    "reserved",
    "locked",
    "incoming",
    "last_movement_at",
    "ledger_head",
    "changed_at",
)


def _lookup_filters(keys: Iterable[LineKey]) -> list[Q]:
    by_warehouse: dict[int, list[int]] = defaultdict(list)
    for variant_id, warehouse_id in keys:
        by_warehouse[warehouse_id].append(variant_id)
    chunk = SQLITE_CHUNK if connection.vendor == "sqlite" else None
    filters = []
    for warehouse_id, variant_ids in by_warehouse.items():
        step = chunk or len(variant_ids)
        for start in range(0, len(variant_ids), step):
            filters.append(
                Q(warehouse_id=warehouse_id, variant_id__in=variant_ids[start : start + step])
            )
    return filters


def _existing_keys(filters: list[Q]) -> set[LineKey]:
    found: set[LineKey] = set()
    for condition in filters:
        found.update(StockLine.objects.filter(condition).values_list("variant_id", "warehouse_id"))
    return found


def lock_stock_lines(keys: Iterable[LineKey]) -> dict[LineKey, StockLine]:
    """Lock the stock lines of these (variant_id, warehouse_id) pairs, creating missing ones.

    Missing lines are inserted before any lock is taken, then every line is locked with
    ``SELECT ... FOR UPDATE`` ordered by primary key: two operations touching the same lines
    always lock them in the same order, so they queue instead of deadlocking. Only the stock
    line rows are locked (``of=("self",)``), not the variant or warehouse joined to them.
    """
    keys = set(keys)
    filters = _lookup_filters(keys)
    missing = keys - _existing_keys(filters)
    if missing:
        StockLine.objects.bulk_create(
            [StockLine(variant_id=v, warehouse_id=w) for v, w in sorted(missing)],
            batch_size=BULK_BATCH,
            ignore_conflicts=True,
        )
    locked: dict[LineKey, StockLine] = {}
    query = Q()
    for condition in filters:
        query |= condition
    if connection.vendor == "sqlite":
        # No row locks on SQLite: the write transaction (BEGIN IMMEDIATE) serialises writers.
        for condition in filters:
            for line in StockLine.objects.filter(condition).select_related("variant", "warehouse"):
                locked[(line.variant_id, line.warehouse_id)] = line
        return locked
    lines = (
        StockLine.objects.filter(query)
        .select_related("variant", "warehouse")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    for line in lines:
        locked[(line.variant_id, line.warehouse_id)] = line
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
        return self.lines[(variant_id, warehouse_id)]

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
            stock_line=line,
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
        found = []
        for key, line in sorted(self._touched.items()):
            if key not in self._checked or line.warehouse.allow_negative_stock:
                continue
            before = self._available_before[key]
            after = _available(line)
            if after < 0 and after < before:
                found.append(
                    Shortfall(
                        sku=line.variant.sku,
                        warehouse=line.warehouse.code,
                        available=before,
                        requested=before - after,
                    )
                )
        return found

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
        Movement.objects.bulk_create(self.movements, batch_size=BULK_BATCH)
        HoldChange.objects.bulk_create(self.hold_changes, batch_size=BULK_BATCH)
        self._write_lines(list(self._touched.values()))

    @staticmethod
    def _write_lines(lines: list[StockLine]) -> None:
        """One parameterised UPDATE per line, sent with executemany (pipelined on psycopg 3).

        Values go through each field's ``get_db_prep_value`` so they are stored exactly as the
        ORM would store them; this is several times faster than ``bulk_update``'s CASE chains.
        """
        if not lines:
            return
        meta = StockLine._meta
        fields = [meta.get_field(name) for name in LINE_FIELDS]
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
        rows = [
            [field.get_db_prep_value(getattr(line, field.attname), connection) for field in fields]
            + [line.pk]
            for line in lines
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
