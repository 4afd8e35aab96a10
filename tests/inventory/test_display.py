"""The fast display helpers give exactly the text of the Django filters they stand in for."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.test import override_settings
from django.utils import formats, timezone
from django.utils.timesince import timesince
from hypothesis import assume, given
from hypothesis import strategies as st

from inventory.display import exact_time, quantity_text, time_since

quantities = st.decimals(
    min_value=Decimal("-10") ** 12, max_value=Decimal(10) ** 12, places=3, allow_nan=False
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)


@given(quantities)
def test_quantity_text_is_floatformat_minus_3_grouped(value):
    assert quantity_text(value) == floatformat(value, "-3g")


@pytest.mark.parametrize(
    ("value", "text"),
    [("0.000", "0"), ("-0.000", "0"), ("1234.500", "1,234.500"), ("-1000000", "-1,000,000")],
)
def test_quantity_text_examples(value, text):
    assert quantity_text(Decimal(value)) == text


def test_quantity_text_of_nothing_is_empty():
    assert quantity_text(None) == ""


@given(moments, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3000)))
def test_time_since_is_timesince_to_one_unit(moment, elapsed):
    now = moment + elapsed

    assert time_since(moment, now) == timesince(moment, now, depth=1)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York"])
@given(moment=moments)
def test_exact_time_is_the_date_format_of_the_local_time(zone, moment):
    with override_settings(TIME_ZONE=zone):
        local = timezone.localtime(moment)
        # In the hour a clock goes back, Django leaves the zone's name out; exact_time keeps it.
        assume(local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset())
        expected = formats.date_format(local, "j M Y, H:i T")

        assert exact_time(moment) == expected
