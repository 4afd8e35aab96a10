"""The JSON API (``/api/v1/``): read the inventory, push orders, move them through the pipeline.

Each view parses its input (a 400 names every faulty field), calls a selector or the order
services, and answers with the contract's JSON. ``api_endpoint`` handles methods, the Bearer
token, the permission and every error.
"""

from urllib.parse import urlencode

from django.http import JsonResponse
from django.urls import reverse

from orders.services import order_create, order_set_stage
from warehouses.models import Warehouse

from .errors import ApiError
from .http import api_endpoint, read_json
from .parsing import encode_cursor, parse_inventory_query, parse_order, parse_stage
from .representations import order_json, stock_line_json
from .selectors import inventory_page, order_with_lines

MSG_UNKNOWN_ORDER = "There is no order with the reference “%(reference)s”."
MSG_ORDER_OUT_OF_SCOPE = "This token's user has no access to warehouse %(code)s."


@api_endpoint(methods={"GET": "inventory.view_stockline"})
def inventory(request):
    query = parse_inventory_query(request.GET, request.user)
    lines, more = inventory_page(user=request.user, query=query)
    next_url = None
    if more:
        params = [(key, value) for key, value in request.GET.items() if key != "cursor"]
        params.append(("cursor", encode_cursor(lines[-1].pk)))
        next_url = request.build_absolute_uri(f"{request.path}?{urlencode(params)}")
    return JsonResponse({"results": [stock_line_json(line) for line in lines], "next": next_url})


@api_endpoint(methods={"POST": "inventory.reserve_stock"})
def orders(request):
    wanted = parse_order(read_json(request), request.user)
    order, created = order_create(
        reference=wanted.reference,
        warehouse=wanted.warehouse,
        lines=wanted.lines,
        stage=wanted.stage,
        user=request.user,
        api_token=request.api_token.label,
    )
    order, lines = order_with_lines(order.reference)
    response = JsonResponse(order_json(order, lines), status=201 if created else 200)
    response["Location"] = reverse("api:order", kwargs={"reference": order.reference})
    return response


def _visible_order(request, reference: str):
    order, lines = order_with_lines(reference)
    if order is None:
        raise ApiError(404, MSG_UNKNOWN_ORDER % {"reference": reference}, code="not_found")
    if not Warehouse.objects.visible_to(request.user).filter(pk=order.warehouse_id).exists():
        raise ApiError(
            403, MSG_ORDER_OUT_OF_SCOPE % {"code": order.warehouse.code}, code="forbidden"
        )
    return order, lines


@api_endpoint(methods={"GET": "orders.view_order"})
def order(request, reference):
    found, lines = _visible_order(request, reference)
    return JsonResponse(order_json(found, lines))


@api_endpoint(methods={"POST": "inventory.reserve_stock"})
def order_stage(request, reference):
    stage = parse_stage(read_json(request))
    found, _ = _visible_order(request, reference)
    order_set_stage(order=found, stage=stage, user=request.user, api_token=request.api_token.label)
    found, lines = order_with_lines(reference)
    return JsonResponse(order_json(found, lines))
