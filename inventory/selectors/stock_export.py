"""The inventory CSV (``/inventory/export.csv``) as bytes: written by PostgreSQL's COPY where
it can be, by Python rows elsewhere, the same bytes either way.

A million lines through Python rows and the csv module take several times what PostgreSQL
takes to write them; COPY of a query whose cells are already formatted (core.csv_copy) is
close to ``psql \\copy``. The Python rows remain for SQLite and for a current time zone
PostgreSQL cannot name.
"""

from collections.abc import Iterator

from django.db.models import F, QuerySet

from core.csv_copy import copy_available, copy_csv, csv_cell, csv_choice, current_zone_name
from core.csv_export import STANDARD, CsvDialect, csv_chunks

from .stock_list import EXPORT, EXPORT_COLUMNS, EXPORT_STATUS, Ordering, export_rows


def inventory_csv(
    lines: QuerySet, *, ordering: Ordering, dialect: CsvDialect = STANDARD
) -> Iterator[bytes]:
    """The CSV of ``lines`` (already filtered and scoped), in ``ordering``, header first."""
    if copy_available(lines.db):
        return copy_csv(
            export_cells(lines, ordering=ordering, dialect=dialect, zone=current_zone_name()),
            EXPORT_COLUMNS,
            dialect,
        )
    return csv_chunks(EXPORT_COLUMNS, export_rows(lines, ordering=ordering), dialect)


def export_cells(
    lines: QuerySet, *, ordering: Ordering, dialect: CsvDialect, zone: str
) -> QuerySet:
    """``lines`` as the CSV's cells, formatted by the database (see core.csv_copy), in the
    list's order: the rows of ``export_rows`` as ``format_cell`` writes them."""
    cells = {}
    for index, (column, field) in enumerate(EXPORT):
        if field == "status":
            cell = csv_choice(F(field), EXPORT_STATUS)
        else:
            cell = csv_cell(F(field), column.kind, dialect, zone=zone)
        cells[f"cell_{index}"] = cell
    return ordering.apply(lines).values(**cells)
