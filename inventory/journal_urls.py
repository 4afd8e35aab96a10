"""The accountants' pages under /movements/: the journal, its CSV and the losses report."""

from django.urls import path

from .views import journal, reports

app_name = "movements"

urlpatterns = [
    path("", journal.JournalView.as_view(), name="journal"),
    path("export.csv", journal.JournalExportView.as_view(), name="journal_export"),
    path("losses/", reports.LossReportView.as_view(), name="losses"),
    path("losses/export.csv", reports.LossReportExportView.as_view(), name="losses_export"),
]
