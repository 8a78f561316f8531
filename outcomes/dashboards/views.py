"""Dashboard pages, their status (polled while recomputing), chart CSVs and the cohort
report. Every view starts with `_board`, which decides who may look, which cohort the URL
means and which stored runs are shown; none of them computes a statistic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from outcomes import services
from outcomes.dashboards import report, results
from outcomes.dashboards.filters import DashboardFilters
from outcomes.dashboards.pages import PAGES, PageSpec, Panel, build
from outcomes.dashboards.palette import technique_colours
from outcomes.dashboards.plotly_css import plotly_css
from outcomes.dashboards.sources import Source, load, stamps
from outcomes.dashboards.viewer import Viewer
from outcomes.suppression import minimum_cell_count
from registry import permissions
from registry.models import Technique

REPORT = "report"
TABLE2_PARAMETERS: dict[str, Any] = {}  # the analysis' defaults: VAS and body height, 12 weeks


@dataclass
class Board:
    viewer: Viewer
    form: DashboardFilters
    sources: list[Source] = field(default_factory=list)

    @property
    def own(self) -> Source | None:
        return self.sources[0] if self.sources else None

    @property
    def recomputing(self) -> bool:
        return any(source.recomputing for source in self.sources)

    def status(self) -> dict[str, Any]:
        return {
            "recomputing": self.recomputing,
            "sources": [source.status() for source in self.sources],
        }


def _board(
    request: HttpRequest,
    analyses: list[tuple[str, dict[str, Any]]],
    *,
    registry_only: bool = False,
    reference: bool = False,
    ask: bool = True,
) -> Board:
    user = request.user
    if not permissions.can_run_statistics(user):
        raise PermissionDenied("Dashboards are for surgeons, coordinators and site administrators.")
    viewer = Viewer.of(user)
    form = DashboardFilters(request.GET, user=user)
    board = Board(viewer, form)
    if not form.is_valid():
        return board
    changed = stamps()

    def source(analysis, parameters, *, with_sites: bool, scope, registry_wide: bool) -> Source:
        filters, rules = form.definition(with_sites=with_sites)
        cohort = form.saved_cohort_if_same(filters, rules) or services.dashboard_cohort(
            user=user, filters=filters, rules=rules
        )
        found = Source(cohort, analysis, scope, dict(parameters), registry_wide=registry_wide)
        return load(
            found,
            user=user,
            changed=changed,
            viewer_scope=viewer.scope,
            ask=ask,
        )

    partial = not viewer.sees_everything
    for analysis, parameters in analyses:
        if registry_only:
            board.sources.append(
                source(
                    analysis,
                    parameters,
                    with_sites=False,
                    scope=viewer.registry,
                    registry_wide=partial,
                )
            )
        else:
            board.sources.append(
                source(
                    analysis, parameters, with_sites=True, scope=viewer.scope, registry_wide=False
                )
            )
    if reference and viewer.wants_reference:
        analysis, parameters = analyses[0]
        board.sources.append(
            source(
                analysis, parameters, with_sites=False, scope=viewer.registry, registry_wide=True
            )
        )
    return board


def _spec(page: str) -> PageSpec:
    try:
        return PAGES[page]
    except KeyError:
        raise Http404("No such dashboard.") from None


def _panels(board: Board, spec: PageSpec) -> tuple[list[Panel], str]:
    """The page's panels, or the friendly message that replaces them."""
    own = board.own
    if own is None or own.result is None:
        return [], ""
    n = results.n_patients(own.result)
    if n == 0:
        return [], "No patient matches these filters yet: widen the filters or pick another cohort."
    if n < minimum_cell_count():
        # A registry-wide count this small is itself a small cell: not printed.
        count = f"Fewer than {minimum_cell_count()}" if own.registry_wide else f"Only {n}"
        return [], (
            f"{count} patient(s) match these filters: too few for figures. Widen the filters "
            "or pick another cohort."
        )
    reference = board.sources[1] if len(board.sources) > 1 else None
    colours = technique_colours(Technique.objects.values_list("code", flat=True))
    return build(spec, own, reference, board.viewer, colours), ""


def _analyses(spec: PageSpec) -> list[tuple[str, dict[str, Any]]]:
    return [(spec.analysis, {})]


def _page_board(request: HttpRequest, spec: PageSpec, **kwargs) -> Board:
    return _board(
        request,
        _analyses(spec),
        registry_only=spec.registry_only,
        reference=spec.reference,
        **kwargs,
    )


