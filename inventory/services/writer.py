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
from functools import cache, lru_cache
from operator import attrgetter

from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from catalog.models import Variant
from warehouses.models import Warehouse

from ..ledger import operation_hasher
from ..models import HoldChange, Movement, StockLine
from . import clock
from .bulk import (
    PositionalFields,
    RowReader,
    bulk_cursor,
    insert_objects,
    number_array,
    psycopg,
    write_changes,
)
from .errors import InsufficientStock, Shortfall
from .thresholds import variant_thresholds

LineKey = tuple[int, int]  # (variant_id, warehouse_id)

MSG_OUTSIDE_TRANSACTION = "Stock lines are locked inside transaction.atomic()."

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


MOVEMENT_FIELDS = PositionalFields(Movement)


@cache
def _reader(vendor: str) -> RowReader:
    return RowReader(StockLine)


@lru_cache(maxsize=64)  # a few shapes; SQLite's IN lists vary with the chunk size
def _lock_sql(vendor: str, selection: str) -> str:
    """The lock query: the stock lines that ``selection`` (a JOIN or a WHERE clause on ``s``)
    keeps, in primary-key order."""
    columns = ", ".join(_reader(vendor).columns("s"))
    table = connection.ops.quote_name(StockLine._meta.db_table)
    sql = f"SELECT {columns} FROM {table} s {selection} ORDER BY s.id"
    if vendor == "postgresql":
        sql += " FOR UPDATE"
    return sql


