"""The time the stock services stamp on what they write.

Always the real time, except inside ``simulated_time()``, which only ``seed_demo`` and tests
use to write a plausible past history through the real services. No form, admin page or API
call can choose a movement's time.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_simulated: ContextVar[datetime | None] = ContextVar("stockroom_simulated_time", default=None)


def now() -> datetime:
    return _simulated.get() or timezone.now()


@contextmanager
def simulated_time(moment: datetime):
    token = _simulated.set(moment)
    try:
        yield
    finally:
        _simulated.reset(token)
