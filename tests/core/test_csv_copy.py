"""core.csv_copy: COPY's LF after each row becomes the CRLF the csv module writes while a LF
inside a quoted cell stays; a COPY that fails midway raises and leaves the connection usable.
(The cells themselves: tests/inventory/test_selectors_stock_export.py, byte for byte.)"""

import pytest
from django.db import DataError, connection
from django.db.models.expressions import RawSQL

from core.csv_copy import _crlf, copy_csv
from core.csv_export import NUMBER, Column
from inventory.models import StockLine
from inventory.services import StockQuantity, stock_receive
from tests.factories import VariantFactory, WarehouseFactory


def test_rows_end_with_crlf():
    assert _crlf(b"a,b\nc,d\n", 2) == b"a,b\r\nc,d\r\n"


def test_a_line_break_inside_a_quoted_cell_stays():
    rows = b'a,"two\nlines"\n"x\r\ny",b\nplain,row\n'

    assert _crlf(rows, 3) == b'a,"two\nlines"\r\n"x\r\ny",b\r\nplain,row\r\n'


def test_doubled_quotes_do_not_end_a_quoted_cell():
    rows = b'"He said ""hi\n""",x\n"""",y\n'

    assert _crlf(rows, 2) == b'"He said ""hi\n""",x\r\n"""",y\r\n'


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_copy_failing_midway_raises_and_leaves_the_connection_usable():
    warehouse = WarehouseFactory()
    stock_receive(
        warehouse=warehouse,
        lines=[StockQuantity(variant, 1) for variant in VariantFactory.create_batch(30)],
    )
    last = StockLine.objects.order_by("id").last()
    # 1 / 0 on the last line: the rows before it are already on their way.
    cells = StockLine.objects.order_by("id").values(share=RawSQL("1 / (%s - id)", [last.pk]))

    with pytest.raises(DataError, match="division by zero"):
        list(copy_csv(cells, [Column("Share", NUMBER)]))

    assert not connection.in_atomic_block
    assert StockLine.objects.count() == 30
