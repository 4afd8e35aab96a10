"""Turn query strings and JSON bodies into checked domain values, or a 400 naming each faulty
field. Unknown SKUs and warehouses are bad input (400); a warehouse outside the token user's
scope is a 403."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.core import signing
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import Variant
from inventory.models import StockStatus
from inventory.services import InvalidQuantity
from inventory.services.errors import MSG_TOO_LARGE
from inventory.services.validation import MAX_QUANTITY, clean_quantity, to_decimal
from orders.errors import MSG_TOO_MANY_LINES
from orders.models import Stage
from orders.pipeline import CREATION_STAGES
from orders.services import MAX_LINES, OrderLineInput
from warehouses.models import Warehouse

from .errors import ApiError, invalid

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
CURSOR_SALT = "api.inventory.cursor"

MSG_INVALID = "Some fields are missing or invalid: see details."
MSG_REQUIRED = "This field is required."
MSG_NOT_TEXT = "Give a text value."
MSG_UNKNOWN_WAREHOUSE = "There is no warehouse with the code “%(code)s”."
MSG_WAREHOUSE_OUT_OF_SCOPE = "This token's user has no access to warehouse %(code)s."
MSG_UNKNOWN_SKU = "There is no SKU “%(sku)s”."
MSG_NOT_A_LIST = 'Give a list of lines, each {"sku": ..., "quantity": ...}.'
MSG_LINE_NOT_OBJECT = 'Each line is an object {"sku": ..., "quantity": ...}.'
MSG_QUANTITY_TYPE = 'Give the quantity as a number or a string, such as 2 or "2.5".'
MSG_UNKNOWN_STATUS = "Use one of %(choices)s."
MSG_BAD_DATETIME = "Give an ISO 8601 date and time, such as 2026-03-01T08:00:00Z."
MSG_BAD_CURSOR = "This cursor is not one this API gave out: start again without it."
MSG_BAD_LIMIT = "Give a whole number from 1 to %(max)s."
MSG_UNKNOWN_STAGE = "Use one of %(choices)s."


def _text(data: dict, name: str, errors: dict, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors[name] = MSG_REQUIRED
        return None
    if not isinstance(value, str):
        errors[name] = MSG_NOT_TEXT
        return None
    return value.strip()


def warehouse_for(code: str, user, *, field: str = "warehouse") -> Warehouse:
    """The warehouse with ``code``: a 400 if there is none, a 403 if ``user`` may not use it."""
    warehouse = Warehouse.objects.filter(code=code).first()
    if warehouse is None:
        raise invalid(MSG_INVALID, fields={field: MSG_UNKNOWN_WAREHOUSE % {"code": code}})
    if not Warehouse.objects.visible_to(user).filter(pk=warehouse.pk).exists():
        raise ApiError(403, MSG_WAREHOUSE_OUT_OF_SCOPE % {"code": code}, code="forbidden")
    return warehouse


def _quantity(value, variant: Variant) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise InvalidQuantity(MSG_QUANTITY_TYPE, code="not_a_number")
    number = to_decimal(value.strip() if isinstance(value, str) else value)
    if abs(number) >= MAX_QUANTITY:  # checked first: quantize() fails on huge numbers
        raise InvalidQuantity(MSG_TOO_LARGE, code="quantity_too_large")
    return clean_quantity(number, variant=variant)


def _variants_by_sku(skus: list[str]) -> dict[str, Variant]:
    wanted = {sku.lower() for sku in skus}
    found = Variant.objects.alias(sku_lower=Lower("sku")).filter(sku_lower__in=wanted)
    return {variant.sku.lower(): variant for variant in found}


@dataclass(frozen=True)
class OrderRequest:
    reference: str
    warehouse: Warehouse
    lines: list[OrderLineInput]
    stage: str


def parse_order(data: dict, user) -> OrderRequest:
    """``{"reference", "warehouse", "lines": [{"sku", "quantity"}], "stage"?}``"""
    errors: dict[str, str] = {}
    reference = _text(data, "reference", errors)
    code = _text(data, "warehouse", errors)
    stage = _text(data, "stage", errors, required=False) or Stage.NEW
    if "stage" not in errors and stage not in CREATION_STAGES:
        errors["stage"] = MSG_UNKNOWN_STAGE % {"choices": ", ".join(CREATION_STAGES)}
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        errors["lines"] = MSG_NOT_A_LIST
        raw_lines = []
    elif len(raw_lines) > MAX_LINES:
        errors["lines"] = MSG_TOO_MANY_LINES % {"max": MAX_LINES}
        raw_lines = []
    skus = [
        line["sku"].strip()
        for line in raw_lines
        if isinstance(line, dict) and isinstance(line.get("sku"), str)
    ]
    variants = _variants_by_sku(skus) if skus else {}
    lines = []
    for index, raw in enumerate(raw_lines):
        where = f"lines[{index}]"
        if not isinstance(raw, dict):
            errors[where] = MSG_LINE_NOT_OBJECT
            continue
        line_errors: dict[str, str] = {}
        sku = _text(raw, "sku", line_errors)
        if line_errors:
            errors[f"{where}.sku"] = line_errors["sku"]
            continue
        variant = variants.get(sku.lower())
        if variant is None:
            errors[f"{where}.sku"] = MSG_UNKNOWN_SKU % {"sku": sku}
            continue
        if raw.get("quantity") is None:
            errors[f"{where}.quantity"] = MSG_REQUIRED
            continue
        try:
            lines.append(OrderLineInput(variant, _quantity(raw["quantity"], variant)))
        except InvalidQuantity as error:
            errors[f"{where}.quantity"] = error.message
    if errors:
        raise invalid(MSG_INVALID, fields=errors)
    warehouse = warehouse_for(code, user)
    return OrderRequest(reference=reference, warehouse=warehouse, lines=lines, stage=stage)


def parse_stage(data: dict) -> str:
    errors: dict[str, str] = {}
    stage = _text(data, "stage", errors)
    if stage is not None and stage not in Stage.values:
        errors["stage"] = MSG_UNKNOWN_STAGE % {"choices": ", ".join(Stage.values)}
    if errors:
        raise invalid(MSG_INVALID, fields=errors)
    return stage


@dataclass(frozen=True)
class InventoryQuery:
    sku: str | None = None
    warehouse: Warehouse | None = None
    status: str | None = None
    changed_since: datetime | None = None
    after: int = 0
    limit: int = DEFAULT_PAGE_SIZE


def _moment(value: str) -> datetime | None:
    # An unencoded "+" in a query string arrives as a space: "...T08:00:00 02:00".
    value = value.strip().replace(" ", "+")
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def encode_cursor(last_id: int) -> str:
    return signing.Signer(salt=CURSOR_SALT).sign_object(last_id)


def _decode_cursor(cursor: str) -> int | None:
    try:
        value = signing.Signer(salt=CURSOR_SALT).unsign_object(cursor)
    except (signing.BadSignature, ValueError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_inventory_query(params, user) -> InventoryQuery:
    """Query string of ``GET /api/v1/inventory``: sku, warehouse, status, changed_since,
    cursor, limit. Every value is checked; unknown parameters are ignored."""
    errors: dict[str, str] = {}
    values: dict = {}
    if params.get("sku"):
        values["sku"] = params["sku"].strip()
    status = params.get("status")
    if status:
        if status not in StockStatus.values:
            errors["status"] = MSG_UNKNOWN_STATUS % {"choices": ", ".join(StockStatus.values)}
        values["status"] = status
    if params.get("changed_since"):
        values["changed_since"] = _moment(params["changed_since"])
        if values["changed_since"] is None:
            errors["changed_since"] = MSG_BAD_DATETIME
    if params.get("cursor"):
        values["after"] = _decode_cursor(params["cursor"])
        if values["after"] is None:
            errors["cursor"] = MSG_BAD_CURSOR
    if params.get("limit"):
        limit = params["limit"].strip()
        if not (
            limit.isascii()
            and limit.isdigit()
            and len(limit) <= 4
            and 1 <= int(limit) <= MAX_PAGE_SIZE
        ):
            errors["limit"] = MSG_BAD_LIMIT % {"max": MAX_PAGE_SIZE}
        else:
            values["limit"] = int(limit)
    if errors:
        raise invalid(MSG_INVALID, fields=errors)
    if params.get("warehouse"):
        values["warehouse"] = warehouse_for(params["warehouse"].strip(), user)
    return InventoryQuery(**values)
