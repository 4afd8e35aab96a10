"""The catalog's import and export in the admin (django-import-export): products and variants
keyed by SKU, every bad row reported with its row and nothing changed, bulk writes, the two CSV
formats; suppliers, categories, products and warehouses."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.catalog_import import (
    MSG_BARCODE_TAKEN,
    MSG_CATEGORY_CONFLICT,
    MSG_DUPLICATE_BARCODE,
    MSG_DUPLICATE_SKU,
    MSG_PRODUCT_AMBIGUOUS,
    MSG_PRODUCT_REQUIRED,
    CatalogResource,
)
from catalog.models import Category, Product, Supplier, Variant
from catalog.resources import MSG_UNKNOWN_PRODUCT_ID, ProductResource, SupplierResource
from core.admin_csv import (
    MSG_NOT_A_NUMBER,
    SpreadsheetCSV,
    StockroomCSV,
)
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    SupplierFactory,
    UserFactory,
    VariantFactory,
    WarehouseFactory,
)
from warehouses.models import Warehouse
from warehouses.resources import WarehouseResource

pytestmark = pytest.mark.django_db

HEADER = "Product,Variant,SKU,Barcode,Unit,Alert threshold,Category,Active"


def dataset(text: str, file_format=StockroomCSV):
    return file_format(encoding="utf-8").create_dataset(text)


def import_catalog(text: str, *, dry_run=False, file_format=StockroomCSV):
    return CatalogResource().import_data(dataset(text, file_format), dry_run=dry_run)


def errors_by_row(result) -> dict[int, dict[str, list[str]]]:
    found = {row.number: row.error_dict for row in result.invalid_rows}
    for number, errors in result.row_errors():
        found.setdefault(number, {})["__all__"] = [str(error.error) for error in errors]
    return found


def catalog_state():
    return sorted(
        Variant.objects.values_list(
            "sku", "name", "barcode", "unit", "alert_threshold", "is_active", "product__name"
        )
    ), sorted(Product.objects.values_list("name", "category__name"))


def test_import_creates_products_categories_and_variants():
    result = import_catalog(
        f"{HEADER}\n"
        "Linen shirt,White / M,LIN-W-M,3770000000001,pc,5,Apparel,1\n"
        "Linen shirt,White / L,LIN-W-L,,piece,,Apparel,\n"
        "Coffee beans,,COF-1,,kilogram,2.5,Grocery,0\n"
    )

    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 3
    shirt = Product.objects.get(name="Linen shirt")
    assert shirt.category.name == "Apparel"
    assert sorted(shirt.variants.values_list("sku", flat=True)) == ["LIN-W-L", "LIN-W-M"]
    coffee = Variant.objects.get(sku="COF-1")
    assert (coffee.unit, coffee.alert_threshold, coffee.is_active) == ("kg", Decimal("2.5"), False)
    assert Variant.objects.get(sku="LIN-W-L").barcode is None  # blank, not ""
    assert Variant.objects.get(sku="LIN-W-L").is_active  # blank Active keeps the default


def test_import_updates_variants_by_sku_in_any_case_and_keeps_their_product():
    variant = VariantFactory(sku="ABC-1", name="Old", product__name="Mug")

    result = import_catalog(f"{HEADER}\nMug,New name,abc-1,,pc,3,,1\n")

    assert result.totals["update"] == 1
    variant.refresh_from_db()
    assert (variant.name, variant.alert_threshold, variant.product.name) == (
        "New name",
        Decimal("3"),
        "Mug",
    )
    assert Variant.objects.count() == 1


def test_unchanged_rows_are_skipped():
    variant = VariantFactory(barcode="123")
    text = CatalogResource().export(queryset=Variant.objects.all())

    result = CatalogResource().import_data(text)

    assert result.totals["skip"] == 1
    assert not result.has_validation_errors()
    assert Variant.objects.get().pk == variant.pk


def test_a_row_naming_another_product_moves_the_variant():
    variant = VariantFactory(product__name="Mug")
    ProductFactory(name="Cup")

    import_catalog(f"Product,SKU\nCup,{variant.sku}\n")

    variant.refresh_from_db()
    assert variant.product.name == "Cup"


def test_a_changed_category_updates_the_product_and_is_not_skipped():
    variant = VariantFactory(product__name="Mug", product__category__name="Home")

    result = import_catalog(f"Product,SKU,Category\nMug,{variant.sku},Kitchen\n")

    assert result.totals["update"] == 1
    assert Product.objects.get(name="Mug").category.name == "Kitchen"


def test_a_file_with_only_some_columns_changes_only_those():
    variant = VariantFactory(name="Black / M", alert_threshold=Decimal("4"))

    import_catalog(f"SKU,Alert threshold\n{variant.sku},9\n")

    variant.refresh_from_db()
    assert (variant.name, variant.alert_threshold) == ("Black / M", Decimal("9"))


def test_bad_rows_change_nothing_and_every_bad_row_is_reported():
    VariantFactory(sku="TAKEN", barcode="999")
    ProductFactory(name="Twin")
    ProductFactory(name="Twin")
    before = catalog_state()
    text = (
        f"{HEADER}\n"
        "Good,Fine,GOOD-1,,pc,,Home,1\n"  # 1: fine, but the file as a whole is refused
        "Shirt,S,DUP-1,,pc,,Apparel,1\n"  # 2 and 3: one SKU twice
        "Shirt,M,dup-1,,pc,,Apparel,1\n"
        "Cap,One,CAP-1,999,pc,,Apparel,1\n"  # 4: barcode of another SKU
        ",Orphan,NEW-1,,pc,,,1\n"  # 5: new SKU without a product
        "Twin,One,TWIN-1,,pc,,,1\n"  # 6: ambiguous product
        "Pen,Blue,PEN-1,,pieces,abc,,1\n"  # 7: bad unit and bad number
        "Pen,Red,PEN 2,,pc,-1,,1\n"  # 8: bad SKU and negative threshold
        "Bag,Big,BAG-1,42,pc,,Outdoor,1\n"  # 9 and 10: one barcode twice, two categories
        "Bag,Small,BAG-2,42,pc,,Home,1\n"
    )

    for dry_run in (True, False):
        result = import_catalog(text, dry_run=dry_run)
        errors = errors_by_row(result)

        assert catalog_state() == before
        assert sorted(errors) == [2, 3, 4, 5, 6, 7, 8, 9, 10]
        assert errors[2]["sku"] == [MSG_DUPLICATE_SKU % {"sku": "DUP-1", "rows": "2, 3"}]
        assert errors[3]["sku"] == [MSG_DUPLICATE_SKU % {"sku": "dup-1", "rows": "2, 3"}]
        assert errors[4]["barcode"] == [MSG_BARCODE_TAKEN % {"barcode": "999", "sku": "TAKEN"}]
        assert errors[5]["product"] == [MSG_PRODUCT_REQUIRED]
        assert errors[6]["product"] == [MSG_PRODUCT_AMBIGUOUS % {"name": "Twin"}]
        assert errors[7]["alert_threshold"] == [MSG_NOT_A_NUMBER % {"value": "abc"}]
        assert errors[7]["unit"][0].startswith("“pieces” is not a unit")
        assert errors[8]["sku"] == [
            "A SKU is 1 to 64 letters, digits, hyphens, underscores or dots."
        ]
        assert errors[8]["alert_threshold"] == ["Ensure this value is greater than or equal to 0."]
        assert errors[9]["barcode"] == [MSG_DUPLICATE_BARCODE % {"barcode": "42", "rows": "9, 10"}]
        assert errors[10]["category"] == [
            MSG_CATEGORY_CONFLICT
            % {"rows": "9, 10", "product": "Bag", "categories": "Home, Outdoor"}
        ]
    assert not Category.objects.filter(name__in=["Apparel", "Outdoor"]).exists()


def test_barcodes_can_move_between_variants_in_one_file():
    first = VariantFactory(barcode="111")
    second = VariantFactory(barcode="222")

    result = import_catalog(f"SKU,Barcode\n{first.sku},\n{second.sku},111\n")

    assert not result.has_validation_errors()
    assert Variant.objects.get(pk=second.pk).barcode == "111"


def test_an_exported_catalog_imports_back_unchanged_formula_like_text_included():
    VariantFactory(product__name='=HYPERLINK("http://evil.example","click")', name="-1 / +2")
    before = catalog_state()
    exported = StockroomCSV().export_data(CatalogResource().export())

    assert "'=HYPERLINK" in exported
    assert ",'-1 / +2," in exported
    result = import_catalog(exported)

    assert result.totals["skip"] == 1
    assert catalog_state() == before


def test_the_spreadsheet_variant_imports_semicolons_decimal_commas_and_a_bom():
    text = "\ufeffProduct;Variant;SKU;Unit;Alert threshold\nRice;;RICE-1;kg;2,5\n"

    result = import_catalog(text, file_format=SpreadsheetCSV)

    assert not result.has_validation_errors()
    assert Variant.objects.get(sku="RICE-1").alert_threshold == Decimal("2.5")


def test_a_big_import_is_written_in_bulk(django_assert_max_num_queries):
    rows = "".join(
        f"Product {n // 4},V{n % 4},BULK-{n:05d},,pc,,Cat {n // 4 % 7},1\n" for n in range(2000)
    )

    # A few reads for the whole file, then inserts of many rows each (about a hundred per
    # statement on SQLite, whose bound parameters are limited; a thousand on PostgreSQL).
    with django_assert_max_num_queries(60):
        result = import_catalog(f"{HEADER}\n{rows}")

    assert result.totals["new"] == 2000
    assert Variant.objects.count() == 2000
    assert Product.objects.count() == 500


def test_product_import_keyed_by_id_reports_unknown_ids():
    product = ProductFactory(name="Mug")
    CategoryFactory(name="Kitchen")
    text = f"ID,Name,Category,Default alert threshold\n{product.pk},Big mug,Kitchen,4\n,Plate,,\n"

    result = ProductResource().import_data(dataset(text))
    product.refresh_from_db()

    assert not result.has_validation_errors()

    assert (product.name, product.category.name, product.alert_threshold) == (
        "Big mug",
        "Kitchen",
        Decimal("4"),
    )
    assert Product.objects.filter(name="Plate").exists()
    bad = ProductResource().import_data(
        dataset(f"ID,Name,Category\n999999,Ghost,\n{product.pk},X,Nope\n")
    )
    errors = errors_by_row(bad)
    assert errors[1]["id"] == [MSG_UNKNOWN_PRODUCT_ID % {"id": "999999"}]
    assert errors[2]["category"] == ["There is no category named “Nope”."]
    assert not Product.objects.filter(name__in=["Ghost", "X"]).exists()


def test_suppliers_are_keyed_by_name():
    SupplierFactory(name="Atelier", email="old@example.com")

    SupplierResource().import_data(
        dataset("Name,Email,Phone\nAtelier,new@example.com,\nPapeterie,p@example.com,+33 1\n")
    )

    assert Supplier.objects.get(name="Atelier").email == "new@example.com"
    assert Supplier.objects.get(name="Papeterie").phone == "+33 1"


def test_warehouses_are_keyed_by_code():
    WarehouseFactory(code="PAR", name="Paris")

    result = WarehouseResource().import_data(
        dataset("Code,Name,Allow negative stock\nPAR,Paris central,1\nLYO,Lyon,0\nbad code!,X,0\n")
    )

    assert errors_by_row(result)[3]["code"][0].startswith("A warehouse code is")
    assert not Warehouse.objects.filter(code="LYO").exists()  # one bad row: nothing changes
    WarehouseResource().import_data(
        dataset("Code,Name,Allow negative stock\nPAR,Paris central,1\n")
    )
    assert Warehouse.objects.get(code="PAR").allow_negative_stock


# --- Through the admin ---------------------------------------------------------------------


def upload(client, text: str, file_format: str = "0"):
    return client.post(
        "/admin/catalog/variant/import/",
        {
            "resource": "0",
            "format": file_format,
            "import_file": SimpleUploadedFile("catalog.csv", text.encode(), "text/csv"),
        },
    )


@pytest.fixture
def merchant(client):
    user = UserFactory(role="Merchant", is_staff=True)
    client.force_login(user)
    return user


def test_admin_import_previews_then_imports(client, merchant):
    preview = upload(client, f"{HEADER}\nMug,Red,MUG-R,,pc,,Home,1\n")

    assert preview.status_code == 200
    assert not Variant.objects.exists()
    confirm = preview.context["confirm_form"]
    done = client.post("/admin/catalog/variant/process_import/", confirm.initial)

    assert done.status_code == 302
    assert Variant.objects.get().sku == "MUG-R"


def test_admin_import_preview_lists_every_bad_row_and_offers_no_confirmation(client, merchant):
    response = upload(client, f"{HEADER}\nMug,Red,MUG-R,,pc,x,Home,1\n,Blue,MUG-B,,pc,,,1\n")

    page = response.content.decode()
    assert response.context.get("confirm_form") is None
    assert [row.number for row in response.context["result"].invalid_rows] == [1, 2]
    assert MSG_NOT_A_NUMBER % {"value": "x"} in page.replace("&quot;", '"')
    assert MSG_PRODUCT_REQUIRED in page
    assert not Variant.objects.exists()


def test_admin_import_reads_the_spreadsheet_format(client, merchant):
    preview = upload(client, "\ufeffProduct;SKU;Alert threshold\nRice;RICE-1;1,5\n", "1")

    client.post("/admin/catalog/variant/process_import/", preview.context["confirm_form"].initial)

    assert Variant.objects.get().alert_threshold == Decimal("1.5")


def test_only_who_may_add_and_change_variants_may_import(client):
    client.force_login(UserFactory(role="Accountant", is_staff=True))

    assert client.get("/admin/catalog/variant/import/").status_code == 403
    assert upload(client, f"{HEADER}\nMug,Red,MUG-R,,pc,,Home,1\n").status_code == 403
    assert not Variant.objects.exists()


def test_import_formats_are_the_two_csv_variants(client, merchant):
    page = client.get("/admin/catalog/variant/import/")
    form = page.context["form"]

    assert page.context["fields_list"] == [
        (
            "CatalogResource",
            [
                "Product",
                "Variant",
                "SKU",
                "Barcode",
                "Unit",
                "Alert threshold",
                "Category",
                "Active",
            ],
        )
    ]

    assert [label for _, label in form.fields["format"].choices] == [
        "---",
        "csv",
        "csv (spreadsheet: semicolon, decimal comma)",
    ]


def test_stockroom_csv_skips_blank_lines_and_pads_short_rows():
    data = dataset("SKU,Variant\r\nA-1\r\n\r\n,,\r\n")

    assert data.headers == ["SKU", "Variant"]
    assert list(data) == [("A-1", "")]


def test_export_of_a_catalog_reads_in_a_constant_number_of_queries(django_assert_max_num_queries):
    VariantFactory.create_batch(30)

    with django_assert_max_num_queries(3):
        text = StockroomCSV().export_data(CatalogResource().export())

    assert len(io.StringIO(text).readlines()) == 31
