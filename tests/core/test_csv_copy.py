"""core.csv_copy's line ends: COPY's LF after each row becomes the CRLF the csv module writes,
while a LF inside a quoted cell stays as it is."""

from core.csv_copy import _crlf


def test_rows_end_with_crlf():
    assert _crlf(b"a,b\nc,d\n", 2) == b"a,b\r\nc,d\r\n"


def test_a_line_break_inside_a_quoted_cell_stays():
    rows = b'a,"two\nlines"\n"x\r\ny",b\nplain,row\n'

    assert _crlf(rows, 3) == b'a,"two\nlines"\r\n"x\r\ny",b\r\nplain,row\r\n'


def test_doubled_quotes_do_not_end_a_quoted_cell():
    rows = b'"He said ""hi\n""",x\n"""",y\n'

    assert _crlf(rows, 2) == b'"He said ""hi\n""",x\r\n"""",y\r\n'
