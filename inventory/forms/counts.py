"""Count session forms: start a count, enter counted quantities (scan or type), upload the
filled count sheet, apply."""

import re

from django import forms

from catalog.models import Category

from ..models import CountScope
from ..models.counts import default_big_gap
from ..selectors.counts import count_sheet_variants
from ..services import (
    CountedQuantity,
    StockError,
    count_record,
    count_record_many,
    count_session_start,
)
from ..uploads import (
    UploadColumn,
    UploadRejected,
    lookup_variant_objects,
    lookup_variants,
    parse_rows,
    read_file,
    resolve_rows,
)
from .fields import QuantityField, StaffForm, VariantField, WarehouseField

MSG_CATEGORY_REQUIRED = "Choose the category to count."
MSG_SKUS_REQUIRED = "List the SKUs to count, one per line."
MSG_UNKNOWN_SKUS = "Unknown SKUs: %(skus)s."
MSG_TOO_MANY_SKUS = "At most %(max)s SKUs can be listed: count the whole warehouse instead."
MAX_LISTED_SKUS = 10_000

COUNTED = "Counted quantity"
SKU_COLUMN = UploadColumn("SKU", aliases=("sku code", "code"))
COUNT_COLUMNS = (UploadColumn(COUNTED, aliases=("counted", "quantity", "qty", "count")),)


class CountStartForm(StaffForm):
    warehouse = WarehouseField()
    scope = forms.ChoiceField(
        label="What to count",
        choices=CountScope.choices,
        initial=CountScope.ALL,
        widget=forms.RadioSelect,
    )
    category = forms.ModelChoiceField(
        label="Category",
        queryset=Category.objects.all(),
        required=False,
        empty_label="Choose a category",
    )
    skus = forms.CharField(
        label="SKUs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One per line (or separated by commas or spaces).",
    )
    big_gap = QuantityField(
        label="Big gap from",
        min_value=0,
        help_text="Gaps of this size or more (either way) are flagged to be checked before "
        "applying.",
    )
    note = forms.CharField(label="Note", required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["big_gap"].initial = default_big_gap()

    def clean(self):
        cleaned = super().clean()
        scope = cleaned.get("scope")
        if scope == CountScope.CATEGORY and not cleaned.get("category"):
            self.add_error("category", MSG_CATEGORY_REQUIRED)
        cleaned["variants"] = []
        if scope == CountScope.SKUS:
            codes = [code for code in re.split(r"[\s,;]+", cleaned.get("skus", "")) if code]
            if not codes:
                self.add_error("skus", MSG_SKUS_REQUIRED)
            elif len(codes) > MAX_LISTED_SKUS:
                self.add_error("skus", MSG_TOO_MANY_SKUS % {"max": MAX_LISTED_SKUS})
            else:
                known = lookup_variant_objects(codes)
                unknown = sorted({code for code in codes if code.lower() not in known})
                if unknown:
                    self.add_error("skus", MSG_UNKNOWN_SKUS % {"skus": ", ".join(unknown[:50])})
                cleaned["variants"] = list({v.pk: v for v in known.values()}.values())
        return cleaned

    def save(self):
        data = self.cleaned_data
        try:
            return count_session_start(
                warehouse=data["warehouse"],
                scope=data["scope"],
                category=data.get("category"),
                variants=data["variants"],
                big_gap=data["big_gap"],
                note=data["note"],
                user=self.user,
            )
        except StockError as error:
            field = {"category_required": "category", "skus_required": "skus"}.get(
                error.code, "warehouse"
            )
            self.add_stock_error(field, error)
        return None


class CountEntryForm(StaffForm):
    """One scan or one typed count. A scanner types the SKU and Enter: with the quantity
    left empty and "add" ticked, that is one more item counted."""

    sku = VariantField(
        widget=forms.TextInput(attrs={"autofocus": True}),
        help_text="Scan or type the SKU or barcode, then Enter.",
    )
    counted = QuantityField(
        label="Counted quantity",
        required=False,
        min_value=0,
        help_text="Empty: one more. With “add” unticked, this replaces what was counted.",
    )
    add = forms.BooleanField(label="Add to what is already counted", required=False, initial=True)

    def __init__(self, *args, session, **kwargs):
        self.session = session
        super().__init__(*args, **kwargs)

    def save(self):
        data = self.cleaned_data
        quantity = data["counted"]
        add = data["add"]
        if quantity is None:
            quantity, add = 1, True
        try:
            return count_record(
                session=self.session,
                variant=data["sku"],
                quantity=quantity,
                add=add,
                user=self.user,
            )
        except StockError as error:
            field = "counted" if error.code not in {"count_not_open"} else None
            self.add_stock_error(field, error)
        return None


class CountUploadForm(StaffForm):
    file = forms.FileField(
        label="Filled count sheet (CSV)",
        help_text="Columns SKU and Counted quantity; lines left empty are not counted yet. "
        "A SKU not on the sheet is added with its current stock as expected.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, session, **kwargs):
        self.session = session
        super().__init__(*args, **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            rows, errors, decimal_comma = parse_rows(
                read_file(upload), sku_column=SKU_COLUMN, columns=COUNT_COLUMNS
            )
            rows = resolve_rows(
                rows,
                errors,
                decimal_comma=decimal_comma,
                variants=self._variants,
                quantities={COUNTED: "non_negative"},
                blank_quantity_skips=True,
            )
        except UploadRejected as rejected:
            raise forms.ValidationError(rejected.messages()) from None
        self.counted = [CountedQuantity(row.variant.pk, row.values[COUNTED]) for row in rows]
        return upload

    def _variants(self, skus):
        """The sheet's own SKUs in one query, then any other in the catalog."""
        known = count_sheet_variants(self.session)
        others = [sku for sku in skus if sku.lower() not in known]
        if others:
            known.update(lookup_variants(others))
        return known

    def save(self):
        try:
            return count_record_many(session=self.session, counted=self.counted, user=self.user)
        except StockError as error:
            self.add_stock_error("file", error)
        return None


class CountApplyForm(forms.Form):
    uncounted_as_zero = forms.BooleanField(
        label="Lines nobody counted are empty (set them to 0)",
        required=False,
        help_text="Leave unticked to keep uncounted lines as they are.",
    )


class BigGapForm(forms.Form):
    big_gap = QuantityField(label="Big gap from", min_value=0)
