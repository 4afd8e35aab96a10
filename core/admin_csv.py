"""CSV in the admin's import and export (django-import-export), the way every Stockroom CSV is
written: comma, decimal point, ISO 8601 dates with their time zone, formula-like text escaped,
numbers left as numbers; or the "spreadsheet" variant (semicolon, decimal comma, byte-order
mark). See core/csv_export.py, whose cell rules these formats reuse.

Resources built on ``SafeResource`` hand the format native values (Decimal, datetime, bool,
str), so that the format knows a number from a text and escapes only the text. Sharing
``core.csv_export`` keeps the admin's CSVs and the app's own from drifting apart.
"""

import csv
import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation

import tablib
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from import_export import resources, widgets
from import_export.admin import ExportMixin, ImportMixin
from import_export.formats.base_formats import CSV
from import_export.forms import ImportForm

from core.csv_export import (
    DATETIME,
    FORMULA_PREFIXES,
    NUMBER,
    SPREADSHEET,
    STANDARD,
    TEXT,
    CsvDialect,
    escape_text,
    format_cell,
)

MSG_NOT_A_NUMBER = "“%(value)s” is not a number: write it like 12 or 2.5."
MSG_TOO_MANY_ROWS = (
    "%(count)s rows is more than the admin exports at once (%(limit)s): narrow the selection "
    "with the filters, or download %(alternative)s, which is streamed."
)
MSG_NOTHING_IMPORTED = (
    "Nothing was imported: %(count)s row(s) have errors. The file may have changed since the "
    "preview; import it again to see the errors."
)
MSG_IMPORT_TOO_BIG = (
    "The file is larger than %(limit)s MB: split it into smaller files (a 20,000-variant "
    "catalog is about 1 MB)."
)
MSG_UPLOAD_GONE = (
    "Nothing was imported: the previewed file is no longer waiting for confirmation (it was "
    "imported already, or its preview is more than a day old). Upload it again."
)
MSG_NOT_FROM_PREVIEW = (
    "Nothing was imported: this confirmation does not match any import preview. Upload the "
    "file again."
)

#: Larger admin imports are refused before they are read: the import holds the whole file in
#: memory, and keeps it in the cache table until confirmed.
MAX_IMPORT_BYTES = 20 * 1024 * 1024

#: The spreadsheet variant writes 1234,5; reading it back turns such cells into 1234.5.
DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def cell_text(value, dialect: CsvDialect) -> str:
    """One exported cell: numbers and dates by the CSV rules, booleans as 1/0, text escaped."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal | int | float):
        return format_cell(value, NUMBER, dialect)
    if isinstance(value, date):
        return format_cell(value, DATETIME, dialect)
    return format_cell(value, TEXT, dialect)


def unescape_text(value: str) -> str:
    """Undo ``escape_text`` on a cell read back, so that an exported file imports unchanged."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


class UploadGone(Exception):
    """The file of a previewed import is no longer in the import's temporary storage."""


class StockroomCSV(CSV):
    """The contract's CSV: comma, decimal point, no byte-order mark."""

    dialect = STANDARD
    title = "csv"

    def get_title(self):
        return self.title

    def export_data(self, dataset, **kwargs):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.dialect.delimiter, lineterminator="\r\n")
        writer.writerow([escape_text(str(header)) for header in dataset.headers])
        for row in dataset:
            writer.writerow([cell_text(value, self.dialect) for value in row])
        return ("\ufeff" if self.dialect.byte_order_mark else "") + buffer.getvalue()

    def create_dataset(self, in_stream, **kwargs):
        if in_stream is None:
            # What the cache storage reads for a file that was imported already or expired.
            raise UploadGone
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        in_stream = in_stream.removeprefix("\ufeff")
        rows = list(csv.reader(io.StringIO(in_stream), delimiter=self.dialect.delimiter))
        dataset = tablib.Dataset()
        if not rows:
            return dataset
        dataset.headers = [header.strip() for header in rows[0]]
        width = len(dataset.headers)
        for row in rows[1:]:
            if not any(cell.strip() for cell in row):
                continue  # blank lines, as spreadsheets leave at the end
            cells = [self.read_cell(cell) for cell in row[:width]]
            dataset.append(cells + [""] * (width - len(cells)))
        return dataset

    def read_cell(self, cell: str) -> str:
        return unescape_text(cell)


class SpreadsheetCSV(StockroomCSV):
    """Semicolon-separated, decimal comma, with a byte-order mark (Excel in many locales)."""

    dialect = SPREADSHEET
    title = "csv (spreadsheet: semicolon, decimal comma)"

    def read_cell(self, cell: str) -> str:
        cell = super().read_cell(cell)
        return cell.replace(",", ".") if DECIMAL_COMMA.match(cell.strip()) else cell


