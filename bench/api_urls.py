"""The registry's routes plus `bench/bare/<run id>/`: the floor bench_api compares with, a
plain Django view that reads a stored result and returns it as JSON (no auth, no shaping)."""

from django.http import JsonResponse
from django.urls import include, path

from outcomes.models import StatisticsRun


def bare_result(request, pk: int) -> JsonResponse:
    return JsonResponse(StatisticsRun.objects.values_list("result", flat=True).get(pk=pk))


urlpatterns = [
    path("bench/bare/<int:pk>/", bare_result),
    path("", include("registry.urls")),
]
