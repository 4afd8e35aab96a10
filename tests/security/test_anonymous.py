"""Anonymous visitors: every page, export and admin path sends them to log in; the API says 401.

The paths come from the URL resolver, so a page added later is covered without editing this file.
"""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.security.conftest import json_of, project_routes

pytestmark = pytest.mark.django_db

#: Paths an anonymous visitor must reach: logging in, out, and resetting a password.
PUBLIC = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "admin:login",
    "admin:logout",
}
ROUTES = project_routes()
API = [route for route in ROUTES if route.path.startswith("/api/")]
PAGES = [
    route for route in ROUTES if route.name not in PUBLIC and route not in API and route.path != "/"
]


def test_the_resolver_yields_every_surface():
    names = {route.name for route in ROUTES}
    assert {
        "inventory:list",
        "inventory:export",
        "inventory:sku_detail",
        "inventory:count_apply",
        "inventory:stock_at_export",
        "movements:journal_export",
        "orders:detail",
        "api:inventory",
        "api:order_stage",
        "admin:index",
        "admin:catalog_variant_changelist",
        "admin:inventory_stockline_changelist",
    } <= names
    assert len(PAGES) > 100  # the admin alone brings most of them
    assert len(API) >= 5


def login_target(response) -> str:
    return urlsplit(response["Location"]).path


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_page_export_and_admin_path_redirects_anonymous_visitors_to_login(method):
    client = Client()
    wrong = []
    for route in PAGES:
        response = getattr(client, method)(route.path)
        target = login_target(response) if response.status_code == 302 else ""
        if target not in {"/accounts/login/", "/admin/login/"}:
            wrong.append((route.name, route.path, response.status_code, target))
    assert wrong == []


def test_the_root_redirects_to_the_inventory_then_to_login():
    response = Client().get("/", follow=True)

    assert [hop for hop, _ in response.redirect_chain] == [
        "/inventory/",
        "/accounts/login/?next=/inventory/",
    ]


def test_every_api_path_answers_401_in_json_without_a_token():
    """Each path answers 401 to the methods it serves; to the others a bare 405 (it names the
    allowed methods, no data); an unknown path the JSON 404 of the catch-all, also bare."""
    client = Client()
    statuses = {}
    for route in API:
        for method in ("get", "post", "put", "patch", "delete"):
            body = {} if method == "get" else "{}"
            response = getattr(client, method)(route.path, body, content_type="application/json")
            body = json_of(response)
            assert set(body) <= {"error", "details"}, (route.path, method, body)
            statuses.setdefault(route.name, set()).add(response.status_code)

    unknown = next(route.name for route in API if route.path.endswith("unknown-path"))
    assert statuses.pop(unknown) == {404}
    assert statuses == {
        "api:inventory": {401, 405},
        "api:orders": {401, 405},
        "api:order": {401, 405},
        "api:order_stage": {401, 405},
    }


@pytest.mark.parametrize(
    "header", ["Bearer nope", "Bearer ", "Token abc", "Basic c2VjOnNlYw==", "Bearer " + "x" * 5000]
)
def test_a_bad_token_answers_401_on_every_api_path(header):
    client = Client()
    served = {"api:inventory": "get", "api:order": "get", "api:orders": "post"}
    served["api:order_stage"] = "post"
    for route in API:
        method = served.get(route.name)
        if method is None:
            continue  # the JSON 404 of unknown paths
        response = getattr(client, method)(route.path, headers={"Authorization": header})
        assert response.status_code == 401, (route.path, header)
        assert "error" in json_of(response)


def test_public_pages_stay_reachable():
    assert Client().get("/accounts/login/").status_code == 200
