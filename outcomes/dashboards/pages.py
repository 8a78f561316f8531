"""What each dashboard page shows: which sources it reads and which charts it builds.

A page is a list of `Panel`s (a heading and its charts), each chart built by one builder
from records the adapter (`results`) read out of a stored result. Registry-wide records
go through small-cell suppression (`cells`) or the viewer's benchmarking rules
(`Viewer.label_funnel`) before a builder sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from outcomes.dashboards import cells, figures, results
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


def _reference_series(source: Source | None) -> dict[str, results.OutcomeSeries]:
    if source is None or source.result is None:
        return {}
    series = results.outcome_series(source.result)
    for item in series:
        cells.withhold_estimates(item.values)
        cells.withhold_estimates(item.changes)
    return {item.key: item for item in series}


def outcomes_page(own: Source, reference: Source | None, viewer: Viewer, colours) -> list[Panel]:
    refs = _reference_series(reference)
    panels = []
    for series in results.outcome_series(own.result):
        ref = refs.get(series.key)
        charts = [
            figures.outcome_by_technique(series, colours, ref),
            figures.change_from_baseline(series, colours, ref),
        ]
        panels.append(Panel(series.label, _stamp(charts, own, reference)))
    return panels


def complications_page(own: Source, reference: Source | None, viewer: Viewer, colours):
    data = results.complications(own.result)
    charts = [
        figures.leakage_rates(data.leakage, colours, data.techniques),
        figures.leakage_types(data.leakage_types),
        figures.clavien_dindo(data.clavien_dindo, colours),
        figures.device_rupture(data.device_rupture, colours),
    ]
    panels = [Panel("Complications by technique", _stamp(charts, own))]
    if reference is not None and reference.result is not None:
        ref = results.complications(reference.result)
        for rate_set in ref.leakage:
            cells.withhold_estimates(rate_set.rates)
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
    refs = {}
    if reference is not None and reference.result is not None:
        for item in results.trends(reference.result):
            cells.withhold_estimates(item.points)
            refs[item.key] = item
    charts = [
        figures.trend(series, colours, refs.get(series.key))
        for series in results.trends(own.result)
    ]
    return [Panel("By quarter of the procedure date", _stamp(charts, own, reference))]


def benchmarking_page(own: Source, reference: Source | None, viewer: Viewer, colours):
    charts = [
        figures.funnel_plot(viewer.label_funnel(funnel)) for funnel in results.funnels(own.result)
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