def _selections(keys: Iterable[LineKey]) -> list[tuple[str, list]]:
    """(clause, params) pairs selecting the stock lines ``s`` of these keys: one on
    PostgreSQL, whatever the number of keys (they travel as two arrays); chunked IN lists on
    SQLite, within its limit on bound parameters."""
    keys = sorted(keys)
    if len(keys) == 1:
        # Plain equality: the unique (variant, warehouse) index, and the cheapest plan.
        return [("WHERE s.variant_id = %s AND s.warehouse_id = %s", list(keys[0]))]
    if connection.vendor == "postgresql":
        # A join rather than IN: the keys are distinct, so no step removing duplicates. The
        # warehouses (one or two) let the index on them narrow a million lines to their own
        # before the join (a third faster at 100,000 keys).
        return [
            (
                "JOIN unnest(%t::bigint[], %t::bigint[]) AS k(variant_id, warehouse_id) "
                "ON s.variant_id = k.variant_id AND s.warehouse_id = k.warehouse_id "
                "WHERE s.warehouse_id = ANY(%t::bigint[])",
                [
                    number_array(variant for variant, _ in keys),
                    number_array(warehouse for _, warehouse in keys),
                    number_array(sorted({warehouse for _, warehouse in keys})),
                ],
            )
        ]
    by_warehouse: dict[int, list[int]] = defaultdict(list)
    for variant_id, warehouse_id in keys:
        by_warehouse[warehouse_id].append(variant_id)
    selections = []
    for warehouse_id, variant_ids in by_warehouse.items():
        for start in range(0, len(variant_ids), SQLITE_CHUNK):
            chunk = variant_ids[start : start + SQLITE_CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            selections.append(
                (
                    f"WHERE s.warehouse_id = %s AND s.variant_id IN ({placeholders})",
                    [warehouse_id, *chunk],
                )
            )
    return selections


def _cursor():
    """On PostgreSQL, a cursor reading results in binary: numbers and times are decoded by
    the driver's C code rather than parsed from text (a third of a 100,000-line lock)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    cursor = bulk_cursor()
    cursor.cursor.format = psycopg.pq.Format.BINARY
    return cursor


def _lock(keys: set[LineKey]) -> dict[LineKey, StockLine]:
    """Lock the existing lines of these keys with ONE query (per chunk on SQLite, which has
    no row locks: its write transaction, BEGIN IMMEDIATE, serialises writers)."""
    reader = _reader(connection.vendor)
    alias = connection.alias
    locked: dict[LineKey, StockLine] = {}
    with _cursor() as cursor:
        for selection, params in _selections(keys):
            cursor.execute(_lock_sql(connection.vendor, selection), params)
            for row in cursor.fetchall():
                line = reader.build(row, alias)
                locked[(line.variant_id, line.warehouse_id)] = line
    return locked


def _create_lines(keys: set[LineKey]) -> None:
    """Insert stock lines for these keys (those that exist by then are skipped)."""
    # A new line's status needs its alert threshold from the start (see services.thresholds).
    thresholds = variant_thresholds(variant for variant, _ in keys)
    # A concurrent operation may create some of the same lines first: those are skipped, and
    # the lock that follows takes whatever exists.
    insert_objects(
        [
            StockLine(variant_id=v, warehouse_id=w, effective_threshold=thresholds.get(v))
            for v, w in sorted(keys)
        ],
        ignore_conflicts=True,
    )


def lock_stock_lines(keys: Iterable[LineKey]) -> dict[LineKey, StockLine]:
    """Lock the stock lines of these (variant_id, warehouse_id) pairs, creating missing ones.

    Every line is locked with ONE ``SELECT ... FOR UPDATE`` ordered by primary key: two
    operations touching the same lines always lock them in the same order, so they queue
    instead of deadlocking. Missing lines are created while this operation holds none of its
    locks, so that one waiting for another's new line (the unique constraint) holds nothing
    the other may want: the lock is tried first, and when some lines are missing it is given
    back (a savepoint rolled back), the lines created, and all of them locked again. Their
    variants and warehouses are attached by ``StockBatch.line()`` from the caller's instances
    (what the available-stock rule needs of them is read when it is checked): a 100,000-line
    count does not build objects it does not need, and an adjustment reads one table.
    """
    if not connection.in_atomic_block:
        # Outside a transaction the locks would end with the query (what the ORM's
        # select_for_update refuses too).
        raise TransactionManagementError(MSG_OUTSIDE_TRANSACTION)
    keys = set(keys)
    if not keys:
        return {}
    # No savepoint where nothing can be held: one line (if it is missing, nothing was locked),
    # or SQLite (no row locks; its write transaction, BEGIN IMMEDIATE, serialises writers).
    savepoint = len(keys) > 1 and connection.vendor == "postgresql"
    sid = transaction.savepoint() if savepoint else None
    locked = _lock(keys)
    missing = keys - locked.keys()
    if not missing:
        if savepoint:
            transaction.savepoint_commit(sid)
        return locked
    if savepoint:
        transaction.savepoint_rollback(sid)
    _create_lines(missing)
    return _lock(keys)


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
        # The caller's instances, so that line.variant and line.warehouse cost no query.
        if isinstance(variant, Variant) and not StockLine.variant.field.is_cached(line):
            StockLine.variant.field.set_cached_value(line, variant)
        if isinstance(warehouse, Warehouse) and not StockLine.warehouse.field.is_cached(line):
            StockLine.warehouse.field.set_cached_value(line, warehouse)
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
        # Positional arguments, as Django builds instances read from the database: half the
        # cost of keyword ones, 100,000 times. The time and the hashes are set by commit().
        movement = Movement(
            *MOVEMENT_FIELDS.values(
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
                previous_hash="",
                hash="",
            )
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
        for key in self._checked:
            line = self._touched[key]
            after = _available(line)
            before = self._available_before[key]
            if after < 0 and after < before:
                short.append((line, before, after))
        if not short:
            return []
        # Whether a warehouse allows negative stock, read now: after the locks, as every rule.
        warehouses = {
            pk: (code, allowed)
            for pk, code, allowed in Warehouse.objects.filter(
                pk__in={line.warehouse_id for line, _, _ in short}
            ).values_list("pk", "code", "allow_negative_stock")
        }
        short = [item for item in short if not warehouses[item[0].warehouse_id][1]]
        # In the order of the keys (SKU within warehouse ids), whatever the order of the changes.
        short.sort(key=lambda item: (item[0].variant_id, item[0].warehouse_id))
        skus = self._skus([line for line, _, _ in short])
        return [
            Shortfall(
                sku=skus[line.variant_id],
                warehouse=warehouses[line.warehouse_id][0],
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
        movement_hash = operation_hasher(created_at=now, operation=self.operation)
        for movement in self.movements:
            line = movement.stock_line
            movement.created_at = now
            movement.previous_hash = line.ledger_head
            movement.hash = movement_hash(
                stock_line_id=line.pk,
                type=movement.type,
                reason=movement.reason,
                quantity=movement.quantity,
                balance_after=movement.balance_after,
                unit_cost=movement.unit_cost,
                reference=movement.reference,
                note=movement.note,
                created_by_id=movement.created_by_id,
                previous_hash=movement.previous_hash,
            )
            line.ledger_head = movement.hash
            line.last_movement_at = now
        for change in self.hold_changes:
            change.created_at = now
        for line in self._touched.values():
            line.changed_at = now
        # One statement for a small batch on PostgreSQL; COPY and array statements for a
        # large one (see services.bulk). Lines in primary-key order, as they lie in the table
        # and its primary key: a 100,000-line update reads and writes pages in sequence
        # instead of at random (2.5 times faster at a million lines).
        write_changes(
            new=[self.movements, self.hold_changes],
            changed=sorted(self._touched.values(), key=attrgetter("pk")),
            fields=LINE_FIELDS,
        )
