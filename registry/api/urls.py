"""/api/v1/ routes for clinical records, the OpenAPI schema and its docs.

Route names carry an `api-` prefix (`api-patient-detail`) so they never meet the pages'.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from registry.api.views import records
from registry.api.views.root import ApiRoot

router = SimpleRouter()
router.register("patients", records.PatientViewSet, basename="api-patient")
router.register("fractures", records.FractureViewSet, basename="api-fracture")
router.register("procedures", records.ProcedureViewSet, basename="api-procedure")
router.register("treated-levels", records.TreatedLevelViewSet, basename="api-treatedlevel")
router.register("visits", records.VisitViewSet, basename="api-visit")
router.register("radiographs", records.RadiographViewSet, basename="api-radiograph")
router.register("adverse-events", records.AdverseEventViewSet, basename="api-adverseevent")

urlpatterns = [
    path("", ApiRoot.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *router.urls,
]
