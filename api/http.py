"""The JSON side of every API answer: the error format, reading a JSON body, and the wrapper
that gives each endpoint its allowed methods, authentication and permission.

Whatever goes wrong, the client gets ``{"error": "<message>", "details": {...}}`` with the
contract's status code, never an HTML page. ``details`` always holds a stable ``code``.
"""

import json
import logging
from decimal import Decimal
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.views.decorators.csrf import csrf_exempt

from inventory.services import InsufficientStock, InvalidQuantity, StockError
from orders.errors import IllegalStageChange, InvalidOrder, OrderError, ReferenceConflict

from .auth import authenticate
from .errors import ApiError, invalid

logger = logging.getLogger(__name__)

MSG_METHOD_NOT_ALLOWED = "Method %(method)s is not allowed here; use %(allowed)s."
MSG_NOT_JSON = "Send the body as JSON, with the header Content-Type: application/json."
MSG_MALFORMED_JSON = "The body is not valid JSON."
MSG_NOT_AN_OBJECT = "The body must be a JSON object."
MSG_TOO_LARGE = "The body is too large."
MSG_FORBIDDEN = "This token's user is not allowed to do this (%(permission)s is needed)."
MSG_NOT_FOUND = "There is no API endpoint at %(path)s."
MSG_UNAVAILABLE = "The database is busy or unavailable; retry in a moment."
MSG_INTERNAL = "Something went wrong on our side; the error was logged."


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def read_json(request) -> dict:
    """The request's JSON object; numbers with a fraction become Decimals, never floats."""
    content_type = (request.content_type or "").lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise invalid(MSG_NOT_JSON, code="unsupported_content_type")
    try:
        body = request.body
    except RequestDataTooBig:
        raise invalid(MSG_TOO_LARGE, code="body_too_large") from None
    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        # ValueError covers bad syntax, bad UTF-8 and integers of thousands of digits.
        raise invalid(MSG_MALFORMED_JSON, code="malformed_json") from None
    if not isinstance(data, dict):
        raise invalid(MSG_NOT_AN_OBJECT, code="not_an_object")
    return data


def _domain_error(error: Exception) -> ApiError:
    """The answer for an error raised by the order or stock services."""
    if isinstance(error, InsufficientStock):
        shortfalls = [
            {
                "sku": item.sku,
                "warehouse": item.warehouse,
                "available": f"{item.available:.3f}",
                "requested": f"{item.requested:.3f}",
                "missing": f"{item.missing:.3f}",
            }
            for item in error.shortfalls
        ]
        return ApiError(409, error.message, code=error.code, details={"shortfalls": shortfalls})
    if isinstance(error, IllegalStageChange | ReferenceConflict):
        return ApiError(409, error.message, code=error.code, details=error.details)
    if isinstance(error, InvalidOrder | InvalidQuantity):
        return ApiError(400, error.message, code=error.code, details=getattr(error, "details", {}))
    # Any other refusal of the services depends on the current state (an inactive warehouse).
    assert isinstance(error, StockError | OrderError)
    return ApiError(409, error.message, code=error.code)


def api_endpoint(*, methods: dict[str, str | None]):
    """Wrap a view taking ``(request, ...)``: ``methods`` maps each allowed HTTP method to the
    permission it needs (None: any authenticated token). The view runs as the token's user."""
    allowed = ", ".join(sorted(methods))

    def decorator(view):
        @csrf_exempt  # no cookies: a Bearer token cannot be sent by another site's page
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise ApiError(
                        405,
                        MSG_METHOD_NOT_ALLOWED % {"method": request.method, "allowed": allowed},
                        code="method_not_allowed",
                        headers={"Allow": allowed},
                    )
                api_token = authenticate(request)
                request.user = api_token.user
                request.api_token = api_token
                permission = methods[request.method]
                if permission and not request.user.has_perm(permission):
                    raise ApiError(
                        403, MSG_FORBIDDEN % {"permission": permission}, code="forbidden"
                    )
                return view(request, *args, **kwargs)
            except ApiError as error:
                return error.response()
            except (StockError, OrderError) as error:
                return _domain_error(error).response()
            except OperationalError:
                logger.exception("API %s %s: database unavailable", request.method, request.path)
                return ApiError(503, MSG_UNAVAILABLE, code="unavailable").response()
            except Exception:
                logger.exception("API %s %s failed", request.method, request.path)
                return ApiError(500, MSG_INTERNAL, code="internal_error").response()

        return wrapper

    return decorator


@csrf_exempt
def not_found(request, path=""):
    return ApiError(404, MSG_NOT_FOUND % {"path": request.path}, code="not_found").response()
