"""The tamper-evident chain of the movement ledger, and its verification.

Each movement's hash covers its own content and the hash of the previous movement of the
same stock line; the line keeps the hash of its latest movement (``ledger_head``). Changing,
removing or inserting a movement anywhere in a line's history breaks the chain.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from itertools import groupby

from django.db.models import Sum

from core.streaming import stream_rows, streaming_transaction

from .models import HoldChange, Movement, StockLine

FIELD_SEPARATOR = "\x1f"

#: Further invariants registered by the apps that own them (the order pipeline checks that
#: reserved equals what open orders hold), so that inventory never imports those apps.
#: Each is a callable returning problem strings.
EXTRA_CHECKS: list[Callable[[], Iterable[str]]] = []


def register_check(check: Callable[[], Iterable[str]]):
    EXTRA_CHECKS.append(check)
    return check


ITERATOR_CHUNK = 5000
QUANTUM = Decimal("0.001")


def _quantity(value: Decimal) -> str:
    return f"{value:.3f}"


def _digest(
    stock_line_id,
    moment,
    type,
    reason,
    quantity,
    balance_after,
    unit_cost,
    reference,
    note,
    created_by_id,
    operation,
    previous_hash,
) -> str:
    parts = (
        str(stock_line_id),
        moment,
        type,
        reason,
        _quantity(quantity),
        _quantity(balance_after),
        "" if unit_cost is None else f"{unit_cost:.4f}",
        reference,
        note,
        "" if created_by_id is None else str(created_by_id),
        operation,
        previous_hash,
    )
    return hashlib.sha256(FIELD_SEPARATOR.join(parts).encode()).hexdigest()


def _moment(created_at) -> str:
    return created_at.astimezone(UTC).isoformat(timespec="microseconds")


def movement_hash(
    *,
    stock_line_id: int,
    created_at,
    type: str,
    reason: str,
    quantity: Decimal,
    balance_after: Decimal,
    unit_cost: Decimal | None,
    reference: str,
    note: str,
    created_by_id: int | None,
    operation,
    previous_hash: str,
) -> str:
    return _digest(
        stock_line_id,
        _moment(created_at),
        type,
        reason,
        quantity,
        balance_after,
        unit_cost,
        reference,
        note,
        created_by_id,
        str(operation),
        previous_hash,
    )


def operation_hasher(*, created_at, operation) -> Callable[..., str]:
    """``movement_hash`` for the movements of one operation, which share their time and
    operation: those are formatted once, not once per movement of a 100,000-line count."""
    moment, operation = _moment(created_at), str(operation)

    def hash_movement(
        *,
        stock_line_id: int,
        type: str,
        reason: str,
        quantity: Decimal,
        balance_after: Decimal,
        unit_cost: Decimal | None,
        reference: str,
        note: str,
        created_by_id: int | None,
        previous_hash: str,
    ) -> str:
        return _digest(
            stock_line_id,
            moment,
            type,
            reason,
            quantity,
            balance_after,
            unit_cost,
            reference,
            note,
            created_by_id,
            operation,
            previous_hash,
        )

    return hash_movement


HASHED_FIELDS = (
    "stock_line_id",
    "created_at",
    "type",
    "reason",
    "quantity",
    "balance_after",
    "unit_cost",
    "reference",
    "note",
    "created_by_id",
    "operation",
    "previous_hash",
)


@dataclass
class LedgerReport:
    lines: int = 0
    movements: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _movements_by_line() -> Iterator[tuple[int, list[dict]]]:
    rows = stream_rows(
        Movement.objects.order_by("stock_line_id", "pk").values("pk", "hash", *HASHED_FIELDS),
        chunk_size=ITERATOR_CHUNK,
    )
    for line_id, group in groupby(rows, key=lambda row: row["stock_line_id"]):
        yield line_id, list(group)


def _holds_by_line() -> Iterator[dict]:
    return stream_rows(
        HoldChange.objects.order_by("stock_line_id")
        .values("stock_line_id")
        .annotate(reserved=Sum("reserved_delta"), locked=Sum("locked_delta")),
        chunk_size=ITERATOR_CHUNK,
    )


def _check_chain(label: str, movements: list[dict], problems: list[str]) -> tuple[Decimal, str]:
    """Walk one line's movements in write order; return (sum of quantities, last hash)."""
    running = Decimal(0)
    previous = ""
    for movement in movements:
        running += movement["quantity"]
        if movement["previous_hash"] != previous:
            problems.append(f"{label}: movement {movement['pk']} does not follow the one before it")
        expected = movement_hash(**{name: movement[name] for name in HASHED_FIELDS})
        if expected != movement["hash"]:
            problems.append(f"{label}: movement {movement['pk']} was altered after it was written")
        if movement["balance_after"] != running:
            problems.append(
                f"{label}: movement {movement['pk']} says balance {movement['balance_after']} "
                f"but the movements up to it sum to {running}"
            )
        previous = movement["hash"]
    return running, previous


def verify_ledger() -> LedgerReport:
    """Recompute every line's chain and quantities from the ledger, streaming both sides.

    On PostgreSQL every read, the registered checks' too, sees one snapshot of the database:
    the lines, their movements and their holds as they stood together, even while stock moves.
    """
    with streaming_transaction(one_snapshot=True):
        return _verify()


def _verify() -> LedgerReport:
    report = LedgerReport()
    lines = stream_rows(
        StockLine.objects.order_by("pk").values_list(
            "pk",
            "on_hand",
            "reserved",
            "locked",
            "ledger_head",
            "variant__sku",
            "warehouse__code",
            "warehouse__allow_negative_stock",
        ),
        chunk_size=ITERATOR_CHUNK,
    )
    movements = _movements_by_line()
    holds = _holds_by_line()
    next_movements = next(movements, None)
    next_hold = next(holds, None)
    zero = Decimal(0)
    for pk, on_hand, reserved, locked, head, sku, code, allow_negative in lines:
        report.lines += 1
        label = f"{sku} @ {code}"
        line_movements: list[dict] = []
        if next_movements is not None and next_movements[0] == pk:
            line_movements = next_movements[1]
            next_movements = next(movements, None)
        held = {"reserved": zero, "locked": zero}
        if next_hold is not None and next_hold["stock_line_id"] == pk:
            # SQLite sums decimals as floats: bring the sums back to the stored 3 places.
            held = {name: next_hold[name].quantize(QUANTUM) for name in held}
            next_hold = next(holds, None)

        report.movements += len(line_movements)
        total, last_hash = _check_chain(label, line_movements, report.problems)
        if head != last_hash:
            report.problems.append(f"{label}: the latest movement is missing or was replaced")
        if on_hand != total:
            report.problems.append(f"{label}: on hand {on_hand} but its movements sum to {total}")
        if reserved != held["reserved"]:
            report.problems.append(
                f"{label}: reserved {reserved} but its reservations sum to {held['reserved']}"
            )
        if locked != held["locked"]:
            report.problems.append(
                f"{label}: locked {locked} but its locks sum to {held['locked']}"
            )
        if not allow_negative and on_hand - reserved - locked < 0:
            report.problems.append(
                f"{label}: available {on_hand - reserved - locked} is below zero "
                "in a warehouse that does not allow negative stock"
            )
    for check in EXTRA_CHECKS:
        report.problems.extend(check())
    return report
