"""/api/v1/ routes for aggregates, cohorts and runs (issue 9), exports (issue 11) and data
quality (issue 12).

To add an endpoint: register a viewset on `router`, or append a `path(...)` to
`urlpatterns` below. Route names carry an `api-` prefix.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from outcomes.api import views
from outcomes.exports import api as exports_api
from outcomes.quality.api import views as quality

router = SimpleRouter()
router.register("cohorts", views.CohortViewSet, basename="api-cohort")

run_list = views.RunViewSet.as_view({"get": "list", "post": "create"})
run_detail = views.RunViewSet.as_view({"get": "retrieve"})
run_result = views.RunViewSet.as_view({"get": "result"})

urlpatterns = [
    path("cohorts/<int:cohort_pk>/runs/", run_list, name="api-run-list"),
    path("cohorts/<int:cohort_pk>/runs/<int:pk>/", run_detail, name="api-run-detail"),
    path("cohorts/<int:cohort_pk>/runs/<int:pk>/result/", run_result, name="api-run-result"),
    path(
        "aggregates/outcomes/", views.OutcomesAggregateView.as_view(), name="api-aggregate-outcomes"
    ),
    path("aggregates/rates/", views.RatesAggregateView.as_view(), name="api-aggregate-rates"),
    path(
        "aggregates/tables/table1/",
        views.Table1AggregateView.as_view(),
        name="api-aggregate-table1",
    ),
    path(
        "aggregates/tables/table2/",
        views.Table2AggregateView.as_view(),
        name="api-aggregate-table2",
    ),
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
    *router.urls,
]
