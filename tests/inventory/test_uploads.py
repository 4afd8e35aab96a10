"""CSV uploads: every problem reported at once with its line number, spreadsheet quirks read."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory import uploads
from inventory.uploads import (
    MSG_BINARY,
    MSG_EMPTY_FILE,
    MSG_NO_ROWS,
    UploadColumn,
    UploadRejected,
    lookup_variants,
    parse_rows,
    read_file,
    resolve_rows,
)
from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db

SKU = UploadColumn("SKU")
COLUMNS = (UploadColumn("Quantity", aliases=("qty",)), UploadColumn("Unit cost", required=False))


def read(text: str | bytes, **kwargs):
    data = text.encode() if isinstance(text, str) else text
    rows, errors, comma = parse_rows(data, sku_column=SKU, columns=COLUMNS)
    return resolve_rows(
        rows,
        errors,
        decimal_comma=comma,
        variants=lookup_variants,
        quantities={"Quantity": "positive"},
        costs=("Unit cost",),
        **kwargs,
    )


def problems(text, **kwargs) -> list[str]:
    with pytest.raises(UploadRejected) as caught:
        read(text, **kwargs)
    return caught.value.errors


def test_a_plain_comma_file_is_read_with_its_line_numbers():
    shirt, mug = VariantFactory(), VariantFactory()

    rows = read(f"SKU,Quantity,Unit cost\n{shirt.sku},3,1.25\n{mug.sku},1,\n")

    assert [(row.line, row.variant.pk, row.values["Quantity"]) for row in rows] == [
        (2, shirt.pk, Decimal("3.000")),
        (3, mug.pk, Decimal("1.000")),
    ]
    assert rows[0].values["Unit cost"] == Decimal("1.25")
    assert rows[1].values["Unit cost"] is None


def test_a_spreadsheet_file_with_bom_semicolons_decimal_commas_and_blank_lines_is_read():
    rice = VariantFactory(by_weight=True)

    rows = read(f"\ufeffsku;QTY\r\n\r\n{rice.sku.lower()};2,5\r\n;\r\n")

    assert [(row.line, row.values["Quantity"]) for row in rows] == [(3, Decimal("2.500"))]


def test_every_problem_is_reported_at_once_in_line_order():
    piece = VariantFactory()
    other = VariantFactory()

    errors = problems(
        "SKU,Quantity\n"
        f"{piece.sku},1.5\n"
        "UNKNOWN,2\n"
        f"{other.sku},-1\n"
        f"{piece.sku.lower()},1\n"
        ",4\n"
        f"{VariantFactory().sku},1e400\n"
    )

    assert errors == [
        f"Line 2, quantity “1.5”: {piece.sku} is counted in whole pieces: "
        "1.5 is not a whole number.",
        "Line 3: unknown SKU “UNKNOWN”.",
        "Line 4, quantity “-1”: Enter a quantity greater than zero.",
        f"Line 5: SKU {piece.sku.lower()} is already on line 2.",
        "Line 6: the SKU is empty.",
        "Line 7, quantity “1e400”: This quantity is too large.",
    ]


def test_a_negative_unit_cost_is_refused():
    variant = VariantFactory()

    assert problems(f"SKU,Quantity,Unit cost\n{variant.sku},1,-2\n") == [
        "Line 2, unit cost “-2”: A unit cost cannot be negative."
    ]


def test_a_missing_column_is_named_with_the_columns_found():
    assert problems("Code,Amount\nA,1\n") == [
        "The header row has no “SKU” column (found: Code, Amount).",
        "The header row has no “Quantity” column (found: Code, Amount).",
    ]


def test_another_encoding_is_refused_with_the_line_where_it_shows():
    data = "SKU,Quantity\nA,1\nCAFÉ,2\n".encode("cp1252")

    assert problems(data) == [uploads.MSG_NOT_UTF8 % {"line": 3}]


def test_empty_binary_and_header_only_files_are_refused():
    assert problems(b"\n\n") == [MSG_EMPTY_FILE]
    assert problems(b"PK\x03\x04\x00\x00binary") == [MSG_BINARY]
    assert problems("SKU,Quantity\n") == [MSG_NO_ROWS]


def test_blank_quantities_can_mean_not_counted_yet():
    counted, blank = VariantFactory(), VariantFactory()

    rows = read(f"SKU,Quantity\n{counted.sku},2\n{blank.sku},\n", blank_quantity_skips=True)

    assert [row.variant.pk for row in rows] == [counted.pk]


def test_a_file_too_large_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 10)

    with pytest.raises(UploadRejected) as caught:
        read_file(SimpleUploadedFile("big.csv", b"SKU,Quantity\nA,1\n"))

    assert caught.value.errors == ["The file is larger than 0 MB: split it into smaller files."]


def test_only_the_first_problems_are_listed():
    text = "SKU,Quantity\n" + "".join(f"NOPE-{n},1\n" for n in range(150))

    with pytest.raises(UploadRejected) as caught:
        read(text)

    messages = caught.value.messages()
    assert len(messages) == 101
    assert messages[-1] == "… and 50 more problems."


def test_a_formula_prefix_added_by_a_spreadsheet_export_is_ignored():
    variant = VariantFactory(sku="-ODD.SKU")

    rows = read("SKU,Quantity\n'-ODD.SKU,1\n")

    assert rows[0].variant.pk == variant.pk
