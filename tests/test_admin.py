"""The admin: every model registered with list options, a read-only ledger, stock quantities
that only the services change, warehouse scope, and exports (CSV rules and permissions)."""

import csv
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import NoReverseMatch, reverse
from import_export.tmp_storages import CacheStorage

from catalog.models import Variant
from core.admin_csv import (
    MSG_IMPORT_TOO_BIG,
    MSG_NOT_FROM_PREVIEW,
    MSG_TOO_MANY_ROWS,
    MSG_UPLOAD_GONE,
)
from inventory.admin import MovementAdmin
from inventory.models import HoldChange, Movement, StockLine
from tests.factories import UserFactory
from tests.helpers import JOURNAL_COLUMNS, d, line_of, receive

pytestmark = pytest.mark.django_db

#: Models with their own admin page (line models are edited inline by their owners).
ADMIN_MODELS = [
    *apps.get_app_config("catalog").get_models(),
    *apps.get_app_config("warehouses").get_models(),
    StockLine,
    Movement,
    HoldChange,
]


def admin_export(client, changelist: str, file_format: str = "0"):
    """Submit the admin's export form with every column ticked; ``file_format`` "0" is the
    standard CSV, "1" the spreadsheet variant."""
    page = client.get(f"{changelist}export/")
    assert page.status_code == 200, page.status_code
    form = page.context["form"]
    data = {"format": file_format, "resource": "0"}
    data.update(
        {
            name: "on"
            for name, field in form.fields.items()
            if getattr(field, "is_selectable_field", False)
        }
    )
    return client.post(f"{changelist}export/", data)


def exported_rows(response, delimiter=",") -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


@pytest.fixture
def superuser(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def movement(variant, warehouse):
    receive(variant, warehouse, 5, reference="DN-1")
    return Movement.objects.get()


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda model: model.__name__)
def test_every_model_has_an_admin_with_list_columns_and_search(model):
    model_admin = admin.site._registry.get(model)

    assert model_admin is not None, f"{model.__name__} is not registered"
    assert tuple(model_admin.list_display) != ("__str__",)
    assert model_admin.search_fields


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda model: model.__name__)
def test_every_changelist_opens(client, superuser, movement, model):
    response = client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")

    assert response.status_code == 200


def test_a_movement_cannot_be_added_changed_or_deleted_in_the_admin(client, superuser, movement):
    base = f"/admin/inventory/movement/{movement.pk}"

    view = client.get(f"{base}/change/")
    change = client.post(f"{base}/change/", {"quantity": "500", "note": "edited"})
    delete = client.post(f"{base}/delete/", {"post": "yes"})
    add = client.get("/admin/inventory/movement/add/")

    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert change.status_code == 403
    assert delete.status_code == 403
    assert add.status_code == 403
    movement.refresh_from_db()
    assert (movement.quantity, movement.note) == (d(5), "")


def test_the_ledger_offers_no_bulk_delete_and_no_import(client, superuser, movement):
    changelist = client.get("/admin/inventory/movement/")
    bulk = client.post(
        "/admin/inventory/movement/",
        {"action": "delete_selected", "_selected_action": [movement.pk], "post": "yes"},
    )

    assert changelist.context["action_form"] is None  # no action at all, so no bulk delete
    assert Movement.objects.filter(pk=movement.pk).exists()
    assert bulk.status_code in (200, 302)
    for model in (Movement, HoldChange):
        model_admin = admin.site._registry[model]
        assert "delete_selected" not in model_admin.get_actions(changelist.wsgi_request)


def test_stock_line_quantities_are_read_only_in_the_admin(client, superuser, variant, warehouse):
    line = receive(variant, warehouse, 5)

    response = client.post(
        f"/admin/inventory/stockline/{line.pk}/change/",
        {"alert_threshold": "7", "on_hand": "999", "reserved": "3", "locked": "2"},
    )

    assert response.status_code == 302
    line = line_of(variant, warehouse)
    assert (line.on_hand, line.reserved, line.locked) == (d(5), d(0), d(0))
    assert line.alert_threshold == d(7)
    assert client.get(f"/admin/inventory/stockline/{line.pk}/delete/").status_code == 403
    assert client.get("/admin/inventory/stockline/add/").status_code == 403


def test_average_cost_history_is_read_only(client, superuser, variant, warehouse):
    from inventory.services import StockQuantity, stock_receive

    stock_receive(warehouse=warehouse, lines=[StockQuantity(variant, 1, Decimal("2"))])
    history = variant.average_costs.get()

    assert client.get("/admin/catalog/averagecost/").status_code == 200
    assert client.get(f"/admin/catalog/averagecost/{history.pk}/delete/").status_code == 403
    assert client.get("/admin/catalog/averagecost/add/").status_code == 403
    variant_page = client.get(f"/admin/catalog/variant/{variant.pk}/change/").content.decode()
    assert 'name="average_cost"' not in variant_page
    assert "2.0000" in variant_page


def test_stock_line_export_has_codes_and_numbers(client, superuser, variant, warehouse):
    receive(variant, warehouse, "5")

    rows = exported_rows(admin_export(client, "/admin/inventory/stockline/"))

    assert rows[0] == [
        "Product",
        "Variant",
        "SKU",
        "Warehouse",
        "Available",
        "Reserved",
        "Locked",
        "Total",
        "Incoming",
        "Alert threshold in this warehouse",
        "Last movement",
    ]
    assert rows[1][2:9] == [
        variant.sku,
        warehouse.code,
        "5.000",
        "0.000",
        "0.000",
        "5.000",
        "0.000",
    ]
    assert rows[1][10].endswith("+00:00")


