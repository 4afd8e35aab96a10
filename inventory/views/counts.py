"""Physical counts.

/inventory/counts/                 the sessions; start one
/inventory/counts/<pk>/            count: scan or type, upload the filled sheet
/inventory/counts/<pk>/sheet/      the printable count sheet (?page= for long ones)
/inventory/counts/<pk>/sheet.csv   the count sheet as CSV, to fill in and upload
/inventory/counts/<pk>/gaps/       expected, counted, gap, moved since the snapshot; apply
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView, View

from core.csv_export import Column, streaming_csv_response
from core.streaming import stream_rows

from ..forms.counts import (
    COUNTED,
    BigGapForm,
    CountApplyForm,
    CountEntryForm,
    CountStartForm,
    CountUploadForm,
)
from ..models import CountLine, CountSession, Movement
from ..selectors.counts import (
    big_gap_condition,
    count_lines_with_gaps,
    count_sheet_rows,
    count_summary,
    lines_going_negative,
)
from ..services import (
    InsufficientStock,
    StockError,
    count_session_apply,
    count_session_cancel,
    count_session_set_big_gap,
)
from .staff import shown

PERMISSION = "inventory.count_stock"
GAPS_PAGE = 100
SHEET_PAGE = 2000
#: Shortfalls listed when applying is refused; the rest are counted.
LISTED_SHORTFALLS = 20

SHEET_COLUMNS = (Column("SKU"), Column("Product"), Column("Variant"), Column("Barcode"))

#: The filters of the gaps screen: ?show= value -> tab label.
GAP_FILTERS = {
    "gaps": "With a gap",
    "big": "Big gaps",
    "negative": "Would go below available",
    "uncounted": "Not counted",
    "all": "All lines",
}


def sessions_for(user):
    return CountSession.objects.visible_to(user).select_related("warehouse", "category")


class CountSessionMixin(PermissionRequiredMixin):
    permission_required = PERMISSION

    def get_session(self) -> CountSession:
        if not hasattr(self, "_session"):
            self._session = get_object_or_404(sessions_for(self.request.user), pk=self.kwargs["pk"])
        return self._session


class CountListView(PermissionRequiredMixin, TemplateView):
    permission_required = PERMISSION
    template_name = "inventory/count_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", CountStartForm(user=self.request.user))
        context["sessions"] = (
            sessions_for(self.request.user).select_related("created_by").order_by("-pk")[:50]
        )
        return context

    def post(self, request):
        form = CountStartForm(request.POST, user=request.user)
        if form.is_valid():
            session = form.save()
            if session is not None:
                messages.success(
                    request,
                    f"Count {session.reference} started: expected quantities snapshotted.",
                )
                return redirect(session)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CountDetailView(CountSessionMixin, TemplateView):
    template_name = "inventory/count_detail.html"

    def get_context_data(self, **kwargs):
        session = self.get_session()
        context = super().get_context_data(**kwargs)
        context["session"] = session
        context.setdefault("entry_form", CountEntryForm(user=self.request.user, session=session))
        context.setdefault("upload_form", CountUploadForm(user=self.request.user, session=session))
        # Each scan comes back here: only the figures that cost no join with stock lines.
        context["summary"] = count_summary(session, with_negative=False)
        context["recent"] = (
            CountLine.objects.filter(session=session, counted__isnull=False)
            .select_related("variant__product")
            .order_by("-counted_at", "-pk")[:10]
        )
        return context

    def post(self, request, pk):
        session = self.get_session()
        if "file" in request.FILES or request.POST.get("form") == "upload":
            return self._upload(request, session)
        form = CountEntryForm(request.POST, user=request.user, session=session)
        if form.is_valid():
            line = form.save()
            if line is not None:
                messages.success(
                    request, f"{form.cleaned_data['sku'].sku}: {shown(line.counted)} counted."
                )
                return redirect(session)
        return self.render_to_response(self.get_context_data(entry_form=form), status=400)

    def _upload(self, request, session):
        form = CountUploadForm(request.POST, request.FILES, user=request.user, session=session)
        if form.is_valid():
            result = form.save()
            if result is not None:
                updated, added = result
                text = f"{updated} counted quantities recorded from the file."
                if added:
                    text += f" {added} SKUs not on the sheet were added to it."
                messages.success(request, text)
                return redirect(session)
        return self.render_to_response(self.get_context_data(upload_form=form), status=400)


class CountSheetView(CountSessionMixin, TemplateView):
    template_name = "inventory/count_sheet.html"

    def get_context_data(self, **kwargs):
        session = self.get_session()
        context = super().get_context_data(**kwargs)
        paginator = Paginator(count_sheet_rows(session), SHEET_PAGE)
        context["session"] = session
        context["page_obj"] = paginator.get_page(self.request.GET.get("page"))
        context["is_paginated"] = paginator.num_pages > 1
        return context


class CountSheetCsvView(CountSessionMixin, View):
    def get(self, request, pk):
        session = self.get_session()
        rows = (
            (sku, product, name, barcode or "", "")
            for sku, product, name, barcode in stream_rows(
                count_sheet_rows(session), chunk_size=5000
            )
        )
        return streaming_csv_response(
            f"count-{session.pk}-{session.warehouse.code}.csv",
            (*SHEET_COLUMNS, Column(COUNTED)),
            rows,
        )


class CountGapsView(CountSessionMixin, TemplateView):
    template_name = "inventory/count_gaps.html"

    def get_context_data(self, **kwargs):
        session = self.get_session()
        context = super().get_context_data(**kwargs)
        tab = self.request.GET.get("show", "gaps")
        if tab not in GAP_FILTERS:
            tab = "gaps"
        lines = count_lines_with_gaps(session)
        if tab == "gaps":
            lines = lines.filter(counted__isnull=False).exclude(gap_value=0)
        elif tab == "big":
            lines = lines.filter(big_gap_condition(session))
        elif tab == "negative":
            lines = lines_going_negative(session)
        elif tab == "uncounted":
            lines = lines.filter(counted__isnull=True)
        # The page's ids first (no per-row subquery for the rows an OFFSET skips), then
        # those rows with what the screen shows.
        paginator = Paginator(lines.values_list("pk", flat=True), GAPS_PAGE)
        page = paginator.get_page(self.request.GET.get("page"))
        page.object_list = list(
            count_lines_with_gaps(session).filter(pk__in=list(page.object_list))
        )
        context.update(
            session=session,
            summary=count_summary(session),
            # Once applied, nothing can go below available any more.
            filters={k: v for k, v in GAP_FILTERS.items() if session.is_open or k != "negative"},
            shown=tab,
            page_obj=page,
            is_paginated=paginator.num_pages > 1,
        )
        context.setdefault("apply_form", CountApplyForm())
        context.setdefault("big_gap_form", BigGapForm(initial={"big_gap": shown(session.big_gap)}))
        return context


class CountApplyView(CountSessionMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        session = self.get_session()
        form = CountApplyForm(request.POST)
        form.is_valid()  # one optional checkbox: always valid
        try:
            session = count_session_apply(
                session=session,
                uncounted_as_zero=form.cleaned_data.get("uncounted_as_zero", False),
                user=request.user,
            )
        except InsufficientStock as error:
            listed = "; ".join(str(item) for item in error.shortfalls[:LISTED_SHORTFALLS])
            more = len(error.shortfalls) - LISTED_SHORTFALLS
            messages.error(
                request,
                f"Nothing was applied: {len(error.shortfalls)} lines would leave available "
                f"stock below zero in {session.warehouse.code}, which does not allow it. "
                f"{listed}{f'; and {more} more' if more > 0 else ''}. Release or unlock what "
                "is held on them, or recount them, then apply again.",
            )
        except StockError as error:
            messages.error(request, error.message)
        else:
            corrections = Movement.objects.filter(operation=session.operation).count()
            messages.success(
                request,
                f"Count {session.reference} applied: {corrections} corrections written to the "
                f"ledger with reference {session.reference}.",
            )
        return redirect("inventory:count_gaps", pk=session.pk)


class CountBigGapView(CountSessionMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        session = self.get_session()
        form = BigGapForm(request.POST)
        if form.is_valid():
            try:
                count_session_set_big_gap(
                    session=session, big_gap=form.cleaned_data["big_gap"], user=request.user
                )
            except StockError as error:
                messages.error(request, error.message)
        else:
            messages.error(request, "; ".join(form.errors["big_gap"]))
        return redirect("inventory:count_gaps", pk=session.pk)


class CountCancelView(CountSessionMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        session = self.get_session()
        try:
            count_session_cancel(session=session, user=request.user)
        except StockError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Count {session.reference} cancelled: nothing changed.")
        return redirect("inventory:counts")
