from django.urls import path

from .views import stock_list

app_name = "inventory"

urlpatterns = [
    path("", stock_list.StockLineListView.as_view(), name="list"),
]
