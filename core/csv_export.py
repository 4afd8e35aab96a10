"""CSV files the app produces: streamed, spreadsheet-safe, in the contract's format.

UTF-8, header row, ISO 8601 dates with timezone. Text cells that a spreadsheet would read as
a formula (starting with ``= + - @``, tab or carriage return) are prefixed with ``'``; number
cells stay numbers. Two dialects: the contract's (comma, decimal point) and "spreadsheet"
(semicolon, decimal comma, byte-order mark) for spreadsheets set up that way.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Rows written into one chunk of the streamed response: few enough to keep memory flat,
#: many enough that the per-chunk overhead does not show.
ROWS_PER_CHUNK = 1000

TEXT = "text"
NUMBER = "number"
DATETIME = "datetime"


@dataclass(frozen=True)
class CsvDialect:
    name: str
    delimiter: str
    decimal_point: str
    byte_order_mark: bool


STANDARD = CsvDialect("standard", ",", ".", False)
SPREADSHEET = CsvDialect("spreadsheet", ";", ",", True)
DIALECTS = {dialect.name: dialect for dialect in (STANDARD, SPREADSHEET)}


def dialect_from_request(request) -> CsvDialect:
    """``?format=spreadsheet`` selects the semicolon / decimal comma variant."""
    return DIALECTS.get(request.GET.get("format", ""), STANDARD)


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT


def escape_text(value: str) -> str:
    """Neutralise a text cell a spreadsheet would otherwise evaluate as a formula."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def format_cell(value, kind: str, dialect: CsvDialect = STANDARD) -> str:
    if value is None:
        return ""
    if kind == NUMBER:
        text = f"{value:f}" if isinstance(value, Decimal) else str(value)
        return text.replace(".", dialect.decimal_point)
    if kind == DATETIME:
        if isinstance(value, datetime):
            return timezone.localtime(value).isoformat()
        if isinstance(value, date):
            return value.isoformat()
    return escape_text(str(value))


def csv_rows(
    columns: Sequence[Column], rows: Iterable[Sequence], dialect: CsvDialect = STANDARD
) -> Iterator[str]:
    """Yield the CSV text in chunks: the header first, then ``ROWS_PER_CHUNK`` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
    kinds = [column.kind for column in columns]

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([escape_text(column.header) for column in columns])
    yield ("\ufeff" if dialect.byte_order_mark else "") + flush()
    pending = 0
    for row in rows:
        writer.writerow(
            [format_cell(value, kind, dialect) for value, kind in zip(row, kinds, strict=True)]
        )
        pending += 1
        if pending == ROWS_PER_CHUNK:
            yield flush()
            pending = 0
    if pending:
        yield flush()


def csv_chunks(
    columns: Sequence[Column], rows: Iterable[Sequence], dialect: CsvDialect = STANDARD
) -> Iterator[bytes]:
    """``csv_rows`` as UTF-8 bytes, what a response sends."""
    return (chunk.encode() for chunk in csv_rows(columns, rows, dialect))


def csv_response(filename: str, chunks: Iterable[bytes]) -> StreamingHttpResponse:
    """A CSV download streamed from ``chunks`` of bytes, as they are produced."""
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def streaming_csv_response(
    filename: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    dialect: CsvDialect = STANDARD,
) -> StreamingHttpResponse:
    return csv_response(filename, csv_chunks(columns, rows, dialect))
