"""The catalog import and export in the admin (django-import-export): products and variants.

The catalog file has one row per variant, keyed by SKU (case-insensitively, as SKUs are
unique): ``Product, Variant, SKU, Barcode, Unit, Alert threshold, Category, Active`` (and
``Average cost`` on export, which an import ignores: receptions keep it). A row names its
product; the product is found by name, or created, with the row's category. An existing
variant whose row names another product moves to that product (rename products in the product
import instead).

Built for whole catalogs: the variants, products, categories and barcodes a file mentions are
read in a few queries before the rows are looked at, rows are validated in memory, and written
with bulk inserts and updates. Every problem is reported against its row (the preview lists
them all) and any bad row rolls the whole import back.
"""

import copy
from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.functions import Lower
from import_export import fields, widgets
from import_export.instance_loaders import BaseInstanceLoader

from core.admin_csv import DecimalWidget, SafeResource, TextWidget

from .models import Category, Product, Unit, Variant

SKU = "SKU"
PRODUCT = "Product"
CATEGORY = "Category"
BARCODE = "Barcode"
#: SQLite refuses statements with more bound parameters than this.
CHUNK = 5000
BATCH_SIZE = 1000
#: Longer files are previewed without a field-by-field comparison of each row: copying and
#: diffing 20,000 variants for a page nobody reads row by row would double the import's time.
PREVIEW_DIFF_ROWS = 1000
PRODUCT_NAME_LENGTH = Product._meta.get_field("name").max_length

MSG_DUPLICATE_SKU = "SKU “%(sku)s” is on more than one row (rows %(rows)s): give it one row."
MSG_PRODUCT_REQUIRED = "Give the name of the product this new variant belongs to."
MSG_PRODUCT_TOO_LONG = "A product name is at most %(limit)s characters."
MSG_PRODUCT_AMBIGUOUS = (
    "Several products are named “%(name)s”: rename one of them in the admin first."
)
MSG_CATEGORY_CONFLICT = (
    "Rows %(rows)s give product “%(product)s” different categories (%(categories)s)."
)
MSG_DUPLICATE_BARCODE = "Barcode %(barcode)s is on more than one row (rows %(rows)s)."
MSG_BARCODE_TAKEN = "Barcode %(barcode)s already belongs to SKU %(sku)s."
MSG_UNKNOWN_UNIT = "“%(value)s” is not a unit: use one of %(units)s."


def sku_key(value) -> str:
    return str(value or "").strip().lower()


def _chunks(values: list) -> Iterable[list]:
    step = CHUNK if connection.vendor == "sqlite" else max(len(values), 1)
    for start in range(0, len(values), step):
        yield values[start : start + step]


def _rows_text(numbers: Iterable[int]) -> str:
    return ", ".join(str(number) for number in sorted(numbers))


class BarcodeWidget(TextWidget):
    """A barcode, or None when blank (barcodes are unique, blanks are not)."""

    def clean(self, value, row=None, **kwargs):
        return super().clean(value, row, **kwargs) or None


class UnitWidget(widgets.Widget):
    """A unit by its code (``kg``) or its name (``kilogram``), in any case."""

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip().lower()
        if not text:
            return None
        for code, label in Unit.choices:
            if text in (code, str(label).lower()):
                return code
        units = ", ".join(f"{code} ({label})" for code, label in Unit.choices)
        raise ValueError(MSG_UNKNOWN_UNIT % {"value": value, "units": units})


class SkuInstanceLoader(BaseInstanceLoader):
    """Finds a row's variant among those read by ``CatalogResource.before_import``."""

    def get_instance(self, row):
        return self.resource.existing.get(sku_key(row.get(SKU)))


