"""CSV written by PostgreSQL itself (``COPY (query) TO STDOUT``), byte for byte what
``core.csv_export.csv_rows`` writes from Python rows.

Formatting a million rows in Python costs several times what the query does; COPY formats
and quotes in C and hands each row over as bytes. The cell rules of core.csv_export are
restated here as SQL expressions, so that a queryset selects ready-made cells:

- text (``csv_text``): ``escape_text``'s quote before ``= + - @``, tab or carriage return.
  Empty text is sent as NULL: COPY writes an empty string as ``""`` (to tell it from NULL),
  the csv module writes nothing, as it does for None.
- numbers (``csv_number``, decimal and integer columns): a numeric's text in PostgreSQL is
  what ``f"{Decimal:f}"`` writes (no exponent, all its scale's digits), an integer's is
  ``str(int)``; the spreadsheet dialect swaps the point for a comma.
- date-times (``csv_datetime``): ``timezone.localtime(value).isoformat()`` in the current
  time zone, computed without touching the session's TimeZone (psycopg reads it to load
  every later date-time of the connection).
- quoting: COPY's CSV format and the csv module (QUOTE_MINIMAL) both quote a cell holding the
  delimiter, a double quote, CR or LF, and double the quotes inside.
- line ends: COPY ends a row with LF, ``csv_rows`` with CRLF (see ``_crlf``).

A date-time whose UTC offset has seconds (local mean time, before about 1900) is written
without the seconds of its offset; nothing else is known to differ.
"""

import selectors
from collections.abc import Iterator, Sequence
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, Func, QuerySet, TextField, Value, When
from django.db.models.lookups import Exact
from django.utils import timezone

from .csv_export import (
    DATETIME,
    FORMULA_PREFIXES,
    NUMBER,
    ROWS_PER_CHUNK,
    STANDARD,
    Column,
    CsvDialect,
    csv_rows,
    escape_text,
)
from .streaming import streaming_transaction

#: The formula prefixes as code points, for ``ASCII(text) IN (...)``: integer comparisons,
#: cheaper than comparing the first character as text. All are below "A", where most text
#: starts: one comparison settles it.
_PREFIX_CODES = ", ".join(str(ord(prefix)) for prefix in FORMULA_PREFIXES)
_BEYOND_PREFIXES = ord("A")
assert all(ord(prefix) < _BEYOND_PREFIXES for prefix in FORMULA_PREFIXES)
#: Zones whose offset is always +00:00: no offset to compute per row.
_UTC_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Zulu"})


class FormulaSafeText(Func):
    """``escape_text`` in SQL, and empty text as NULL (see the module's docstring)."""

    arity = 1
    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        text, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"CASE WHEN ASCII({text}) >= {_BEYOND_PREFIXES} THEN {text} "
            f"WHEN ASCII({text}) IN ({_PREFIX_CODES}) THEN '''' || ({text}) "
            f"ELSE NULLIF({text}, '') END"
        )
        return sql, params * 5


class DecimalCommaText(Func):
    """A number's text with a decimal comma (the spreadsheet dialect)."""

    arity = 1
    output_field = TextField()
    template = "REPLACE((%(expressions)s)::text, '.', ',')"


class IsoDateTimeText(Func):
    """``timezone.localtime(value).isoformat()`` in SQL, for the zone named ``zone``.

    The wall time is ``value AT TIME ZONE zone``, with microseconds only when there are some,
    as isoformat writes it. The offset is the wall time's distance from UTC's, ``+HH:MM``.
    """

    arity = 1
    output_field = TextField()

    def __init__(self, expression, *, zone: str):
        super().__init__(expression)
        self.zone = zone

    def as_sql(self, compiler, connection, **extra_context):
        moment, params = compiler.compile(self.source_expressions[0])
        wall, wall_params = f"(({moment}) AT TIME ZONE %s)", (*params, self.zone)
        text = f"""REPLACE(TO_CHAR({wall}, 'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '')"""
        if self.zone in _UTC_ZONES:
            return f"{text} || '+00:00'", wall_params
        minutes = f"(EXTRACT(EPOCH FROM {wall} - (({moment}) AT TIME ZONE 'UTC')) / 60)::integer"
        offset = (
            "CASE WHEN {m} < 0 THEN '-' ELSE '+' END"
            " || LPAD((ABS({m}) / 60)::text, 2, '0')"
            " || ':' || LPAD(MOD(ABS({m}), 60)::text, 2, '0')"
        )
        minutes_params = (*wall_params, *params) * offset.count("{m}")
        return f"{text} || {offset.format(m=minutes)}", (*wall_params, *minutes_params)


def csv_text(expression) -> Func:
    return FormulaSafeText(expression)


def csv_number(expression, dialect: CsvDialect = STANDARD):
    """A decimal or integer column as ``format_cell`` writes it."""
    if dialect.decimal_point == ".":
        return expression  # COPY writes the number's own text
    return DecimalCommaText(expression)


def csv_datetime(expression, *, zone: str) -> Func:
    """A date-time column (not a date) as ``format_cell`` writes it in ``zone``."""
    return IsoDateTimeText(expression, zone=zone)


def csv_choice(expression, texts: dict) -> Case:
    """The text of each stored value (a status' contract text, say), escaped in Python."""
    return Case(
        *(
            When(Exact(expression, value), then=Value(escape_text(text)))
            for value, text in texts.items()
        ),
        output_field=TextField(),
    )


