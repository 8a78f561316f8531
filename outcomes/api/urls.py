"""/api/v1/ routes for aggregates, cohorts and runs (issue 9), exports (issue 11) and data
quality (issue 12): each feature adds its router entries here."""

from django.urls import path

from outcomes.exports import api as exports_api
from outcomes.quality.api import views as quality

urlpatterns: list = [
    path("exports/", exports_api.ExportList.as_view(), name="exports-api-list"),
    path("exports/<int:pk>/", exports_api.ExportDetail.as_view(), name="exports-api-detail"),
    path(
        "exports/<int:pk>/download/",
        exports_api.ExportDownload.as_view(),
        name="exports-api-download",
    ),
    path("quality/", quality.QualitySummaryView.as_view(), name="api-quality"),
    path(
        "quality/completeness/",
        quality.CompletenessView.as_view(),
        name="api-quality-completeness",
    ),
    path("quality/findings/", quality.FindingListView.as_view(), name="api-quality-findings"),
    path(
        "quality/findings/<int:pk>/review/",
        quality.FindingReviewView.as_view(),
        name="api-quality-finding-review",
    ),
    path("quality/runs/", quality.RunCreateView.as_view(), name="api-quality-runs"),
    path("quality/runs/<int:pk>/", quality.RunDetailView.as_view(), name="api-quality-run"),
]
