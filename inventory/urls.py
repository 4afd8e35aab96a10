from django.urls import path

from .views import (
    adjustments,
    counts,
    inventory_export,
    locks,
    receptions,
    sku_detail,
    stock_at_date,
    stock_list,
    transfers,
)

app_name = "inventory"

urlpatterns = [
    path("", stock_list.StockLineListView.as_view(), name="list"),
    path("export.csv", inventory_export.InventoryExportView.as_view(), name="export"),
    path("sku/<str:sku>/", sku_detail.SkuDetailView.as_view(), name="sku_detail"),
    path("at/", stock_at_date.StockAtDateView.as_view(), name="stock_at"),
    path("at/export.csv", stock_at_date.StockAtDateExportView.as_view(), name="stock_at_export"),
    # Warehouse staff: adjustments, transfers, locks, receptions, physical counts.
    path("adjust/", adjustments.AdjustmentView.as_view(), name="adjust"),
    path("transfers/new/", transfers.TransferView.as_view(), name="transfer_new"),
    path("locks/new/", locks.LockView.as_view(), name="lock"),
    path("receptions/", receptions.ReceptionListView.as_view(), name="receptions"),
    path("receptions/new/", receptions.ReceptionCreateView.as_view(), name="reception_new"),
    path("receptions/<int:pk>/", receptions.ReceptionDetailView.as_view(), name="reception_detail"),
    path(
        "receptions/expected/new/",
        receptions.ExpectedReceptionCreateView.as_view(),
        name="expected_reception_new",
    ),
    path(
        "receptions/expected/<int:pk>/",
        receptions.ExpectedReceptionDetailView.as_view(),
        name="expected_reception_detail",
    ),
    path(
        "receptions/expected/<int:pk>/close/",
        receptions.ExpectedReceptionCloseView.as_view(),
        name="expected_reception_close",
    ),
    path("counts/", counts.CountListView.as_view(), name="counts"),
    path("counts/<int:pk>/", counts.CountDetailView.as_view(), name="count_detail"),
    path("counts/<int:pk>/sheet/", counts.CountSheetView.as_view(), name="count_sheet"),
    path("counts/<int:pk>/sheet.csv", counts.CountSheetCsvView.as_view(), name="count_sheet_csv"),
    path("counts/<int:pk>/gaps/", counts.CountGapsView.as_view(), name="count_gaps"),
    path("counts/<int:pk>/apply/", counts.CountApplyView.as_view(), name="count_apply"),
    path("counts/<int:pk>/big-gap/", counts.CountBigGapView.as_view(), name="count_big_gap"),
    path("counts/<int:pk>/cancel/", counts.CountCancelView.as_view(), name="count_cancel"),
]
