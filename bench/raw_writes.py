"""The floors of the bulk writes: a reception and a count applied in set-based SQL, each in one
transaction of a few statements, writing what the services write (movements with their hash
chain, stock lines, average costs, the reception or the count session's state).

The hash is computed by PostgreSQL (``sha256()``) over the same text as
``inventory.ledger.movement_hash``: the fields joined by U+001F, the time in UTC with
microseconds, quantities with 3 places and costs with 4.
"""

import uuid
from datetime import UTC, datetime

import psycopg

#: ``movement_hash`` in SQL, over the columns of a row source with these names.
HASH_SQL = """encode(sha256(convert_to(concat_ws(E'\\x1f',
    {line}::text,
    to_char({at} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00',
    {type}, {reason},
    ({quantity})::numeric(15,3)::text,
    ({balance})::numeric(15,3)::text,
    COALESCE(({unit_cost})::numeric(14,4)::text, ''),
    {reference}, {note},
    COALESCE(({user})::text, ''),
    ({operation})::text,
    {previous}), 'UTF8')), 'hex')"""

INPUT_SQL = """input AS (SELECT * FROM unnest(%(variants)s::bigint[], %(quantities)s::numeric[],
    %(costs)s::numeric[]) AS i(variant_id, quantity, unit_cost))"""

RECEPTION_LOCK_SQL = """SELECT max(last_movement_at) FROM (
    SELECT last_movement_at FROM inventory_stockline
    WHERE warehouse_id = %(warehouse)s AND variant_id = ANY(%(variants)s)
    ORDER BY id FOR UPDATE) locked"""

RECEPTION_COSTS_SQL = f"""WITH {INPUT_SQL},
locked AS (SELECT id, average_cost FROM catalog_variant WHERE id = ANY(%(variants)s)
           ORDER BY id FOR UPDATE),
totals AS (SELECT variant_id, sum(on_hand) AS on_hand FROM inventory_stockline
           WHERE variant_id = ANY(%(variants)s) GROUP BY variant_id),
averaged AS (
    SELECT i.variant_id, l.average_cost AS before, t.on_hand + i.quantity AS after,
           CASE WHEN l.average_cost IS NULL OR t.on_hand <= 0 THEN i.unit_cost
                ELSE round((t.on_hand * l.average_cost + i.quantity * i.unit_cost)
                           / (t.on_hand + i.quantity), 4) END AS average
    FROM input i JOIN locked l ON l.id = i.variant_id JOIN totals t USING (variant_id)),
changed AS (
    UPDATE catalog_variant v SET average_cost = a.average FROM averaged a
    WHERE v.id = a.variant_id AND a.average IS DISTINCT FROM a.before
    RETURNING v.id, a.average, a.after)
INSERT INTO catalog_averagecost (variant_id, effective_at, average_cost, on_hand_after, operation)
SELECT id, %(at)s, average, after, %(operation)s FROM changed"""

RECEPTION_MOVEMENTS_SQL = f"""WITH {INPUT_SQL},
lines AS (
    SELECT sl.id, sl.on_hand, sl.ledger_head, i.quantity, i.unit_cost
    FROM inventory_stockline sl JOIN input i USING (variant_id)
    WHERE sl.warehouse_id = %(warehouse)s),
moved AS (
    INSERT INTO inventory_movement (created_at, type, reason, quantity, balance_after,
        unit_cost, reference, note, operation, previous_hash, hash, created_by_id, stock_line_id)
    SELECT %(at)s::timestamptz, 'entry', 'supplier_reception', quantity, on_hand + quantity,
           unit_cost, %(reference)s::text, %(note)s::text, %(operation)s::uuid, ledger_head,
           {
    HASH_SQL.format(
        line="id",
        at="%(at)s::timestamptz",
        type="'entry'",
        reason="'supplier_reception'",
        quantity="quantity",
        balance="on_hand + quantity",
        unit_cost="unit_cost",
        reference="%(reference)s::text",
        note="%(note)s::text",
        user="%(user)s::integer",
        operation="%(operation)s::uuid",
        previous="ledger_head",
    )
},
           %(user)s::integer, id
    FROM lines ORDER BY id
    RETURNING stock_line_id, balance_after, hash)
UPDATE inventory_stockline sl
SET on_hand = m.balance_after, ledger_head = m.hash, last_movement_at = %(at)s::timestamptz,
    changed_at = %(at)s::timestamptz
FROM moved m WHERE sl.id = m.stock_line_id"""

RECEPTION_RECORD_SQL = f"""WITH {INPUT_SQL},
reception AS (
    INSERT INTO inventory_reception (delivery_note, reference, note, received_at, operation,
        expected_reception_id, received_by_id, supplier_id, warehouse_id)
    VALUES (%(delivery_note)s, %(reference)s, %(note)s, %(at)s, %(operation)s, NULL, %(user)s,
            %(supplier)s, %(warehouse)s)
    RETURNING id)
INSERT INTO inventory_receptionline (quantity, unit_cost, ordered, reception_id, variant_id)
SELECT i.quantity, i.unit_cost, NULL, reception.id, i.variant_id FROM reception, input i"""


def _moment(last) -> datetime:
    now = datetime.now(UTC)
    return max(now, last) if last else now


