"""/api/v1/quality/: the page's stored results for REST clients, with the page's scoping.

Authentication and permission are the project's DRF defaults (authenticated users); which
sites a client sees is the registry's visibility rule, as on the page.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outcomes.quality import presenters, selectors, services
from outcomes.quality.api.serializers import (
    FindingSerializer,
    QualityRunRequestSerializer,
    QualityRunSerializer,
    ReviewSerializer,
    RuleSerializer,
)
from outcomes.quality.forms import FindingFilterForm
from outcomes.quality.models import QualityRun
from outcomes.quality.rules import CATEGORIES, RULES
from outcomes.selectors import scope_for
from registry.models import Site

_SITE = OpenApiParameter("site", str, description="A site code: one site instead of all")


def _site(request: Request, code: str | None) -> Site | None:
    if not code:
        return None
    for site in selectors.visible_sites(user=request.user):
        if site.code == code:
            return site
    raise NotFound("No such site.")


def _rules() -> list[dict]:
    return RuleSerializer(
        [
            {
                "code": r.code,
                "title": r.title,
                "description": r.description,
                "severity": str(r.severity),
                "record_type": r.record_type,
                "category": r.category,
            }
            for r in RULES
        ],
        many=True,
    ).data


class QualitySummaryView(APIView):
    """Per site: the latest check, completeness per timepoint, PROM completion, open
    findings per rule; `?site=<code>` for one site."""

    @extend_schema(parameters=[_SITE], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        site = _site(request, request.query_params.get("site"))
        data = selectors.overview(user=request.user, site=site)
        counts: dict[int, dict[str, dict[str, int]]] = {}
        for count in data.counts:
            per_rule = counts.setdefault(count["site_id"], {}).setdefault(count["rule"], {})
            per_rule[count["status"]] = count["n"]
        sites = []
        for s in data.sites:
            result = data.results.get(s.pk)
            sites.append(
                {
                    "site": s.code,
                    "name": s.name,
                    "checked": None
                    if result is None
                    else {
                        "run": result.run_id,
                        "finished_at": result.run.finished_at,
                        "as_of": result.as_of,
                        "data_version": result.data_version,
                    },
                    "completeness": [
                        row.as_dict() for row in presenters.completeness_rows([s], data.results)
                    ],
                    "prom": [row.as_dict() for row in presenters.prom_rows([s], data.results)],
                    "findings": counts.get(s.pk, {}),
                }
            )
        return Response(
            {
                "prom_target_percent": presenters.prom_target(),
                "categories": CATEGORIES,
                "rules": _rules(),
                "sites": sites,
                "active_runs": QualityRunSerializer(data.active_runs, many=True).data,
            }
        )


class CompletenessView(APIView):
    @extend_schema(parameters=[_SITE], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        site = _site(request, request.query_params.get("site"))
        data = selectors.overview(user=request.user, site=site)
        return Response(
            {
                "completeness": [
                    r.as_dict() for r in presenters.completeness_rows(data.sites, data.results)
                ],
                "prom": [r.as_dict() for r in presenters.prom_rows(data.sites, data.results)],
            }
        )


class FindingListView(generics.ListAPIView):
    serializer_class = FindingSerializer

    def get_queryset(self):
        sites = selectors.visible_sites(user=self.request.user)
        form = FindingFilterForm(self.request.query_params or None, sites=sites)
        if self.request.query_params and not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        results = selectors.current_results([s.pk for s in sites])
        rows = selectors.current_findings(results, form.filters()).select_related("site", "patient")
        return selectors.ranked(rows)


class RunCreateView(APIView):
    """POST: queue a check of one site (`{"site": code}`) or of all the user's sites."""

    serializer_class = QualityRunRequestSerializer

    @extend_schema(
        request=QualityRunRequestSerializer,
        responses={200: QualityRunSerializer, 202: QualityRunSerializer},
    )
    def post(self, request: Request) -> Response:
        body = QualityRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        site = _site(request, body.validated_data.get("site"))
        try:
            asked = services.run_request(user=request.user, site=site)
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        code = status.HTTP_202_ACCEPTED if asked.created else status.HTTP_200_OK
        return Response(QualityRunSerializer(asked.run).data, status=code)


class RunDetailView(APIView):
    serializer_class = QualityRunSerializer

    @extend_schema(responses={200: QualityRunSerializer})
    def get(self, request: Request, pk: int) -> Response:
        run = QualityRun.objects.filter(pk=pk).first()
        if run is None or not scope_for(user=request.user).covers(run.scope_sites):
            raise Http404("No such run.")
        return Response(QualityRunSerializer(run).data)


class FindingReviewView(APIView):
    """POST `{"decision": "verified" | "will_correct", "comment": "..."}`: the page's review,
    attributed to the client's user and kept in history."""

    serializer_class = ReviewSerializer

    @extend_schema(request=ReviewSerializer, responses={201: ReviewSerializer})
    def post(self, request: Request, pk: int) -> Response:
        finding = selectors.finding_visible(user=request.user, pk=pk)
        if finding is None:
            raise NotFound("No such finding.")
        body = ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            review = services.finding_review(
                user=request.user, finding=finding, **body.validated_data
            )
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)
