from django.urls import path

from .views import inventory_export, sku_detail, stock_at_date, stock_list

app_name = "inventory"

urlpatterns = [
    path("", stock_list.StockLineListView.as_view(), name="list"),
    path("export.csv", inventory_export.InventoryExportView.as_view(), name="export"),
    path("sku/<str:sku>/", sku_detail.SkuDetailView.as_view(), name="sku_detail"),
    path("at/", stock_at_date.StockAtDateView.as_view(), name="stock_at"),
    path("at/export.csv", stock_at_date.StockAtDateExportView.as_view(), name="stock_at_export"),
]
