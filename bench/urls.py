"""The app's URLs, plus an empty logged-in view: the bare cost of a Django request (middleware,
session, user) that the inventory list's first page is compared with."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


@login_required
def empty(request):
    return HttpResponse(b"", content_type="text/html; charset=utf-8")


urlpatterns = [path("bench/empty/", empty, name="bench_empty"), *app_urlpatterns]
