"""CSV files uploaded by warehouse staff: reception lines and filled count sheets.

Every problem is collected, with its line number in the file, before anything is refused:
the person fixes the file once, not once per error. Accepted: UTF-8 (with or without the
byte-order mark spreadsheets add), comma or semicolon separators (with a semicolon, a decimal
comma is read as a decimal point, as the "spreadsheet" CSV variant writes it), blank lines.
Refused, with a message: another encoding, a missing column, a SKU given twice, a SKU the
catalog does not know, a quantity that is not a number or does not suit the variant's unit.
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models.functions import Lower

from catalog.models import Unit, Variant

from .services.errors import StockError
from .services.validation import clean_quantity, to_decimal

#: Files above this size are refused before reading (a 100,000-line count sheet is ~3 MB).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: At most this many problems are listed; the rest are counted.
MAX_LISTED_ERRORS = 100

MSG_EMPTY_FILE = "The file is empty."
MSG_TOO_BIG = "The file is larger than %(limit)s MB: split it into smaller files."
MSG_NOT_UTF8 = (
    "The file is not UTF-8 text (line %(line)s): save it as “CSV UTF-8” from your "
    "spreadsheet and upload it again."
)
MSG_BINARY = "This is not a CSV file: save the sheet as CSV (UTF-8) and upload that."
MSG_MISSING_COLUMN = "The header row has no “%(column)s” column (found: %(found)s)."
MSG_NO_ROWS = "The file has a header row but no lines."
MSG_BAD_CSV = "Line %(line)s: the file cannot be read as CSV (%(error)s)."
MSG_SKU_MISSING = "Line %(line)s: the SKU is empty."
MSG_DUPLICATE = "Line %(line)s: SKU %(sku)s is already on line %(first)s."
MSG_UNKNOWN_SKU = "Line %(line)s: unknown SKU “%(sku)s”."
MSG_BAD_VALUE = "Line %(line)s, %(column)s “%(value)s”: %(error)s"
MSG_MORE_ERRORS = "… and %(count)s more problems."


@dataclass(frozen=True)
class SkuRef:
    """What an upload needs to know of a variant: lighter than a Variant for 100,000 lines."""

    pk: int
    sku: str
    unit: str

    @property
    def allows_fractions(self) -> bool:
        return Unit.allows_fractions(self.unit)


@dataclass(frozen=True)
class UploadColumn:
    header: str
    #: Other headers accepted for this column, compared case-insensitively.
    aliases: tuple[str, ...] = ()
    required: bool = True


@dataclass
class UploadedRow:
    line: int
    sku: str
    #: The other columns' cells, by column header ("" when empty or absent).
    cells: dict[str, str]
    variant: object | None = None
    values: dict[str, Decimal | None] = field(default_factory=dict)


class UploadRejected(Exception):
    """The file has problems; ``errors`` lists every one of them."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))

    def messages(self) -> list[str]:
        listed = self.errors[:MAX_LISTED_ERRORS]
        if len(self.errors) > MAX_LISTED_ERRORS:
            listed.append(MSG_MORE_ERRORS % {"count": len(self.errors) - MAX_LISTED_ERRORS})
        return listed


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise UploadRejected([MSG_BINARY])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UploadRejected([MSG_NOT_UTF8 % {"line": line}]) from None


