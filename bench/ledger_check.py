"""The ledger rules on a few stock lines, right after a write figure (the full ``verify_ledger``
runs once at the end): the hash chain, each balance a running sum, on_hand the last balance,
the head the last hash."""

from collections.abc import Iterable
from decimal import Decimal
from itertools import groupby

from django.db import connection, transaction

from inventory.ledger import HASHED_FIELDS, movement_hash
from inventory.models import Movement, StockLine


def check_lines(line_ids: Iterable[int]) -> list[str]:
    # One snapshot for the lines and their movements: a write landing between two reads (a
    # second benchmark on the same database) would otherwise look like a lost update.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _check(sorted(set(line_ids)))


def _check(line_ids: list[int]) -> list[str]:
    lines = {
        pk: (on_hand, head)
        for pk, on_hand, head in StockLine.objects.filter(pk__in=line_ids).values_list(
            "pk", "on_hand", "ledger_head"
        )
    }
    rows = (
        Movement.objects.filter(stock_line_id__in=line_ids)
        .order_by("stock_line_id", "pk")
        .values("pk", "hash", *HASHED_FIELDS)
        .iterator(chunk_size=5000)
    )
    problems, seen = [], set()
    for line_id, movements in groupby(rows, key=lambda row: row["stock_line_id"]):
        seen.add(line_id)
        running, previous = Decimal(0), ""
        for movement in movements:
            running += movement["quantity"]
            if movement["previous_hash"] != previous:
                problems.append(f"line {line_id}: movement {movement['pk']} breaks the chain")
            expected = movement_hash(**{name: movement[name] for name in HASHED_FIELDS})
            if expected != movement["hash"]:
                problems.append(f"line {line_id}: movement {movement['pk']} has a wrong hash")
            if movement["balance_after"] != running:
                problems.append(f"line {line_id}: movement {movement['pk']} balance is wrong")
            previous = movement["hash"]
        on_hand, head = lines[line_id]
        if on_hand != running:
            problems.append(f"line {line_id}: on hand {on_hand}, movements sum to {running}")
        if head != previous:
            problems.append(f"line {line_id}: the ledger head is not the last movement's hash")
    for line_id in set(lines) - seen:
        if lines[line_id][0] != 0:
            problems.append(f"line {line_id}: on hand without movements")
    return problems