def _common(request: HttpRequest, board: Board, active: str) -> dict[str, Any]:
    return {
        "board": board,
        "form": board.form,
        "pages": [*PAGES.values()],
        "active": active,
        "query": request.GET.urlencode(),
        "status_url": reverse("outcomes:dashboard_status", args=[active]),
    }


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if not permissions.can_run_statistics(request.user):
        raise PermissionDenied("Dashboards are for surgeons, coordinators and site administrators.")
    return render(
        request,
        "outcomes/dashboards/index.html",
        {"pages": [*PAGES.values()], "query": request.GET.urlencode()},
    )


@login_required
@require_GET
def page(request: HttpRequest, page: str) -> HttpResponse:
    spec = _spec(page)
    board = _page_board(request, spec)
    panels, message = _panels(board, spec)
    for source in board.sources:
        # once per source, not once per chart it stamps (a tenth of the page's rendering)
        source.stamp = render_to_string("outcomes/dashboards/_stamp.html", {"source": source})
    context = {
        **_common(request, board, spec.slug),
        "spec": spec,
        "panels": panels,
        "message": message,
    }
    return render(request, "outcomes/dashboards/page.html", context)


@login_required
@require_GET
def status(request: HttpRequest, page: str) -> JsonResponse:
    """Polled while recomputing: never queues, never reads a result."""
    if page == REPORT:
        board = _report_board(request, ask=False)
    else:
        board = _page_board(request, _spec(page), ask=False)
    return JsonResponse(board.status())


@login_required
@require_GET
def chart_csv(request: HttpRequest, page: str, key: str) -> HttpResponse:
    spec = _spec(page)
    board = _page_board(request, spec, ask=False)
    panels, _ = _panels(board, spec)
    for panel in panels:
        for chart in panel.charts:
            if chart.key == key and chart.drawable:
                return _download(
                    report.chart_csv(chart.csv_headers, chart.csv_rows).encode(),
                    f"{slugify(chart.key)}.csv",
                    "text/csv; charset=utf-8",
                )
    raise Http404("No such chart.")


# ---------------------------------------------------------------- the cohort report


def _report_board(request: HttpRequest, **kwargs) -> Board:
    return _board(request, [("standard_report", {}), ("table2", TABLE2_PARAMETERS)], **kwargs)


def _report_tables(board: Board) -> list[report.PublicationTable]:
    """Publication tables suppress small cells by default (the house rule), in every
    format: what is printed or downloaded is the suppressed result."""
    tables = []
    summary, prepost = board.sources if len(board.sources) == 2 else (None, None)
    if summary is not None and summary.run is not None:
        shown = summary.shown(suppressed=True)
        tables.append(report.publication_table(results.table1(shown), 1, shown["suppression"]))
    if prepost is not None and prepost.run is not None:
        shown = prepost.shown(suppressed=True)
        for _technique, table in results.table2(shown):
            tables.append(report.publication_table(table, len(tables) + 1, shown["suppression"]))
    return tables


FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@login_required
@require_GET
def cohort_report(request: HttpRequest, fmt: str = "html") -> HttpResponse:
    board = _report_board(request, ask=fmt == "html")
    tables = _report_tables(board)
    n = results.n_patients(board.own.result) if board.own and board.own.result else None
    message = ""
    if n == 0:
        message = "No patient matches these filters yet: widen the filters or pick another cohort."
    elif n is not None and n < minimum_cell_count():
        message = f"Only {n} patient(s) match these filters: too few for a report."
    if fmt == "html":
        context = {
            **_common(request, board, REPORT),
            "tables": [] if message else tables,
            "message": message,
        }
        return render(request, "outcomes/dashboards/report.html", context)
    if fmt not in FORMATS:
        raise Http404("No such format.")
    if message or not tables:
        raise Http404("No stored tables for this cohort yet.")
    heading = f"Cohort report: {board.own.cohort.name}"
    if fmt == "docx":
        content = report.to_docx(tables, heading=heading)
    elif fmt == "xlsx":
        content = report.to_xlsx(tables, heading=heading)
    else:
        content = report.to_csv(tables).encode()
    return _download(content, f"cohort-report.{fmt}", FORMATS[fmt])


@require_GET
@cache_control(max_age=86400, public=True)
def plotly_stylesheet(request: HttpRequest) -> HttpResponse:
    """plotly.js' base CSS as a same-origin stylesheet (see `plotly_css`)."""
    return HttpResponse(plotly_css(), content_type="text/css; charset=utf-8")


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
