"""Input rules shared by the stock services: quantities that respect the unit, reasons."""

from decimal import Decimal, InvalidOperation

from catalog.models import Variant

from .errors import (
    MSG_FRACTION,
    MSG_NEGATIVE,
    MSG_NOT_A_NUMBER,
    MSG_NOT_POSITIVE,
    MSG_REASON_REQUIRED,
    MSG_TOO_LARGE,
    MSG_TOO_MANY_DECIMALS,
    MSG_UNKNOWN_REASON,
    MSG_ZERO,
    InvalidQuantity,
    ReasonRequired,
)

#: Quantities are stored as DECIMAL(15, 3).
MAX_QUANTITY = Decimal(10) ** 12
QUANTUM = Decimal("0.001")


def to_decimal(value) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidQuantity(MSG_NOT_A_NUMBER, code="not_a_number") from None
    if not number.is_finite():
        raise InvalidQuantity(MSG_NOT_A_NUMBER, code="not_a_number")
    return number


def clean_quantity(value, *, variant: Variant, sign: str = "positive") -> Decimal:
    """Return ``value`` as a Decimal with 3 places, or raise ``InvalidQuantity``.

    ``sign`` is "positive" (> 0), "non_negative" (>= 0) or "non_zero" (a signed delta).
    """
    number = to_decimal(value)
    # Size first: quantizing a number with more digits than the decimal context holds fails.
    if abs(number) >= MAX_QUANTITY:
        raise InvalidQuantity(MSG_TOO_LARGE, code="quantity_too_large")
    if number.as_tuple().exponent < -3 and number != number.quantize(QUANTUM):
        raise InvalidQuantity(MSG_TOO_MANY_DECIMALS, code="too_many_decimals")
    if sign == "positive" and number <= 0:
        raise InvalidQuantity(MSG_NOT_POSITIVE, code="quantity_not_positive")
    if sign == "non_negative" and number < 0:
        raise InvalidQuantity(MSG_NEGATIVE, code="quantity_negative")
    if sign == "non_zero" and number == 0:
        raise InvalidQuantity(MSG_ZERO, code="zero_quantity")
    if not variant.allows_fractions and number != number.to_integral_value():
        raise InvalidQuantity(
            MSG_FRACTION % {"sku": variant.sku, "quantity": f"{number:f}"},
            code="fraction_not_allowed",
        )
    return number.quantize(QUANTUM)


def require_reason(reason: str, allowed) -> str:
    if not reason:
        raise ReasonRequired(MSG_REASON_REQUIRED)
    if reason not in {str(choice) for choice in allowed}:
        raise ReasonRequired(MSG_UNKNOWN_REASON % {"reason": reason}, code="unknown_reason")
    return reason
