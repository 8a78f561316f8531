from django.contrib import admin
from django.urls import include, path

from registry.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("outcomes/", include("outcomes.urls")),
    path("quality/", include("outcomes.quality.urls")),
    # One API root; records live in registry, aggregates/exports/quality in outcomes.
    path("api/v1/", include("registry.api.urls")),
    path("api/v1/", include("outcomes.api.urls")),
    path("", include("registry.web_urls")),
]
