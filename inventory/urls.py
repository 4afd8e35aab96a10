from django.urls import path

from .views import stock_at_date, stock_list

app_name = "inventory"

urlpatterns = [
    path("", stock_list.StockLineListView.as_view(), name="list"),
    path("at/", stock_at_date.StockAtDateView.as_view(), name="stock_at"),
    path("at/export.csv", stock_at_date.StockAtDateExportView.as_view(), name="stock_at_export"),
]
