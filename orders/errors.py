"""Domain errors of the order pipeline, each with a stable ``code`` the API returns.

Stock shortfalls are the stock services' own ``InsufficientStock``: the pipeline lets it through.
"""

from django.core.exceptions import ValidationError


class OrderError(Exception):
    code = "order_error"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code is not None:
            self.code = code

    def as_validation_error(self) -> ValidationError:
        return ValidationError(self.message, code=self.code)


class InvalidOrder(OrderError):
    """The order as given cannot be taken (no lines, a SKU twice, an inactive warehouse...)."""

    code = "invalid_order"


class ReferenceConflict(OrderError):
    """The reference is taken by an order with other content."""

    code = "reference_conflict"


class IllegalStageChange(OrderError):
    code = "illegal_stage_change"


MSG_NO_LINES = "An order needs at least one line."
MSG_TOO_MANY_LINES = "An order has at most %(max)s lines."
MSG_DUPLICATE_SKU = "%(sku)s appears on more than one line: put its whole quantity on one line."
MSG_INACTIVE_WAREHOUSE = "Warehouse %(warehouse)s is not active: it takes no orders."
MSG_NOT_A_CREATION_STAGE = "An order can be created at %(stages)s, not at %(stage)s."
MSG_UNKNOWN_STAGE = "“%(stage)s” is not a stage: use one of %(stages)s."
MSG_REFERENCE_CONFLICT = (
    "Order %(reference)s already exists with other content; "
    "post it again with the same content, or use another reference."
)
MSG_ILLEGAL_STAGE_CHANGE = "Order %(reference)s cannot go from %(current)s to %(target)s: %(why)s"
WHY_BACKWARDS = "an order only moves forward."
WHY_CLOSED = "the order is closed."
WHY_ALREADY_DEDUCTED = "its stock was already deducted; record a return instead."
WHY_NOTHING_DEDUCTED = "nothing was deducted from stock yet; cancel it instead."
WHY_NOT_RETURNED = "only a deducted order can have its return restocked."
