from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.OrderListView.as_view(), name="list"),
    path("<str:reference>/", views.OrderDetailView.as_view(), name="detail"),
]
