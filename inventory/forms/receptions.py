"""Reception forms: an expected reception (what a supplier will deliver) and a delivery
received, its lines scanned, typed or uploaded as a CSV file."""

import json
from dataclasses import dataclass
from decimal import Decimal

from django import forms

from catalog.models import Supplier

from ..models import ExpectedReception
from ..services import (
    OverReception,
    StockError,
    StockQuantity,
    expected_reception_create,
    reception_receive,
)
from ..services.receptions import reception_preview
from ..uploads import (
    UploadColumn,
    UploadRejected,
    lookup_variant_objects,
    parse_rows,
    read_file,
    resolve_rows,
)
from .fields import StaffForm, WarehouseField
from .lines import lines_formset

#: 3 inputs a row: stays under Django's limit of 1,000 fields in one form. More: a CSV file.
MAX_TYPED_LINES = 300
ReceptionLinesFormSet = lines_formset(costed=True, max_num=MAX_TYPED_LINES)

MSG_SUPPLIER_REQUIRED = "Choose the supplier."
MSG_WAREHOUSE_REQUIRED = "Choose the warehouse receiving the goods."
MSG_NO_LINES = "Add the lines received: scan or type them, or upload a CSV file."
MSG_LINES_AND_FILE = "Upload a file or enter lines, not both: clear the typed lines first."
MSG_UPLOAD_LOST = "The uploaded lines were lost: upload the file again."
MSG_CONFIRM_OVER = "Tick this box to receive more than expected."

QUANTITY, UNIT_COST = "Quantity", "Unit cost"
SKU_COLUMN = UploadColumn("SKU", aliases=("sku code", "code"))
UPLOAD_COLUMNS = (
    UploadColumn(QUANTITY, aliases=("qty", "quantity received", "received")),
    UploadColumn(UNIT_COST, aliases=("cost", "unit_cost", "price"), required=False),
)


def read_reception_upload(upload) -> list[StockQuantity]:
    """The lines of an uploaded reception CSV; raises UploadRejected with every problem."""
    rows, errors, decimal_comma = parse_rows(
        read_file(upload), sku_column=SKU_COLUMN, columns=UPLOAD_COLUMNS
    )
    rows = resolve_rows(
        rows,
        errors,
        decimal_comma=decimal_comma,
        variants=lookup_variant_objects,
        quantities={QUANTITY: "positive"},
        costs=(UNIT_COST,),
    )
    return [StockQuantity(row.variant, row.values[QUANTITY], row.values[UNIT_COST]) for row in rows]


def _carried(lines: list[StockQuantity]) -> str:
    return json.dumps(
        [
            [
                line.variant.sku,
                f"{line.quantity}",
                "" if line.unit_cost is None else f"{line.unit_cost}",
            ]
            for line in lines
        ]
    )


def _uncarried(text: str) -> list[StockQuantity]:
    """Lines carried from the preview of an upload to its confirmation (checked again)."""
    try:
        rows = json.loads(text)
        known = lookup_variant_objects(row[0] for row in rows)
        return [
            StockQuantity(known[sku.lower()], Decimal(quantity), Decimal(cost) if cost else None)
            for sku, quantity, cost in rows
        ]
    except (ValueError, TypeError, KeyError, ArithmeticError):
        raise forms.ValidationError(
            "The uploaded lines were lost: upload the file again."
        ) from None


@dataclass(frozen=True)
class ComparedLine:
    """One row of "received vs expected"."""

    sku: str
    name: str
    received: Decimal
    expected: Decimal | None
    unit_cost: Decimal | None

    @property
    def difference(self) -> Decimal | None:
        if self.expected is None:
            return None
        return self.received - self.expected

    @property
    def state(self) -> str:
        """ "over", "short", "unexpected" or "" (as expected)."""
        if self.expected is None:
            return "unexpected"
        if self.received > self.expected:
            return "over"
        if self.received < self.expected:
            return "short"
        return ""


def compare(lines, expected_reception) -> list[ComparedLine]:
    """Received against expected, plus what the order expects that did not come."""
    compared = [
        ComparedLine(
            line.variant.sku,
            line.variant.display_name,
            line.quantity,
            line.expected,
            line.unit_cost,
        )
        for line in reception_preview(lines=lines, expected_reception=expected_reception)
    ]
    if expected_reception is not None:
        delivered = {line.variant.pk for line in lines}
        for order_line in expected_reception.lines.select_related("variant__product"):
            if order_line.variant_id not in delivered and order_line.outstanding > 0:
                compared.append(
                    ComparedLine(
                        order_line.variant.sku,
                        order_line.variant.display_name,
                        Decimal(0),
                        order_line.outstanding,
                        order_line.unit_cost,
                    )
                )
    return compared


