"""What each dashboard page shows: which sources it reads and which charts it builds.

A page is a list of `Panel`s (a heading and its charts), each chart built by one builder
from records the adapter (`results`) read out of a stored result. Every result is read
through `Source.shown` (`results.shown`): one that includes patients outside the viewer's
sites is small-cell suppressed before any record is read from it; benchmarking points then
get the viewer's naming rules (`Viewer.label_funnel`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from outcomes.dashboards import figures, results
from outcomes.dashboards.figures import Chart
from outcomes.dashboards.sources import Source
from outcomes.dashboards.viewer import Viewer


@dataclass
class Panel:
    title: str
    charts: list[Chart] = field(default_factory=list)
    intro: str = ""


@dataclass
class PageSpec:
    slug: str
    title: str
    lead: str
    analysis: str
    reference: bool  # adds the registry-wide run as a reference for partial viewers
    build: Callable[..., list[Panel]]
    registry_only: bool = False  # the whole page reads every site (benchmarking)


def _stamp(charts: list[Chart], source: Source, reference: Source | None = None) -> list[Chart]:
    for chart in charts:
        chart.source = source
        if reference is not None and reference.run is not None:
            chart.reference_source = reference
    return charts


def _shown(source: Source | None, viewer: Viewer):
    """The source's result as the viewer may see it (None: no stored result)."""
    if source is None or source.run is None:
        return None
    return source.shown(viewer.scope.site_ids)


def _reference_series(source: Source | None, viewer: Viewer) -> dict[str, results.OutcomeSeries]:
    shown = _shown(source, viewer)
    return {} if shown is None else {item.key: item for item in results.outcome_series(shown)}


def outcomes_page(own: Source, reference: Source | None, viewer: Viewer, colours) -> list[Panel]:
    refs = _reference_series(reference, viewer)
    panels = []
    for series in results.outcome_series(_shown(own, viewer)):
        ref = refs.get(series.key)
        charts = [
            figures.outcome_by_technique(series, colours, ref),
            figures.change_from_baseline(series, colours, ref),
        ]
        panels.append(Panel(series.label, _stamp(charts, own, reference)))
    return panels


def complications_page(own: Source, reference: Source | None, viewer: Viewer, colours):
    data = results.complications(_shown(own, viewer))
    charts = [
        figures.leakage_rates(data.leakage, colours, data.techniques),
        figures.leakage_types(data.leakage_types),
        figures.clavien_dindo(data.clavien_dindo, colours),
        figures.device_rupture(data.device_rupture, colours),
    ]
    panels = [Panel("Complications by technique", _stamp(charts, own))]
    shown = _shown(reference, viewer)
    if shown is not None:
        ref = results.complications(shown)
        chart = figures.leakage_rates(ref.leakage, colours, ref.techniques)
        chart.key, chart.title = "leakage-registry", "Registry-wide reference: cement leakage"
        chart.figure = chart.figure and {
            **chart.figure,
            "layout": {**chart.figure["layout"], "title": {"text": chart.title, "x": 0}},
        }
        panels.append(
            Panel(
                "Registry-wide reference",
                _stamp([chart], reference),
                intro="All sites of the registry, aggregate only; small cells withheld.",
            )
        )
    return panels


def trends_page(own: Source, reference: Source | None, viewer: Viewer, colours) -> list[Panel]:
    shown = _shown(reference, viewer)
    refs = {} if shown is None else {item.key: item for item in results.trends(shown)}
    charts = [
        figures.trend(series, colours, refs.get(series.key))
        for series in results.trends(_shown(own, viewer))
    ]
    return [Panel("By quarter of the procedure date", _stamp(charts, own, reference))]


def benchmarking_page(own: Source, reference: Source | None, viewer: Viewer, colours):
    charts = [
        figures.funnel_plot(viewer.label_funnel(funnel))
        for funnel in results.funnels(_shown(own, viewer))
    ]
    return [Panel("Funnel plots", _stamp(charts, own))]


PAGES: dict[str, PageSpec] = {
    spec.slug: spec
    for spec in (
        PageSpec(
            "outcomes",
            "Outcomes by technique",
            "VAS, ODI, RFVH, vertebral body height and LKA at each timepoint: mean with 95 % "
            "CI per technique, and the change from baseline on complete pairs.",
            "standard_report",
            True,
            outcomes_page,
        ),
        PageSpec(
            "complications",
            "Complications",
            "Cement leakage per patient and per level (Wilson 95 % CI), leakage by Yeom "
            "type, adverse events by Clavien-Dindo grade, device rupture per device.",
            "standard_report",
            True,
            complications_page,
        ),
        PageSpec(
            "trends",
            "Trends over time",
            "Leakage rate and mean VAS improvement to 12 weeks by quarter of the procedure "
            "date, per technique, with 95 % CIs.",
            "trends",
            True,
            trends_page,
        ),
        PageSpec(
            "benchmarking",
            "Benchmarking",
            "Each site (and, at your own site, each surgeon) at its number of patients "
            "against the registry rate, with binomial 95 % and 99.8 % control limits. "
            "A point outside 99.8 % is flagged, not ranked.",
            "benchmarking",
            False,
            benchmarking_page,
            registry_only=True,
        ),
    )
}


def build(spec: PageSpec, own: Source, reference: Source | None, viewer: Viewer, colours) -> Any:
    return spec.build(own, reference, viewer, colours)
