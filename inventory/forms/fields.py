"""Fields shared by the staff forms: a SKU typed or scanned (SKU or barcode), quantities,
and the warehouses a user may work in."""

from django import forms
from django.db.models import Q

from catalog.models import Variant
from warehouses.models import Warehouse

#: SKUs and barcodes are at most 64 characters.
MAX_CODE_LENGTH = 64
MSG_UNKNOWN_CODE = "No product has the SKU or barcode “%(code)s”."


def find_variant(code: str) -> Variant | None:
    """The variant whose SKU (any case) or barcode is ``code``."""
    code = code.strip()
    # PostgreSQL refuses a NUL character in a query: such a code is unknown, not a 500.
    if not code or "\x00" in code:
        return None
    return (
        Variant.objects.select_related("product")
        .filter(Q(sku__iexact=code) | Q(barcode=code))
        .order_by("-sku")  # a SKU match and a barcode match cannot both exist; stable anyway
        .first()
    )


class VariantField(forms.Field):
    """Type or scan a SKU or a barcode; cleans to the Variant."""

    widget = forms.TextInput
    default_error_messages = {"unknown": MSG_UNKNOWN_CODE}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", "SKU")
        kwargs.setdefault("help_text", "Type or scan the SKU or the barcode.")
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        # Scanners type fast and end with Enter: no autocorrect, no capitalisation games.
        attrs.update(
            {
                "maxlength": str(MAX_CODE_LENGTH),
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        )
        return attrs

    def prepare_value(self, value):
        return value.sku if isinstance(value, Variant) else value

    def to_python(self, value):
        if isinstance(value, Variant):
            return value
        code = str(value or "").strip()
        if not code:
            return None
        variant = find_variant(code) if len(code) <= MAX_CODE_LENGTH else None
        if variant is None:
            raise forms.ValidationError(
                self.error_messages["unknown"],
                code="unknown_sku",
                params={"code": code[:MAX_CODE_LENGTH]},
            )
        return variant


class QuantityField(forms.DecimalField):
    """A quantity as staff type it: up to 3 decimals; the unit check is the service's."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 15)
        kwargs.setdefault("decimal_places", 3)
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "step": "any"})
        return attrs


class WarehouseField(forms.ModelChoiceField):
    """An active warehouse the user may work in, chosen (and pre-filled) by its code. The form
    (``StaffForm``) narrows the choices to the user's warehouses."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", "Warehouse")
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("empty_label", "Choose a warehouse")
        super().__init__(Warehouse.objects.none(), *args, **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.code} – {obj.name}"


def warehouses_for(user):
    """Active warehouses ``user`` may see and change stock in."""
    return Warehouse.objects.active().visible_to(user)


class StaffForm(forms.Form):
    """A form that knows who fills it: its warehouse fields offer only that user's."""

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, WarehouseField):
                field.queryset = warehouses_for(user)

    def add_stock_error(self, field: str | None, error) -> None:
        """Show a StockError from a service next to ``field`` (or above the form)."""
        self.add_error(field, error.as_validation_error())
