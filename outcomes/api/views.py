"""Cohorts, their statistics runs, and aggregates served from stored runs.

Who may see which cohort or run: `outcomes.selectors` (cohorts_visible_to, run_visible_to,
runs_visible_to), the same helpers the pages use; writes call `outcomes.services`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from outcomes import services
from outcomes.api import aggregates, serializers
from outcomes.api.openapi import aggregate_response, result_response
from outcomes.api.queries import cohort_for_query
from outcomes.api.results import (
    Stored,
    aggregate_etag,
    envelope,
    result_of,
    stored_run,
)
from outcomes.models import RunStatus, StatisticsRun
from outcomes.selectors import (
    cohort_editable_by,
    cohorts_visible_to,
    run_visible_to,
    runs_visible_to,
)
from outcomes.suppression import minimum_cell_count, suppress
from registry.api.conditional import not_modified
from registry.api.permissions import CanRunStatistics, TokenScope

AGGREGATE_CACHED_FOR = 3600  # seconds; a new run or another question is another tag

PENDING = OpenApiResponse(
    serializers.RunPendingSerializer,
    description="No current stored result: a run was started (or is running). Poll Location.",
)


def _run_location(run: StatisticsRun) -> str:
    return reverse("api-run-detail", args=[run.cohort_id, run.pk])


def pending_response(run: StatisticsRun) -> Response:
    body = {
        "detail": "The result is being computed: poll the run at Location.",
        "run": serializers.RunSerializer(run).data,
    }
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": _run_location(run)})


# ------------------------------------------------------------------ cohorts


class CohortViewSet(viewsets.ModelViewSet):
    """Saved cohorts: your own and your site colleagues'. Only the owner changes one."""

    serializer_class = serializers.CohortSerializer
    permission_classes = [TokenScope]
    pagination_class = None
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return cohorts_visible_to(user=self.request.user).select_related("owner").order_by("id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.cohort_create(
            owner=self.request.user,
            name=data["name"],
            description=data.get("description", ""),
            filters=data.get("filters") or {},
            rules=data.get("rules") or {},
            auto_refresh=data.get("auto_refresh", True),
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.update(data.pop("rules", None) or {})
        serializer.instance = services.cohort_update(
            user=self.request.user, cohort=serializer.instance, data=data
        )

    def perform_destroy(self, instance):
        services.cohort_delete(user=self.request.user, cohort=instance)

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not cohort_editable_by(
            user=request.user, cohort=obj
        ):
            raise PermissionDenied("Only the owner may change this cohort.")


# ------------------------------------------------------------------ runs


class RunViewSet(viewsets.ViewSet):
    """A cohort's statistics runs: start one, poll its status and progress, fetch its result."""

    permission_classes = [TokenScope, CanRunStatistics]
    serializer_class = serializers.RunSerializer

    def _cohort(self, cohort_pk):
        cohort = cohorts_visible_to(user=self.request.user).filter(pk=cohort_pk).first()
        if cohort is None:
            raise Http404("No such cohort.")
        return cohort

    def _run(self, cohort_pk, pk, *, with_result=False) -> StatisticsRun:
        runs = StatisticsRun.objects.select_related("cohort")
        if not with_result:
            runs = runs.defer("result")
        run = runs.filter(cohort_id=cohort_pk, pk=pk).first()
        if run is None or not run_visible_to(user=self.request.user, run=run):
            raise Http404("No such statistics run.")
        return run

    @extend_schema(responses=serializers.RunSerializer(many=True))
    def list(self, request, cohort_pk=None):
        runs = runs_visible_to(user=request.user, cohort=self._cohort(cohort_pk))
        return Response(serializers.RunSerializer(runs, many=True).data)

    @extend_schema(
        request=serializers.RunRequestSerializer,
        responses={200: serializers.RunSerializer, 202: PENDING},
    )
    def create(self, request, cohort_pk=None):
        """Start a run (202 + Location); a current result of the same request is reused (200)."""
        cohort = self._cohort(cohort_pk)
        body = serializers.RunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        asked = services.run_request(
            user=request.user,
            cohort=cohort,
            analysis=body.validated_data["analysis"],
            parameters=body.validated_data.get("parameters"),
        )
        run = asked.run
        if run.status == RunStatus.DONE:
            return Response(
                serializers.RunSerializer(run).data, headers={"Location": _run_location(run)}
            )
        return pending_response(run)

    @extend_schema(responses=serializers.RunSerializer)
    def retrieve(self, request, cohort_pk=None, pk=None):
        return Response(serializers.RunSerializer(self._run(cohort_pk, pk)).data)

    @extend_schema(
        responses={
            200: OpenApiResponse(
                result_response(), description="The stored result, small cells withheld."
            ),
            202: PENDING,
            409: OpenApiResponse(description="The run failed: its reason."),
        }
    )
    def result(self, request, cohort_pk=None, pk=None):
        run = self._run(cohort_pk, pk)
        if run.status == RunStatus.FAILED:
            return Response({"detail": run.error}, status=status.HTTP_409_CONFLICT)
        if run.status != RunStatus.DONE:
            return pending_response(run)
        k = minimum_cell_count()
        etag = aggregate_etag(run, "result", k)
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        shown = suppress(result_of(run), analysis=run.analysis, k=k)
        shown["suppression"]["applied"] = True
        return Response(shown, headers={"ETag": etag})


# ------------------------------------------------------------------ aggregates


class AggregateView(APIView):
    """An aggregate cut from a stored run: 200 with the numbers, or 202 + Location while a
    missing or stale result is computed. Never computed inside the request."""

    permission_classes = [TokenScope, CanRunStatistics]
    query_serializer: ClassVar[type]
    analysis: ClassVar[str]

    def parameters(self, query: dict[str, Any]) -> dict[str, Any]:
        return {}

    def shape(self, result: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def get(self, request):
        query_serializer = self.query_serializer(data=request.query_params)
        query_serializer.is_valid(raise_exception=True)
        query = query_serializer.validated_data
        cohort = cohort_for_query(user=request.user, query=query)
        stored: Stored = stored_run(
            user=request.user,
            cohort=cohort,
            analysis=self.analysis,
            parameters=self.parameters(query),
        )
        run = stored.run
        run.cohort = cohort
        if not stored.ready:
            return pending_response(run)
        k = minimum_cell_count()
        etag = aggregate_etag(run, request.path, sorted(query.items()), k, cohort.name)
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        # The tag names the run, the question and k: the body cut for it is the same for
        # every caller who gets this run (one scope), so it is cut once and remembered.
        key = f"outcomes:api:aggregate:{etag}"
        body = cache.get(key)
        if body is None:
            try:
                part = self.shape(result_of(run), query)
            except aggregates.NotInResult:
                raise Http404("This stored result has no such part; run it again.") from None
            shown = suppress(part, analysis=self.analysis, k=k)
            body = envelope(run, shown, query=query)
            cache.set(key, body, AGGREGATE_CACHED_FOR)
        return Response(body, headers={"ETag": etag})


def _aggregate_schema(query, analysis: str):
    return extend_schema(
        parameters=[query],
        responses={
            200: OpenApiResponse(
                aggregate_response(analysis),
                description=f"A result of the {analysis} analysis (the result contract), "
                "narrowed to the query, small cells withheld.",
            ),
            202: PENDING,
        },
    )


class OutcomesAggregateView(AggregateView):
    query_serializer = serializers.OutcomesQuerySerializer
    analysis = "trajectories"  # every outcome in one run: one stored result serves all metrics

    @_aggregate_schema(serializers.OutcomesQuerySerializer, "trajectories")
    def get(self, request):
        """Per technique and timepoint: n, missing, mean, SD, median, quartiles, 95 % CI; the
        change from baseline; the between-technique comparison per timepoint."""
        return super().get(request)

    def shape(self, result, query):
        return aggregates.outcome_result(result, query["metric"])


class RatesAggregateView(AggregateView):
    query_serializer = serializers.RatesQuerySerializer
    analysis = "rates"

    @_aggregate_schema(serializers.RatesQuerySerializer, "rates")
    def get(self, request):
        """Per technique n, events, rate and Wilson 95 % CI, and the comparison."""
        return super().get(request)

    def shape(self, result, query):
        return aggregates.rate_result(result, query["event"], query.get("type"), query["unit"])


class Table1AggregateView(AggregateView):
    query_serializer = serializers.CohortQuerySerializer
    analysis = "table1"

    @_aggregate_schema(serializers.CohortQuerySerializer, "table1")
    def get(self, request):
        """Table 1: baseline characteristics by technique, the test per row."""
        return super().get(request)

    def shape(self, result, query):
        return aggregates.table1_result(result)


class Table2AggregateView(AggregateView):
    query_serializer = serializers.Table2QuerySerializer
    analysis = "table2"

    @_aggregate_schema(serializers.Table2QuerySerializer, "table2")
    def get(self, request):
        """Table 2: before vs follow-up per outcome, overall and by age, sex and region."""
        return super().get(request)

    def parameters(self, query):
        return {key: query[key] for key in ("followup", "age_cut") if key in query}

    def shape(self, result, query):
        return aggregates.table2_result(result)