class CatalogResource(SafeResource):
    """Products and variants, one row per variant, keyed by SKU."""

    product = fields.Field(attribute="product__name", column_name=PRODUCT, readonly=True)
    name = fields.Field(attribute="name", column_name="Variant", widget=TextWidget())
    sku = fields.Field(attribute="sku", column_name=SKU, widget=TextWidget())
    barcode = fields.Field(attribute="barcode", column_name=BARCODE, widget=BarcodeWidget())
    unit = fields.Field(
        attribute="unit", column_name="Unit", widget=UnitWidget(), saves_null_values=False
    )
    alert_threshold = fields.Field(
        attribute="alert_threshold", column_name="Alert threshold", widget=DecimalWidget()
    )
    category = fields.Field(
        attribute="product__category__name", column_name=CATEGORY, readonly=True
    )
    is_active = fields.Field(
        attribute="is_active",
        column_name="Active",
        widget=widgets.BooleanWidget(),
        saves_null_values=False,
    )
    average_cost = fields.Field(attribute="average_cost", column_name="Average cost", readonly=True)

    class Meta:
        model = Variant
        fields = (
            "product",
            "name",
            "sku",
            "barcode",
            "unit",
            "alert_threshold",
            "category",
            "is_active",
            "average_cost",
        )
        import_id_fields = ("sku",)
        instance_loader_class = SkuInstanceLoader
        use_bulk = True
        batch_size = BATCH_SIZE
        skip_unchanged = True
        report_skipped = False

    #: Model fields an import writes (``product`` is resolved from the Product column).
    WRITTEN = ("sku", "product", "name", "barcode", "unit", "alert_threshold", "is_active")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Options of this import only (a long file turns the per-row diff off).
        self._meta = copy.copy(type(self)._meta)
        self._before: tuple | None = None
        self.existing: dict[str, Variant] = {}
        self.row_product: dict[int, Product] = {}
        self.row_problems: dict[int, dict[str, list[str]]] = defaultdict(dict)
        self.recategorised: set[int] = set()

    def get_queryset(self):
        return Variant.objects.select_related("product__category")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("product__category")

    def get_user_visible_fields(self):
        # The admin lists these as the columns an import reads: not the average cost.
        return [
            field
            for field in super().get_user_visible_fields()
            if field.attribute != "average_cost"
        ]

    def get_bulk_update_fields(self):
        return list(self.WRITTEN)

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """One parameterised UPDATE per changed variant, sent with executemany: many times
        faster than ``bulk_update``'s CASE chains on 20,000 rows (see the stock writer)."""
        if not self.update_instances or not (using_transactions or not dry_run):
            self.update_instances.clear()
            return
        try:
            fields = [Variant._meta.get_field(name) for name in self.WRITTEN]
            quote = connection.ops.quote_name
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
            sql = (
                f"UPDATE {quote(Variant._meta.db_table)} SET {assignments} "
                f"WHERE {quote(Variant._meta.pk.column)} = %s"
            )
            rows = [
                [
                    field.get_db_prep_value(getattr(variant, field.attname), connection)
                    for field in fields
                ]
                + [variant.pk]
                for variant in self.update_instances
            ]
            with connection.cursor() as cursor:
                cursor.executemany(sql, rows)
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        finally:
            self.update_instances.clear()

    # --- Everything a file needs, read and checked before its rows -------------------------

    def _problem(self, number: int, field: str, message: str) -> None:
        self.row_problems[number].setdefault(field, []).append(message)

    def before_import(self, dataset, **kwargs):
        headers = set(dataset.headers or ())
        if SKU not in headers:
            return  # reported by django-import-export's check of the id column
        rows = list(enumerate(dataset.dict, start=1))
        if len(rows) > PREVIEW_DIFF_ROWS:
            self._meta.skip_diff = True
        self._read_variants(rows)
        self._check_duplicate_skus(rows)
        if PRODUCT in headers:
            self._resolve_products(rows, with_categories=CATEGORY in headers)
        else:
            for number, row in rows:
                if sku_key(row.get(SKU)) not in self.existing:
                    self._problem(number, "product", MSG_PRODUCT_REQUIRED)
        if BARCODE in headers:
            self._check_barcodes(rows)

    def _read_variants(self, rows) -> None:
        keys = sorted({sku_key(row.get(SKU)) for _, row in rows} - {""})
        for chunk in _chunks(keys):
            found = (
                Variant.objects.annotate(sku_lower=Lower("sku"))
                .filter(sku_lower__in=chunk)
                .select_related("product__category")
            )
            self.existing.update((variant.sku.lower(), variant) for variant in found)

    def _check_duplicate_skus(self, rows) -> None:
        positions = defaultdict(list)
        for number, row in rows:
            if key := sku_key(row.get(SKU)):
                positions[key].append(number)
        for numbers in positions.values():
            if len(numbers) > 1:
                for number in numbers:
                    sku = str(rows[number - 1][1].get(SKU)).strip()
                    message = MSG_DUPLICATE_SKU % {"sku": sku, "rows": _rows_text(numbers)}
                    self._problem(number, "sku", message)

    def _resolve_products(self, rows, *, with_categories: bool) -> None:
        names = {str(row.get(PRODUCT) or "").strip() for _, row in rows} - {""}
        by_name: dict[str, list[Product]] = defaultdict(list)
        for chunk in _chunks(sorted(names)):
            for product in Product.objects.filter(name__in=chunk).select_related("category"):
                by_name[product.name].append(product)
        new_products: dict[str, Product] = {}
        #: id(product) -> {category name: [row numbers]}
        wanted: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        products: dict[int, Product] = {}
        for number, row in rows:
            name = str(row.get(PRODUCT) or "").strip()
            variant = self.existing.get(sku_key(row.get(SKU)))
            if not name:
                if variant is None:
                    self._problem(number, "product", MSG_PRODUCT_REQUIRED)
                    continue
                product = variant.product
            elif len(name) > PRODUCT_NAME_LENGTH:
                self._problem(
                    number, "product", MSG_PRODUCT_TOO_LONG % {"limit": PRODUCT_NAME_LENGTH}
                )
                continue
            elif variant is not None and variant.product.name == name:
                product = variant.product
            elif len(by_name.get(name, ())) > 1:
                self._problem(number, "product", MSG_PRODUCT_AMBIGUOUS % {"name": name})
                continue
            elif by_name.get(name):
                product = by_name[name][0]
            else:
                product = new_products.setdefault(name, Product(name=name))
            self.row_product[number] = product
            products[id(product)] = product
            category = str(row.get(CATEGORY) or "").strip() if with_categories else ""
            if category:
                wanted[id(product)][category].append(number)
        self._apply_categories(products, wanted)
        Product.objects.bulk_create(list(new_products.values()), batch_size=BATCH_SIZE)

    def _apply_categories(self, products, wanted) -> None:
        """Set each product's category from its rows (creating missing categories); rows that
        disagree on a product's category are errors."""
        chosen: dict[int, str] = {}
        for key, categories in wanted.items():
            if len(categories) > 1:
                numbers = sorted(n for rows in categories.values() for n in rows)
                message = MSG_CATEGORY_CONFLICT % {
                    "rows": _rows_text(numbers),
                    "product": products[key].name,
                    "categories": ", ".join(sorted(categories)),
                }
                for number in numbers:
                    self._problem(number, "category", message)
            else:
                chosen[key] = next(iter(categories))
        names = sorted(set(chosen.values()))
        known = {c.name: c for c in Category.objects.filter(name__in=names)}
        missing = [Category(name=name) for name in names if name not in known]
        Category.objects.bulk_create(missing)
        known.update((category.name, category) for category in missing)
        changed = []
        for key, name in chosen.items():
            product = products[key]
            if product.category_id != known[name].pk:
                product.category = known[name]
                if product.pk is not None:
                    changed.append(product)
                    self.recategorised.add(product.pk)
        Product.objects.bulk_update(changed, ["category"], batch_size=BATCH_SIZE)

    def _check_barcodes(self, rows) -> None:
        by_key: dict[str, str] = {}
        positions = defaultdict(list)
        for number, row in rows:
            barcode = str(row.get(BARCODE) or "").strip()
            by_key[sku_key(row.get(SKU))] = barcode
            if barcode:
                positions[barcode].append(number)
        for barcode, numbers in positions.items():
            if len(numbers) > 1:
                message = MSG_DUPLICATE_BARCODE % {"barcode": barcode, "rows": _rows_text(numbers)}
                for number in numbers:
                    self._problem(number, "barcode", message)
        for chunk in _chunks(sorted(positions)):
            holders = Variant.objects.filter(barcode__in=chunk).values_list("barcode", "sku")
            for barcode, holder_sku in holders:
                holder = holder_sku.lower()
                # Still the holder's after this import (it may be given another one here)?
                if by_key.get(holder, barcode) != barcode:
                    continue
                for number in positions[barcode]:
                    if sku_key(rows[number - 1][1].get(SKU)) != holder:
                        message = MSG_BARCODE_TAKEN % {"barcode": barcode, "sku": holder_sku}
                        self._problem(number, "barcode", message)

    # --- One row --------------------------------------------------------------------------

    def _values(self, variant: Variant) -> tuple:
        return tuple(
            getattr(variant, Variant._meta.get_field(name).attname) for name in self.WRITTEN
        )

    def import_instance(self, instance, row, **kwargs):
        number = kwargs.get("row_number")
        # What an existing variant looks like before this row: ``skip_row`` compares with it,
        # which spares a deep copy of every row when the diff is off.
        self._before = self._values(instance) if instance.pk else None
        errors = {
            field: ValidationError(messages)
            for field, messages in self.row_problems.get(number, {}).items()
        }
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if number in self.row_product:
            instance.product = self.row_product[number]
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """Field rules only: the SKU and barcode checks that would cost a query per row were
        done for the whole file in ``before_import``, and the product is known to exist."""
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=[*errors, "product"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """Skip an existing variant the row leaves as it was, unless its product changed."""
        if import_validation_errors or self._before is None:
            return False
        if instance.product_id in self.recategorised:
            return False
        return self._values(instance) == self._before