ADMIN_FORMATS = [StockroomCSV, SpreadsheetCSV]


class TextWidget(widgets.CharWidget):
    """Text without surrounding spaces."""

    def clean(self, value, row=None, **kwargs):
        return super().clean(value, row, **kwargs).strip()


class DecimalWidget(widgets.DecimalWidget):
    """A decimal with a point, or a clear message naming the bad value."""

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(MSG_NOT_A_NUMBER % {"value": value}) from None
        if not number.is_finite():
            raise ValueError(MSG_NOT_A_NUMBER % {"value": value})
        return number


class SafeResource(resources.ModelResource):
    """Exports native values for the CSV formats above; imports all rows or none.

    Every import runs in a transaction that is rolled back when any row is invalid, in the
    preview and in the confirmed import alike: a bad row changes nothing. Rows are checked with
    the model's own validation (``full_clean``) before they are saved.
    """

    class Meta:
        clean_model_instances = True

    def export_field(self, field, instance, **kwargs):
        name = self.get_field_name(field)
        method = field.get_dehydrate_method(name)
        method = method if callable(method) else getattr(self, method, None)
        if method is not None:
            return method(instance)
        if isinstance(field.widget, widgets.ForeignKeyWidget | widgets.ManyToManyWidget):
            return field.widget.render(field.get_value(instance))
        return field.get_value(instance)

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, **kwargs)


class SafeExportMixin(ExportMixin):
    """The admin's export with Stockroom's CSV formats: it needs the view permission and
    ``inventory.export_stock``, like every other CSV of the app. Exports above
    ``export_limit`` rows are refused with a pointer to a streamed CSV of the app, because
    django-import-export builds the whole file in memory."""

    export_limit = 100_000
    #: Where to send people for bigger exports (a streamed CSV of the app), if anywhere.
    streamed_alternative = ""

    @property
    def export_formats(self):
        return ADMIN_FORMATS

    def has_export_permission(self, request):
        return self.has_view_permission(request) and request.user.has_perm("inventory.export_stock")

    def get_export_data(self, file_format, request, queryset, **kwargs):
        count = queryset.count()
        if count > self.export_limit:
            raise ValueError(
                MSG_TOO_MANY_ROWS
                % {
                    "count": f"{count:,}",
                    "limit": f"{self.export_limit:,}",
                    "alternative": self.streamed_alternative or "smaller selections",
                }
            )
        return super().get_export_data(file_format, request, queryset, **kwargs)


class SizedImportForm(ImportForm):
    """The admin's import form, refusing files over ``MAX_IMPORT_BYTES`` next to the field."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(
                MSG_IMPORT_TOO_BIG,
                code="too_big",
                params={"limit": MAX_IMPORT_BYTES // (1024 * 1024)},
            )
        return upload


class SafeImportExportMixin(ImportMixin, SafeExportMixin):
    """Import and export: import needs the model's add and change permissions; the preview
    lists every bad row, and the confirmed import changes nothing if any row is bad."""

    import_export_change_list_template = "admin/import_export/change_list_import_export.html"
    import_form_class = SizedImportForm

    @property
    def import_formats(self):
        return ADMIN_FORMATS

    def has_import_permission(self, request):
        opts = self.opts
        return request.user.has_perm(
            f"{opts.app_label}.add_{opts.model_name}"
        ) and request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def process_import(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied  # before anything else, as the library does
        if not self._confirms_a_preview(request):
            messages.error(request, MSG_NOT_FROM_PREVIEW)
            return self._back_to_import()
        # A second click on "Confirm import", or a preview confirmed after its file expired.
        try:
            return super().process_import(request, **kwargs)
        except UploadGone:
            messages.error(request, MSG_UPLOAD_GONE)
            return self._back_to_import()

    def _confirms_a_preview(self, request) -> bool:
        """The confirmation's format and resource are among this admin's: the library would
        index its lists with them and fail on anything else (an edited or stale form)."""
        choices = {
            "format": len(self.get_import_formats()),
            "resource": len(self.get_import_resource_classes(request)),
        }
        for name, count in choices.items():
            value = request.POST.get(name) or ("0" if name == "resource" else "")
            if not (value.isascii() and value.isdigit() and int(value) < count):
                return False
        return True

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            failed = len(result.invalid_rows) + len(result.row_errors())
            messages.error(request, MSG_NOTHING_IMPORTED % {"count": failed})
            return self._back_to_import()
        return super().process_result(result, request)

    def _back_to_import(self) -> HttpResponseRedirect:
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))