class ReceptionForm(StaffForm):
    expected_reception = forms.ModelChoiceField(
        label="Expected reception",
        queryset=ExpectedReception.objects.none(),
        required=False,
        empty_label="None: a delivery nobody registered",
        help_text="The order this delivery is for: what it brings is no longer Incoming.",
    )
    supplier = forms.ModelChoiceField(
        label="Supplier",
        queryset=Supplier.objects.filter(is_active=True),
        required=False,
        empty_label="Choose a supplier",
    )
    warehouse = WarehouseField(required=False)
    delivery_note = forms.CharField(
        label="Delivery note number", max_length=64, help_text="As printed on the delivery note."
    )
    upload = forms.FileField(
        label="Lines from a CSV file",
        required=False,
        help_text="Columns: SKU, Quantity, and optionally Unit cost. Comma or semicolon.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    uploaded = forms.CharField(required=False, widget=forms.HiddenInput)
    accept_over = forms.BooleanField(
        label="Receive more than expected",
        required=False,
        help_text="Some lines bring more than the order expects, or SKUs it does not list.",
    )
    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, initial_lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expected_reception"].queryset = (
            ExpectedReception.objects.open()
            .visible_to(self.user)
            .select_related("supplier", "warehouse")
            .order_by("expected_on", "pk")
        )
        self.lines = ReceptionLinesFormSet(
            self.data if self.is_bound else None, prefix="lines", initial=list(initial_lines)
        )
        self.lines.require_lines = False
        self.received_lines: list[StockQuantity] = []
        self.from_upload = False
        #: The preview found more than the order expects: the confirmation box is shown.
        self.over = False

    def is_valid(self):
        valid = super().is_valid()
        return self.lines.is_valid() and valid

    def clean(self):
        cleaned = super().clean()
        order = cleaned.get("expected_reception")
        if order is not None:
            # The order's supplier and warehouse, unless chosen (then they must match).
            cleaned["supplier"] = cleaned.get("supplier") or order.supplier
            if cleaned.get("warehouse") is None and "warehouse" not in self.errors:
                cleaned["warehouse"] = order.warehouse
        if cleaned.get("supplier") is None and "supplier" not in self.errors:
            self.add_error("supplier", MSG_SUPPLIER_REQUIRED)
        if cleaned.get("warehouse") is None and "warehouse" not in self.errors:
            self.add_error("warehouse", MSG_WAREHOUSE_REQUIRED)
        if self.lines.is_valid():
            self._collect_lines(cleaned)
        return cleaned

    def _collect_lines(self, cleaned) -> None:
        typed = self.lines.stock_quantities()
        upload, carried = cleaned.get("upload"), cleaned.get("uploaded")
        if upload and typed:
            self.add_error("upload", MSG_LINES_AND_FILE)
            return
        try:
            if upload:
                self.received_lines = read_reception_upload(upload)
                self.from_upload = True
            elif carried and not typed:
                self.received_lines = _uncarried(carried)
                self.from_upload = True
            else:
                self.received_lines = typed
        except UploadRejected as rejected:
            for message in rejected.messages():
                self.add_error("upload", message)
            return
        except forms.ValidationError as error:
            self.add_error("upload", error)
            return
        if not self.received_lines:
            self.add_error(None, MSG_NO_LINES)
        elif self.from_upload:
            # Carried to the confirmation: the file itself is not sent twice.
            self.data = self.data.copy()
            self.data["uploaded"] = _carried(self.received_lines)

    def preview(self) -> list[ComparedLine]:
        compared = compare(self.received_lines, self.cleaned_data.get("expected_reception"))
        self.over = any(line.state in {"over", "unexpected"} for line in compared) and bool(
            self.cleaned_data.get("expected_reception")
        )
        return compared

    def save(self):
        data = self.cleaned_data
        try:
            return reception_receive(
                warehouse=data["warehouse"],
                supplier=data["supplier"],
                delivery_note=data["delivery_note"],
                lines=self.received_lines,
                expected_reception=data["expected_reception"],
                accept_over_reception=data["accept_over"],
                note=data["note"],
                user=self.user,
            )
        except OverReception as error:
            self.add_error("accept_over", f"{error.message} {MSG_CONFIRM_OVER}")
        except StockError as error:
            field = {
                "order_other_warehouse": "warehouse",
                "order_other_supplier": "supplier",
                "order_not_open": "expected_reception",
                "delivery_note_required": "delivery_note",
                "inactive_warehouse": "warehouse",
            }.get(error.code)
            self.add_stock_error(field, error)
        return None


class ExpectedReceptionForm(StaffForm):
    supplier = forms.ModelChoiceField(
        label="Supplier", queryset=Supplier.objects.filter(is_active=True), empty_label="Choose"
    )
    warehouse = WarehouseField()
    reference = forms.CharField(
        label="Reference", max_length=64, help_text="The purchase order number."
    )
    expected_on = forms.DateField(
        label="Expected on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = ReceptionLinesFormSet(self.data if self.is_bound else None, prefix="lines")

    def is_valid(self):
        valid = super().is_valid()
        return self.lines.is_valid() and valid

    def preview(self):
        return self.lines.stock_quantities()

    def save(self):
        data = self.cleaned_data
        try:
            return expected_reception_create(
                supplier=data["supplier"],
                warehouse=data["warehouse"],
                reference=data["reference"],
                expected_on=data["expected_on"],
                note=data["note"],
                lines=self.lines.stock_quantities(),
                user=self.user,
            )
        except StockError as error:
            field = {"duplicate_reference": "reference", "reference_required": "reference"}
            self.add_stock_error(field.get(error.code), error)
        return None