def csv_cell(expression, kind: str, dialect: CsvDialect, *, zone: str):
    """``expression`` as the cell ``format_cell(value, kind, dialect)`` would write."""
    if kind == NUMBER:
        return csv_number(expression, dialect)
    if kind == DATETIME:
        return csv_datetime(expression, zone=zone)
    return csv_text(expression)


def current_zone_name() -> str | None:
    """The IANA name of the current time zone, which PostgreSQL knows too; None for a zone
    without one (a fixed offset): the CSV is then written in Python."""
    zone = timezone.get_current_timezone()
    return zone.key if isinstance(zone, ZoneInfo) else None


def copy_available(using: str) -> bool:
    """Whether ``copy_csv`` can write this database's CSV in the current time zone."""
    return connections[using].vendor == "postgresql" and current_zone_name() is not None


def copy_csv(
    cells: QuerySet, columns: Sequence[Column], dialect: CsvDialect = STANDARD
) -> Iterator[bytes]:
    """The CSV of ``cells`` (a ``values()`` of one cell expression per column, in order):
    the header, then ``ROWS_PER_CHUNK`` rows at a time as PostgreSQL's COPY writes them.

    The COPY runs inside a transaction (core.streaming), which a pooler in transaction mode
    keeps on one server connection from start to end. Closing the generator (the client went
    away) cancels the COPY and ends the transaction.
    """
    yield from (chunk.encode() for chunk in csv_rows(columns, (), dialect))
    connection = connections[cells.db]
    try:
        query, params = cells.query.get_compiler(using=cells.db).as_sql()
    except EmptyResultSet:  # a filter that can match nothing (a search without matches)
        return
    with streaming_transaction(cells.db), connection.wrap_database_errors:
        statement = _bind(
            connection,
            f"COPY ({query}) TO STDOUT (FORMAT csv, DELIMITER %s)",
            (*params, dialect.delimiter),
        )
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for chunk, rows in _copy_chunks(copy, ROWS_PER_CHUNK):
                yield _crlf(chunk, rows)


def _copy_chunks(copy, rows_per_chunk: int) -> Iterator[tuple[bytes, int]]:
    """The rows of a COPY TO, ``rows_per_chunk`` at a time: (their bytes, how many).

    Each row is one message, and a million of them through ``Copy.read`` (a generator and a
    wait each) cost 0.8 s of Python. Rows libpq has already received are taken from it
    directly (``get_copy_data`` without waiting: 0.35 s); ``Copy.read`` waits for the others
    as psycopg does. When libpq hands over the end of the COPY itself, the COPY's final result
    is collected here, as ``Copy.read`` would have.
    """
    pgconn, read = copy.connection.pgconn, copy.read
    chunk, rows = bytearray(), 0
    while True:
        size, row = pgconn.get_copy_data(1)
        if size == 0:  # no whole row received yet
            row = read()
            if not row:
                break
        elif size < 0:
            _collect_copy_result(pgconn)
            break
        chunk += row
        rows += 1
        if rows == rows_per_chunk:
            yield bytes(chunk), rows
            chunk.clear()
            rows = 0
    if rows:
        yield bytes(chunk), rows


def _collect_copy_result(pgconn) -> None:
    """The results that follow the end of a COPY TO; raises the COPY's error if it failed
    (a COPY cut short by an error ends the same way)."""
    from psycopg import DatabaseError, errors, pq

    failure = None
    with selectors.DefaultSelector() as selector:
        selector.register(pgconn.socket, selectors.EVENT_READ)
        while True:
            # get_result() would wait inside libpq, holding the GIL: wait here instead.
            while pgconn.is_busy():
                selector.select()
                pgconn.consume_input()
            if (result := pgconn.get_result()) is None:
                break
            if result.status != pq.ExecStatus.COMMAND_OK and failure is None:
                failure = result
    if failure is not None:
        sqlstate = (failure.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
        try:
            error_class = errors.lookup(sqlstate)
        except KeyError:
            error_class = DatabaseError
        raise error_class(failure.error_message.decode(errors="replace").strip())


def _bind(connection, statement: str, params: Sequence) -> str:
    """The statement with its parameters merged in, as PostgreSQL accepts no parameters in a
    COPY. psycopg's own merge is skipped when there are none, which would leave the ORM's
    ``%%`` escapes as they are; its client-side cursor always reads them."""
    import psycopg

    return psycopg.ClientCursor(connection.connection).mogrify(statement, params)


def _crlf(chunk: bytes, rows: int) -> bytes:
    """COPY's ``rows`` (whole rows, each ending with LF) ending with CRLF instead.

    A quoted cell may hold a LF of its own, which stays. When there are more LFs than rows,
    a LF ends a row where the quotes before it are balanced: COPY quotes whole cells and
    doubles the quotes inside them."""
    if chunk.count(b"\n") == rows:
        return chunk.replace(b"\n", b"\r\n")
    pieces, quotes = [], 0
    for piece in chunk.split(b"\n")[:-1]:  # after the last LF: nothing
        quotes += piece.count(b'"')
        pieces += (piece, b"\n" if quotes % 2 else b"\r\n")
    return b"".join(pieces)
