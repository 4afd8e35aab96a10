"""The losses report: adjustments by reason over a period, in quantity and in value."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponseBadRequest
from django.views.generic import TemplateView, View

from core.csv_export import NUMBER, Column, dialect_from_request, streaming_csv_response

from ..journal_filters import PeriodFilter
from ..models import Movement
from ..selectors.valuation import LossLine, losses_by_reason
from .journal import export_filename, filter_query, form_errors_text

LOSSES_COLUMNS = (
    Column("Reason"),
    Column("Movements", NUMBER),
    Column("Lost quantity", NUMBER),
    Column("Lost value", NUMBER),
    Column("Found quantity", NUMBER),
    Column("Found value", NUMBER),
    Column("Net quantity", NUMBER),
    Column("Net value", NUMBER),
)


def period_filterset(request) -> PeriodFilter:
    return PeriodFilter(
        request.GET, queryset=Movement.objects.visible_to(request.user), request=request
    )


def loss_row(line: LossLine) -> tuple:
    return (
        line.label,
        line.movements,
        line.lost_quantity,
        line.lost_value,
        line.found_quantity,
        line.found_value,
        line.net_quantity,
        line.net_value,
    )


class LossReportView(PermissionRequiredMixin, TemplateView):
    permission_required = "inventory.view_movement"
    template_name = "inventory/losses.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = period_filterset(self.request)
        report = None
        if filterset.is_valid():
            report = losses_by_reason(filterset.qs)
        context.update(
            filter=filterset,
            report=report,
            query=filter_query(self.request),
            can_export=self.request.user.has_perm("inventory.export_stock"),
        )
        return context


class LossReportExportView(PermissionRequiredMixin, View):
    permission_required = ("inventory.view_movement", "inventory.export_stock")

    def get(self, request):
        filterset = period_filterset(request)
        if not filterset.is_valid():
            return HttpResponseBadRequest(
                form_errors_text(filterset.form), content_type="text/plain; charset=utf-8"
            )
        report = losses_by_reason(filterset.qs)
        rows = [loss_row(line) for line in report.lines] + [loss_row(report.total)]
        return streaming_csv_response(
            export_filename("losses", filterset.form.cleaned_data),
            LOSSES_COLUMNS,
            rows,
            dialect_from_request(request),
        )
