"""The order pages: list and detail, filtered, scoped, a constant number of queries; moving an
order from its page; the admin."""

import pytest
from django.urls import reverse

from inventory.services import Shortfall
from orders.models import Order, Stage
from orders.views import MSG_MOVED
from tests.factories import UserFactory, VariantFactory, WarehouseFactory
from tests.helpers import d, line_of, receive
from tests.orders.helpers import move, place

pytestmark = pytest.mark.django_db

LIST = "/orders/"


@pytest.fixture
def shop(pipeline):
    paris, lyon = WarehouseFactory(code="PAR"), WarehouseFactory(code="LYO")
    shirt, mug = VariantFactory(sku="TSHIRT-M"), VariantFactory(sku="MUG")
    for warehouse in (paris, lyon):
        receive(shirt, warehouse, 20)
        receive(mug, warehouse, 20)
    return paris, lyon, shirt, mug


def logged_in(client, user):
    client.force_login(user)
    return client


def references(response) -> list[str]:
    return [order.reference for order in response.context["orders"]]


def test_the_list_needs_a_login_and_the_view_permission(client, shop):
    assert client.get(LIST).status_code == 302
    assert logged_in(client, UserFactory()).get(LIST).status_code == 403


def test_the_list_shows_orders_newest_first_with_their_totals(client, shop, accountant):
    paris, _, shirt, mug = shop
    place("SO-1", paris, {shirt: 2})
    place("SO-2", paris, {shirt: 3, mug: 1}, stage=Stage.CONFIRMED)

    response = logged_in(client, accountant).get(LIST)

    assert response.status_code == 200
    assert references(response) == ["SO-2", "SO-1"]
    newest = response.context["orders"][0]
    assert (newest.line_count, newest.total_quantity, newest.total_reserved) == (2, d(4), d(4))
    html = response.content.decode()
    assert 'href="/orders/SO-2/"' in html
    assert ">Confirmed<" in html
    assert '<label for="id_stage">Stage</label>' in html
    assert '<label for="id_warehouse">Warehouse</label>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stage": "confirmed"}, ["SO-2"]),
        ({"warehouse": "LYO"}, ["LYO-1"]),
        ({"q": "so-"}, ["SO-2", "SO-1"]),
        ({"q": "mug"}, ["SO-2"]),
        ({"q": "LYO-1"}, ["LYO-1"]),
        ({"stage": "cancelled", "warehouse": "PAR"}, []),
    ],
)
def test_the_list_filters_by_stage_warehouse_reference_or_sku(
    client, shop, accountant, query, expected
):
    paris, lyon, shirt, mug = shop
    place("SO-1", paris, {shirt: 2})
    place("SO-2", paris, {shirt: 3, mug: 1}, stage=Stage.CONFIRMED)
    place("LYO-1", lyon, {shirt: 1})

    response = logged_in(client, accountant).get(LIST, query)

    assert references(response) == expected


def test_an_invalid_filter_shows_an_error_not_a_500(client, shop, accountant):
    response = logged_in(client, accountant).get(LIST, {"stage": "bogus", "warehouse": "NOPE"})

    assert response.status_code == 200
    assert references(response) == []
    assert "Select a valid choice" in response.content.decode()


def test_the_list_is_paginated_and_costs_the_same_queries_whatever_the_page(
    client, shop, accountant, django_assert_max_num_queries
):
    paris, _, shirt, mug = shop
    client = logged_in(client, accountant)
    place("SO-0", paris, {shirt: 1})
    with django_assert_max_num_queries(20) as few:
        client.get(LIST)
    for number in range(1, 60):
        place(f"SO-{number}", paris, {shirt: 1, mug: 1})

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST)

    assert len(response.context["orders"]) == 50
    assert response.context["page_obj"].paginator.num_pages == 2
    assert len(references(client.get(LIST, {"page": 2}))) == 10


def test_staff_assigned_to_a_warehouse_see_only_its_orders(client, shop):
    paris, lyon, shirt, _ = shop
    place("SO-1", paris, {shirt: 1})
    place("LYO-1", lyon, {shirt: 1})
    staff = UserFactory(role="Warehouse staff")
    lyon.assigned_staff.add(staff)
    client = logged_in(client, staff)

    assert references(client.get(LIST)) == ["LYO-1"]
    assert client.get("/orders/SO-1/").status_code == 404
    assert client.get("/orders/LYO-1/").status_code == 200


def test_the_detail_shows_each_lines_reserved_and_shipped_quantities_and_the_history(
    client, shop, merchant
):
    paris, _, shirt, mug = shop
    order = place("SO-1", paris, {shirt: 2, mug: 3}, api_token="sr_abcdefgh…", user=merchant)
    move(order, Stage.SHIPPED, user=merchant)

    response = logged_in(client, merchant).get("/orders/SO-1/")

    assert response.status_code == 200
    lines = response.context["order"].lines.all()
    assert [(line.variant.sku, line.reserved, line.shipped) for line in lines] == [
        ("TSHIRT-M", d(0), d(2)),
        ("MUG", d(0), d(3)),
    ]
    html = response.content.decode()
    assert "Created as New" in html
    assert "New → Shipped" in html
    assert "Reserved, Deducted" in html
    assert "via API token <code>sr_abcdefgh…</code>" in html


