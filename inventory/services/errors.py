"""Domain errors raised by the stock services.

Each carries a stable ``code`` (asserted by tests, returned by the API) and a message a
person can act on. Forms turn them into field errors, the API into JSON errors.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError


class StockError(Exception):
    code = "stock_error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def as_validation_error(self) -> ValidationError:
        return ValidationError(self.message, code=self.code)


@dataclass(frozen=True)
class Shortfall:
    sku: str
    warehouse: str
    available: Decimal
    requested: Decimal

    @property
    def missing(self) -> Decimal:
        """How much more would be needed for available stock to stay at zero or above."""
        return min(self.requested, self.requested - self.available)

    def __str__(self):
        return (
            f"Not enough stock of {self.sku} in {self.warehouse}: {self.missing:f} short "
            f"({self.available:f} available, {self.requested:f} requested)."
        )


class InsufficientStock(StockError):
    code = "insufficient_stock"

    def __init__(self, shortfalls: list[Shortfall]):
        self.shortfalls = shortfalls
        super().__init__(" ".join(str(item) for item in shortfalls))


class InvalidQuantity(StockError):
    code = "invalid_quantity"


class ReasonRequired(StockError):
    code = "reason_required"


class InvalidOperation(StockError):
    code = "invalid_operation"


# Messages, kept here so tests and the API can rely on them.
MSG_NOT_A_NUMBER = "Enter a number, such as 12 or 2.5."
MSG_TOO_MANY_DECIMALS = "Use at most 3 decimal places."
MSG_TOO_LARGE = "This quantity is too large."
MSG_NOT_POSITIVE = "Enter a quantity greater than zero."
MSG_NEGATIVE = "The quantity cannot be negative."
MSG_ZERO = "A zero quantity changes nothing."
MSG_FRACTION = "%(sku)s is counted in whole pieces: %(quantity)s is not a whole number."
MSG_REASON_REQUIRED = "Give a reason for this change."
MSG_UNKNOWN_REASON = "“%(reason)s” is not a reason that can be used here."
MSG_SAME_WAREHOUSE = "Choose two different warehouses."
MSG_EXCEEDS_RESERVED = (
    "Only %(reserved)s of %(sku)s is reserved in %(warehouse)s; cannot take %(quantity)s."
)
MSG_EXCEEDS_LOCKED = (
    "Only %(locked)s of %(sku)s is locked in %(warehouse)s; cannot unlock %(quantity)s."
)
MSG_NO_LINES = "Add at least one line."
MSG_INACTIVE_WAREHOUSE = "Warehouse %(warehouse)s is not active."
