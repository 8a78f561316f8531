"""/api/v1/ routes for aggregates, cohorts and runs (issue 9), exports (issue 11) and data
quality (issue 12): each feature adds its router entries here."""

from django.urls import path

from outcomes.exports import api as exports_api

urlpatterns: list = [
    path("exports/", exports_api.ExportList.as_view(), name="exports-api-list"),
    path("exports/<int:pk>/", exports_api.ExportDetail.as_view(), name="exports-api-detail"),
    path(
        "exports/<int:pk>/download/",
        exports_api.ExportDownload.as_view(),
        name="exports-api-download",
    ),
]
