from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/inventory/", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("inventory/", include("inventory.urls")),
    path("movements/", include("inventory.journal_urls")),
    path("orders/", include("orders.urls")),
    path("api/v1/", include("api.urls")),
]
