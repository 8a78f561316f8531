from django.contrib import admin
from django.urls import include, path

from registry.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("outcomes/", include("outcomes.urls")),
    path("", include("registry.web_urls")),
]
