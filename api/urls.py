"""``/api/v1/``: a trailing slash is accepted too; any other path answers a JSON 404."""

from django.urls import re_path

from . import views
from .http import not_found

app_name = "api"

urlpatterns = [
    re_path(r"^inventory/?\Z", views.inventory, name="inventory"),
    re_path(r"^orders/?\Z", views.orders, name="orders"),
    re_path(r"^orders/(?P<reference>[^/]+)/stage/?\Z", views.order_stage, name="order_stage"),
    re_path(r"^orders/(?P<reference>[^/]+)/?\Z", views.order, name="order"),
    re_path(r"^", not_found),
]
