from django.urls import path

from outcomes.quality import views

app_name = "quality"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("run/", views.run_create, name="run_create"),
    path("findings/", views.finding_list, name="finding_list"),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("completeness.csv", views.completeness_csv, name="completeness_csv"),
    path("findings.csv", views.findings_csv, name="findings_csv"),
]