def test_the_detail_costs_the_same_queries_whatever_the_number_of_lines(
    client, shop, accountant, django_assert_max_num_queries
):
    paris, _, shirt, _ = shop
    place("SO-1", paris, {shirt: 1})
    client = logged_in(client, accountant)
    with django_assert_max_num_queries(20) as few:
        client.get("/orders/SO-1/")
    many = {VariantFactory(): 1 for _ in range(15)}
    order = place("SO-2", paris, many)
    move(order, Stage.CANCELLED)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/orders/SO-2/")

    assert len(response.context["order"].lines.all()) == 15


def test_an_unknown_order_is_a_404(client, shop, accountant):
    assert logged_in(client, accountant).get("/orders/NOPE/").status_code == 404


def test_a_reference_with_a_hash_has_a_working_page(client, shop, accountant):
    paris, _, shirt, _ = shop
    order = place("#1001", paris, {shirt: 1})

    assert order.get_absolute_url() == "/orders/%231001/"
    assert logged_in(client, accountant).get(order.get_absolute_url()).status_code == 200


def test_the_merchant_moves_an_order_from_its_page(client, shop, merchant):
    paris, _, shirt, _ = shop
    place("SO-1", paris, {shirt: 4})
    client = logged_in(client, merchant)
    page = client.get("/orders/SO-1/")
    choices = [value for value, _ in page.context["stage_form"].fields["stage"].choices]
    assert choices == ["confirmed", "shipped", "delivered", "cancelled"]

    response = client.post("/orders/SO-1/", {"stage": "confirmed"}, follow=True)

    assert response.redirect_chain == [("/orders/SO-1/", 302)]
    assert MSG_MOVED % {"reference": "SO-1", "stage": "Confirmed"} in response.content.decode()
    assert Order.objects.get().stage == Stage.CONFIRMED
    assert line_of(shirt, paris).reserved == d(4)
    assert Order.objects.get().stage_changes.last().user == merchant


def test_moving_an_order_without_stock_shows_the_shortfall_next_to_the_field(
    client, shop, merchant
):
    paris, _, shirt, _ = shop
    place("SO-1", paris, {shirt: 25})

    response = logged_in(client, merchant).post("/orders/SO-1/", {"stage": "confirmed"})

    assert response.status_code == 200
    errors = response.context["stage_form"].errors["stage"]
    assert errors == [
        str(Shortfall(sku="TSHIRT-M", warehouse="PAR", available=d(20), requested=d(25)))
    ]
    assert Order.objects.get().stage == Stage.NEW
    assert line_of(shirt, paris).reserved == d(0)


def test_a_stage_the_order_cannot_reach_is_refused_by_the_form(client, shop, merchant):
    paris, _, shirt, _ = shop
    move(place("SO-1", paris, {shirt: 1}), Stage.CANCELLED)
    client = logged_in(client, merchant)
    assert client.get("/orders/SO-1/").context["stage_form"] is None

    response = client.post("/orders/SO-1/", {"stage": "confirmed"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Order.objects.get().stage == Stage.CANCELLED


def test_an_accountant_sees_no_stage_form_and_cannot_post_one(client, shop, accountant):
    paris, _, shirt, _ = shop
    place("SO-1", paris, {shirt: 1})
    client = logged_in(client, accountant)

    assert "stage_form" not in client.get("/orders/SO-1/").context
    assert client.post("/orders/SO-1/", {"stage": "confirmed"}).status_code == 403
    assert Order.objects.get().stage == Stage.NEW


def test_the_nav_links_to_orders_for_those_who_may_see_them(client, shop, accountant):
    html = logged_in(client, accountant).get("/orders/").content.decode()
    assert '<a href="/orders/" aria-current="page">Orders</a>' in html


# --- admin ------------------------------------------------------------------------------------


def test_the_admin_shows_orders_read_only_with_lines_and_history(admin_client, shop):
    paris, _, shirt, _ = shop
    order = place("SO-1", paris, {shirt: 2}, stage=Stage.CONFIRMED)

    listing = admin_client.get("/admin/orders/order/")
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert listing.status_code == 200 and "SO-1" in listing.content.decode()
    assert page.status_code == 200
    assert "TSHIRT-M" in page.content.decode()
    assert admin_client.get("/admin/orders/order/add/").status_code == 403


def test_the_admin_edits_the_single_pipeline_settings_row(admin_client, pipeline):
    assert admin_client.get("/admin/orders/pipelinesettings/").status_code == 302
    url = reverse("admin:orders_pipelinesettings_change", args=[pipeline.pk])

    response = admin_client.post(
        url, {"reserve_stage": "new", "deduct_stage": "shipped", "release_stages": ["returned"]}
    )

    assert response.status_code == 302
    pipeline.refresh_from_db()
    assert (pipeline.reserve_stage, pipeline.release_stages) == ("new", ["cancelled", "returned"])
    refused = admin_client.post(url, {"reserve_stage": "shipped", "deduct_stage": "confirmed"})
    assert refused.status_code == 200
    assert "Stock cannot be deducted before it is reserved." in refused.content.decode()


def test_cancelled_stays_a_release_stage_even_if_unticked(admin_client, pipeline):
    url = reverse("admin:orders_pipelinesettings_change", args=[pipeline.pk])

    response = admin_client.post(url, {"reserve_stage": "confirmed", "deduct_stage": "shipped"})

    assert response.status_code == 302
    pipeline.refresh_from_db()
    assert pipeline.release_stages == ["cancelled"]
