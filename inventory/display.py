"""How quantities and moments read on the pages, computed fast enough for a 50-row table.

The inventory list shows about 300 quantities and 50 moments per page. Django's
``floatformat``, ``timesince`` and ``date_format`` resolve lazy translations and format
settings on every call, which made them a third of the page's time; these functions give the
same text (tests/inventory/test_display.py compares them over generated values) for the
project's one language.
"""

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import get_language, ngettext

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
WEEK, DAY, HOUR, MINUTE = 7 * 24 * 3600, 24 * 3600, 3600, 60


def quantity_text(value: Decimal | None) -> str:
    """``value|floatformat:"-3g"``: "1,234", or "1,234.500" when there is a fraction."""
    if value is None:
        return ""
    if value == value.to_integral_value():
        return f"{int(value):,d}"
    return f"{value:,.3f}"


def exact_time(moment: datetime) -> str:
    """``date_format(localtime(moment), "j M Y, H:i T")``: "21 Nov 2026, 08:29 UTC"."""
    return exact_local_time(timezone.localtime(moment))


def exact_local_time(local: datetime) -> str:
    """``exact_time`` of a moment already in the current time zone (a page of moments looks
    the zone up once)."""
    return (
        f"{local.day} {MONTHS[local.month - 1]} {local.year}, "
        f"{local.hour:02d}:{local.minute:02d} {local.tzname()}"
    )


def time_since(moment: datetime, now: datetime) -> str:
    """``timesince(moment, now, depth=1)``: the largest whole unit, "3 days", "1 year"."""
    since = now - moment
    if since.days * DAY + since.seconds <= 0:
        return _unit("minute", 0)
    now = now.astimezone(moment.tzinfo)
    months = (now.year - moment.year) * 12 + (now.month - moment.month)
    if moment.day > now.day or (moment.day == now.day and moment.time() > now.time()):
        months -= 1
    years, months = divmod(months, 12)
    if years:
        return _unit("year", years)
    if months:
        return _unit("month", months)
    remaining = (now - moment).total_seconds()
    for name, seconds in (("week", WEEK), ("day", DAY), ("hour", HOUR), ("minute", MINUTE)):
        if count := int(remaining // seconds):
            return _unit(name, count)
    return _unit("minute", 0)


def _unit(name: str, count: int) -> str:
    return _unit_text(get_language(), name, count)


@lru_cache(maxsize=1024)
def _unit_text(language: str | None, name: str, count: int) -> str:
    # The same catalogue entries as Django's timesince; the space does not wrap. Cached by
    # language: a page of 50 moments asked the catalogue for the same few texts each time.
    if name == "year":
        text = ngettext("%(num)d year", "%(num)d years", count)
    elif name == "month":
        text = ngettext("%(num)d month", "%(num)d months", count)
    elif name == "week":
        text = ngettext("%(num)d week", "%(num)d weeks", count)
    elif name == "day":
        text = ngettext("%(num)d day", "%(num)d days", count)
    elif name == "hour":
        text = ngettext("%(num)d hour", "%(num)d hours", count)
    else:
        text = ngettext("%(num)d minute", "%(num)d minutes", count)
    return (text % {"num": count}).replace(" ", "\xa0")