def _delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def read_file(upload) -> bytes:
    """The bytes of an uploaded file, refusing empty and oversized ones."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise UploadRejected([MSG_TOO_BIG % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)}])
    data = upload.read()
    if not data.strip():
        raise UploadRejected([MSG_EMPTY_FILE])
    return data


def parse_rows(
    data: bytes, *, sku_column: UploadColumn, columns: Iterable[UploadColumn]
) -> tuple[list[UploadedRow], list[str], bool]:
    """Read the rows of a CSV file: (rows, problems, decimal_comma).

    Blank lines are skipped; a row without a SKU and a SKU given twice are problems. Line
    numbers are those of the file (the header is line 1), as a spreadsheet shows them.
    """
    text = _decode(data)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = list(columns)
    errors: list[str] = []
    try:
        header = next(row for row in reader if any(cell.strip() for cell in row))
    except StopIteration:
        raise UploadRejected([MSG_EMPTY_FILE]) from None
    except csv.Error as error:
        raise UploadRejected([MSG_BAD_CSV % {"line": reader.line_num, "error": error}]) from None
    names = [cell.strip().lstrip("'").lower() for cell in header]
    positions = {}
    for column in [sku_column, *columns]:
        wanted = {column.header.lower(), *(alias.lower() for alias in column.aliases)}
        found = next((index for index, name in enumerate(names) if name in wanted), None)
        if found is None and column.required:
            errors.append(
                MSG_MISSING_COLUMN
                % {"column": column.header, "found": ", ".join(h.strip() for h in header)}
            )
        positions[column.header] = found
    if errors:
        raise UploadRejected(errors)
    sku_at = positions[sku_column.header]
    rows: list[UploadedRow] = []
    first_line: dict[str, int] = {}
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            line = reader.line_num

            def cell(position, record=record):
                return (
                    record[position].strip()
                    if position is not None and position < len(record)
                    else ""
                )

            sku = cell(sku_at).lstrip("'")
            if not sku:
                errors.append(MSG_SKU_MISSING % {"line": line})
                continue
            key = sku.lower()
            if key in first_line:
                errors.append(MSG_DUPLICATE % {"line": line, "sku": sku, "first": first_line[key]})
                continue
            first_line[key] = line
            rows.append(
                UploadedRow(
                    line=line,
                    sku=sku,
                    cells={column.header: cell(positions[column.header]) for column in columns},
                )
            )
    except csv.Error as error:
        errors.append(MSG_BAD_CSV % {"line": reader.line_num, "error": error})
    if not rows and not errors:
        errors.append(MSG_NO_ROWS)
    return rows, errors, delimiter == ";"


def lookup_variants(skus: Iterable[str], *, chunk: int = 5000) -> dict[str, SkuRef]:
    """Catalog variants by lower-cased SKU, a few thousand SKUs per query."""
    wanted = sorted({sku.lower() for sku in skus})
    found: dict[str, SkuRef] = {}
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        matching = (
            Variant.objects.annotate(sku_lower=Lower("sku"))  # served by the unique index
            .filter(sku_lower__in=part)
            .order_by()
            .values_list("pk", "sku", "unit")
        )
        for pk, sku, unit in matching:
            found[sku.lower()] = SkuRef(pk, sku, unit)
    return found


def lookup_variant_objects(skus: Iterable[str], *, chunk: int = 5000) -> dict[str, Variant]:
    """Like ``lookup_variants``, as Variant objects (for operations that need them)."""
    wanted = sorted({sku.lower() for sku in skus})
    found: dict[str, Variant] = {}
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        for variant in (
            Variant.objects.annotate(sku_lower=Lower("sku"))
            .filter(sku_lower__in=part)
            .select_related("product")
            .order_by()
        ):
            found[variant.sku.lower()] = variant
    return found


def parse_number(text: str, *, decimal_comma: bool) -> Decimal:
    if decimal_comma:
        text = text.replace(",", ".")
    return to_decimal(text.replace(" ", "").replace("\u00a0", ""))


def resolve_rows(
    rows: list[UploadedRow],
    errors: list[str],
    *,
    decimal_comma: bool,
    variants: Callable[[list[str]], dict[str, object]],
    quantities: dict[str, str],
    costs: Iterable[str] = (),
    blank_quantity_skips: bool = False,
) -> list[UploadedRow]:
    """Attach each row's variant and check its numbers; raise ``UploadRejected`` with every
    problem (those already found while reading included), or return the rows to use.

    ``quantities`` maps a column header to the sign its quantity must have ("positive",
    "non_negative"); ``costs`` are optional non-negative amounts. With
    ``blank_quantity_skips``, a row whose quantity is empty is left out (a count sheet line
    nobody counted yet) instead of being a problem.
    """
    known = variants([row.sku for row in rows])
    kept = []
    for row in rows:
        variant = known.get(row.sku.lower())
        if variant is None:
            errors.append(MSG_UNKNOWN_SKU % {"line": row.line, "sku": row.sku})
            continue
        row.variant = variant
        problem = False
        for header, sign in quantities.items():
            text = row.cells.get(header, "")
            if not text and blank_quantity_skips:
                row.values[header] = None
                continue
            try:
                number = parse_number(text, decimal_comma=decimal_comma) if text else text
                row.values[header] = clean_quantity(number, variant=variant, sign=sign)
            except StockError as error:
                problem = True
                errors.append(_bad_value(row.line, header, text, error.message))
        for header in costs:
            text = row.cells.get(header, "")
            row.values[header] = None
            if not text:
                continue
            try:
                cost = parse_number(text, decimal_comma=decimal_comma)
                if cost < 0:
                    raise ValueError("A unit cost cannot be negative.")
                row.values[header] = cost
            except (StockError, ValueError) as error:
                problem = True
                message = error.message if isinstance(error, StockError) else str(error)
                errors.append(_bad_value(row.line, header, text, message))
        if problem:
            continue
        if blank_quantity_skips and all(row.values[h] is None for h in quantities):
            continue
        kept.append(row)
    if errors:
        raise UploadRejected(sorted(errors, key=_line_of))
    return kept


def _bad_value(line: int, column: str, value: str, error: str) -> str:
    return MSG_BAD_VALUE % {"line": line, "column": column.lower(), "value": value, "error": error}


def _line_of(message: str) -> int:
    if message.startswith("Line "):
        digits = message[5:].split(",")[0].split(":")[0]
        if digits.isdigit():
            return int(digits)
    return 0
