from django.urls import path

from outcomes import views
from outcomes.dashboards import views as dashboards
from outcomes.exports import views as export_views

app_name = "outcomes"

urlpatterns = [
    path("", views.cohort_list, name="cohort_list"),
    path("cohorts/new/", views.cohort_create, name="cohort_create"),
    path("cohorts/<int:pk>/", views.cohort_detail, name="cohort_detail"),
    path("cohorts/<int:pk>/edit/", views.cohort_edit, name="cohort_edit"),
    path("cohorts/<int:pk>/run/<slug:analysis>/", views.run_create, name="run_create"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/status/", views.run_status, name="run_status"),
    path("runs/<int:pk>/result/", views.run_result, name="run_result"),
    path("dashboards/", dashboards.index, name="dashboards"),
    path("dashboards/plotly.css", dashboards.plotly_stylesheet, name="plotly_css"),
    path("dashboards/report/", dashboards.cohort_report, name="dashboard_report"),
    path("dashboards/report.<slug:fmt>", dashboards.cohort_report, name="dashboard_report_file"),
    path("dashboards/<slug:page>/", dashboards.page, name="dashboard"),
    path("dashboards/<slug:page>/status/", dashboards.status, name="dashboard_status"),
    path(
        "dashboards/<slug:page>/csv/<slug:key>/",
        dashboards.chart_csv,
        name="dashboard_chart_csv",
    ),
    path("exports/", export_views.export_list, name="export_list"),
    path("exports/<int:pk>/", export_views.export_detail, name="export_detail"),
    path("exports/<int:pk>/status/", export_views.export_status, name="export_status"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("dictionary/", export_views.dictionary, name="dictionary"),
    path("dictionary.csv", export_views.dictionary_csv, name="dictionary_csv"),
]
