"""The movement journal: a page newest first, and the same selection as a streamed CSV."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponseBadRequest
from django.utils import timezone
from django.views.generic import TemplateView, View

from core.csv_export import dialect_from_request, streaming_csv_response

from ..journal_filters import JournalFilter
from ..models import Movement
from ..selectors.journal import JOURNAL_COLUMNS, Cursor, journal_page, journal_rows

#: Query-string keys that move through the pages rather than choose the movements.
PAGING_KEYS = ("after", "before", "format")


def filter_query(request) -> str:
    """The query string without the paging keys: what links to other pages and the CSV keep."""
    query = request.GET.copy()
    for key in PAGING_KEYS:
        query.pop(key, None)
    return query.urlencode()


def journal_filterset(request) -> JournalFilter:
    return JournalFilter(
        request.GET,
        queryset=Movement.objects.visible_to(request.user),
        request=request,
    )


def export_filename(stem: str, period: dict) -> str:
    """``movements-2025-01-01-to-2025-12-31.csv``; today's date when no period is chosen."""
    start, end = period.get("from"), period.get("to")
    if start or end:
        return f"{stem}-{start or 'start'}-to-{end or timezone.localdate()}.csv"
    return f"{stem}-{timezone.localdate()}.csv"


def form_errors_text(form) -> str:
    lines = [
        f"{form.fields[name].label if name in form.fields else name}: {message}"
        for name, messages in form.errors.items()
        for message in messages
    ]
    return "\n".join(lines) + "\n"


class JournalView(PermissionRequiredMixin, TemplateView):
    permission_required = "inventory.view_movement"
    template_name = "inventory/journal.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = journal_filterset(self.request)
        page = None
        if filterset.is_valid():
            page = journal_page(
                filterset.qs,
                after=Cursor.parse(self.request.GET.get("after")),
                before=Cursor.parse(self.request.GET.get("before")),
            )
        query = filter_query(self.request)
        context.update(
            filter=filterset,
            page=page,
            query=query,
            can_export=self.request.user.has_perm("inventory.export_stock"),
        )
        return context


class JournalExportView(PermissionRequiredMixin, View):
    permission_required = ("inventory.view_movement", "inventory.export_stock")

    def get(self, request):
        filterset = journal_filterset(request)
        if not filterset.is_valid():
            return HttpResponseBadRequest(
                form_errors_text(filterset.form), content_type="text/plain; charset=utf-8"
            )
        return streaming_csv_response(
            export_filename("movements", filterset.form.cleaned_data),
            JOURNAL_COLUMNS,
            journal_rows(filterset.qs),
            dialect_from_request(request),
        )