def reception_receive(
    raw: psycopg.Connection,
    *,
    warehouse_id: int,
    supplier_id: int,
    supplier_name: str,
    delivery_note: str,
    lines: list[tuple[int, object, object]],
    user_id: int,
) -> None:
    """Receive (variant_id, quantity, unit_cost) lines into a warehouse, as
    ``reception_receive`` does without an expected reception."""
    params = {
        "warehouse": warehouse_id,
        "supplier": supplier_id,
        "variants": [line[0] for line in lines],
        "quantities": [line[1] for line in lines],
        "costs": [line[2] for line in lines],
        "delivery_note": delivery_note,
        "reference": f"{supplier_name} / {delivery_note}",
        "note": "",
        "operation": uuid.uuid4(),
        "user": user_id,
    }
    with raw.transaction(), raw.cursor() as cursor:
        (last,) = cursor.execute(RECEPTION_LOCK_SQL, params).fetchone()
        params["at"] = _moment(last)
        cursor.execute(RECEPTION_COSTS_SQL, params)
        cursor.execute(RECEPTION_MOVEMENTS_SQL, params)
        cursor.execute(RECEPTION_RECORD_SQL, params)


COUNT_LOCK_SESSION_SQL = """SELECT warehouse_id, status FROM inventory_countsession
WHERE id = %(session)s FOR UPDATE"""
COUNT_LOCK_LINES_SQL = """SELECT max(last_movement_at) FROM (
    SELECT sl.last_movement_at FROM inventory_stockline sl
    JOIN inventory_countline cl ON cl.variant_id = sl.variant_id
    WHERE cl.session_id = %(session)s AND sl.warehouse_id = %(warehouse)s
      AND cl.counted IS NOT NULL AND cl.counted <> cl.expected
    ORDER BY sl.id FOR UPDATE OF sl) locked"""
COUNT_MOVED_SQL = """UPDATE inventory_countline cl
SET moved = COALESCE((SELECT sl.on_hand FROM inventory_stockline sl
                      WHERE sl.variant_id = cl.variant_id AND sl.warehouse_id = %(warehouse)s),
                     0) - cl.expected
WHERE cl.session_id = %(session)s"""
COUNT_MOVEMENTS_SQL = f"""WITH gaps AS (
    SELECT sl.id, sl.on_hand, sl.ledger_head, cl.counted - cl.expected AS quantity,
           'Counted ' || cl.counted::text || ', expected ' || cl.expected::text
               || ' at the snapshot' AS note
    FROM inventory_countline cl
    JOIN inventory_stockline sl ON sl.variant_id = cl.variant_id
                               AND sl.warehouse_id = %(warehouse)s
    WHERE cl.session_id = %(session)s AND cl.counted IS NOT NULL
      AND cl.counted <> cl.expected),
moved AS (
    INSERT INTO inventory_movement (created_at, type, reason, quantity, balance_after,
        unit_cost, reference, note, operation, previous_hash, hash, created_by_id, stock_line_id)
    SELECT %(at)s::timestamptz, 'adjustment', 'physical_count', quantity, on_hand + quantity,
           NULL, %(reference)s::text, note, %(operation)s::uuid, ledger_head,
           {
    HASH_SQL.format(
        line="id",
        at="%(at)s::timestamptz",
        type="'adjustment'",
        reason="'physical_count'",
        quantity="quantity",
        balance="on_hand + quantity",
        unit_cost="NULL",
        reference="%(reference)s::text",
        note="note",
        user="%(user)s::integer",
        operation="%(operation)s::uuid",
        previous="ledger_head",
    )
},
           %(user)s::integer, id
    FROM gaps ORDER BY id
    RETURNING stock_line_id, balance_after, hash),
written AS (
    UPDATE inventory_stockline sl
    SET on_hand = m.balance_after, ledger_head = m.hash, last_movement_at = %(at)s,
        changed_at = %(at)s
    FROM moved m WHERE sl.id = m.stock_line_id
    RETURNING sl.available, sl.warehouse_id)
SELECT count(*) FROM written w JOIN warehouses_warehouse wh ON wh.id = w.warehouse_id
WHERE w.available < 0 AND NOT wh.allow_negative_stock"""
COUNT_CLOSE_SQL = """UPDATE inventory_countsession
SET status = 'applied', applied_at = %(at)s, applied_by_id = %(user)s, operation = %(operation)s
WHERE id = %(session)s"""


class RawCountRefused(Exception):
    pass


def count_session_apply(raw: psycopg.Connection, *, session_id: int, user_id: int) -> None:
    """Apply a count session as ``count_session_apply`` does (counted lines only)."""
    params = {"session": session_id, "user": user_id, "operation": uuid.uuid4()}
    params["reference"] = f"COUNT-{session_id}"
    with raw.transaction(), raw.cursor() as cursor:
        warehouse_id, status = cursor.execute(COUNT_LOCK_SESSION_SQL, params).fetchone()
        if status != "open":
            raise RawCountRefused(f"count {session_id} is {status}")
        params["warehouse"] = warehouse_id
        (last,) = cursor.execute(COUNT_LOCK_LINES_SQL, params).fetchone()
        params["at"] = _moment(last)
        cursor.execute(COUNT_MOVED_SQL, params)
        (negative,) = cursor.execute(COUNT_MOVEMENTS_SQL, params).fetchone()
        if negative:
            raise RawCountRefused(f"{negative} lines would go below zero")
        cursor.execute(COUNT_CLOSE_SQL, params)
