from django.contrib import admin
from django.urls import include, path, re_path

from registry.api import errors as api_errors
from registry.health import healthz
from registry.security_urls import access_log_patterns, account_patterns

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include(account_patterns)),  # before auth.urls: it overrides the reset
    path("accounts/", include("django.contrib.auth.urls")),
    path("access-log/", include(access_log_patterns)),
    path("outcomes/", include("outcomes.urls")),
    path("quality/", include("outcomes.quality.urls")),
    # One API root; records live in registry, aggregates/exports/quality in outcomes.
    path("api/v1/", include("registry.api.urls")),
    path("api/v1/", include("outcomes.api.urls")),
    re_path(r"^api/", api_errors.not_found),
    path("", include("registry.web_urls")),
]