def test_movement_export_in_the_spreadsheet_variant(client, superuser, variant, warehouse):
    receive(variant, warehouse, 2, reference="DN-1")

    response = admin_export(client, "/admin/inventory/movement/", "1")

    assert response.content.startswith("\ufeff".encode())
    rows = exported_rows(response, ";")
    assert rows[0][:9] == JOURNAL_COLUMNS[:9]
    assert rows[1][5:9] == ["Entry", "Supplier reception", "2,000", "2,000"]


def test_admin_export_needs_the_export_permission(client, movement):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client.force_login(viewer)

    assert client.get("/admin/inventory/movement/").status_code == 200
    assert client.get("/admin/inventory/movement/export/").status_code == 403
    client.force_login(UserFactory(role="Accountant", is_staff=True))
    assert admin_export(client, "/admin/inventory/movement/").status_code == 200


def test_a_too_big_admin_export_points_to_the_streamed_csv(
    client, superuser, movement, monkeypatch
):
    monkeypatch.setattr(MovementAdmin, "export_limit", 0)

    response = admin_export(client, "/admin/inventory/movement/")

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        MSG_TOO_MANY_ROWS
        % {
            "count": "1",
            "limit": "0",
            "alternative": "the movement journal's CSV (/movements/export.csv)",
        }
    ]


def test_admin_respects_warehouse_scope(client, variant, warehouse, other_warehouse):
    receive(variant, warehouse, 1)
    receive(variant, other_warehouse, 1)
    staff = UserFactory(role="Merchant", is_staff=True)
    staff.assigned_warehouses.add(warehouse)
    client.force_login(staff)

    lines = client.get("/admin/inventory/stockline/").context["cl"].result_list
    movements = client.get("/admin/inventory/movement/").context["cl"].result_list
    exported = exported_rows(admin_export(client, "/admin/inventory/stockline/"))

    assert {line.warehouse for line in lines} == {warehouse}
    assert {m.stock_line.warehouse for m in movements} == {warehouse}
    assert [row[3] for row in exported[1:]] == [warehouse.code]


@pytest.mark.parametrize("model_name", ["stockline", "movement", "holdchange"])
def test_stock_lines_and_the_ledger_have_no_import(model_name):
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:inventory_{model_name}_import")


# --- The import's upload between preview and confirmation ----------------------------------

CATALOG = (
    b"Product,Variant,SKU,Barcode,Unit,Alert threshold,Category,Active\nMug,Red,MUG-R,,pc,,,1\n"
)


def upload_catalog(client):
    """The admin's import form sent with CATALOG: the preview, or the form with its errors."""
    return client.post(
        "/admin/catalog/variant/import/",
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("catalog.csv", CATALOG, "text/csv"),
        },
    )


def preview_catalog_import(client):
    preview = upload_catalog(client)
    assert preview.status_code == 200
    return preview.context["confirm_form"].initial


def test_an_import_waits_for_confirmation_in_the_database_cache(client, superuser):
    confirm = preview_catalog_import(client)
    key = CacheStorage.CACHE_PREFIX + confirm["import_file_name"]

    # Every app server reads the same table, whichever of them receives the confirmation.
    assert cache.get(key) == CATALOG
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM stockroom_cache")
        assert cache.make_key(key) in {row[0] for row in cursor.fetchall()}
    done = client.post("/admin/catalog/variant/process_import/", confirm)

    assert done.status_code == 302
    assert Variant.objects.get().sku == "MUG-R"
    assert cache.get(key) is None  # removed once imported


@pytest.mark.parametrize(
    "edited", [{"format": "7"}, {"format": "csv"}, {"format": ""}, {"resource": "3"}]
)
def test_an_edited_confirmation_is_refused_with_a_message(client, superuser, edited):
    confirm = {**preview_catalog_import(client), **edited}

    refused = client.post("/admin/catalog/variant/process_import/", confirm, follow=True)

    assert refused.redirect_chain == [("/admin/catalog/variant/import/", 302)]
    assert [str(message) for message in refused.context["messages"]] == [MSG_NOT_FROM_PREVIEW]
    assert not Variant.objects.exists()


def test_confirming_an_import_twice_says_so_instead_of_failing(client, superuser):
    confirm = preview_catalog_import(client)
    client.post("/admin/catalog/variant/process_import/", confirm, follow=True)
    Variant.objects.all().delete()

    again = client.post("/admin/catalog/variant/process_import/", confirm, follow=True)

    assert again.redirect_chain == [("/admin/catalog/variant/import/", 302)]
    assert [str(message) for message in again.context["messages"]] == [MSG_UPLOAD_GONE]
    assert not Variant.objects.exists()


def test_an_import_over_the_size_limit_is_refused_next_to_the_file_field(
    client, superuser, monkeypatch
):
    monkeypatch.setattr("core.admin_csv.MAX_IMPORT_BYTES", len(CATALOG) - 1)

    refused = upload_catalog(client)

    assert refused.status_code == 200
    assert refused.context["form"].errors["import_file"] == [MSG_IMPORT_TOO_BIG % {"limit": 0}]
    assert "confirm_form" not in refused.context
    assert not Variant.objects.exists()
