"""Trends over time: per quarter of the procedure date, one line per technique."""

from __future__ import annotations

from outcomes.dashboards.figures.base import (
    Chart,
    count_text,
    empty_chart,
    error_bars,
    figure,
    layout,
    scaled,
)
from outcomes.dashboards.results import TrendSeries


def trend(
    series: TrendSeries, colours: dict[str, str], reference: TrendSeries | None = None
) -> Chart:
    key, title = f"trend-{series.key}", f"{series.label}, by quarter"
    percent = series.unit == "proportion"
    factor = 100.0 if percent else 1.0
    y_title = f"{series.label} (%)" if percent else f"{series.label} ({series.unit})"
    if not series.points:
        return empty_chart(key, title, "No procedures with this measure in the chosen period.")
    hover = (
        "<b>%{fullData.name}</b><br>%{x}: %{y:.1f}"
        + (" %" if percent else "")
        + "<br>95 % CI %{customdata[1]:.1f} to %{customdata[2]:.1f}"
        + "<br>n = %{customdata[0]}<extra></extra>"
    )
    data, rows = [], []
    for name, source, is_reference in [(g, series, False) for g in series.groups] + (
        [("registry-wide", reference, True)] if reference else []
    ):
        groups = series.groups if is_reference else [name]
        for group in groups:
            scope = "registry" if is_reference else "cohort"
            withheld = sorted(
                (p for p in source.points if p.group == group and p.withheld), key=lambda p: p.x
            )
            rows += [
                [
                    scope,
                    group,
                    p.x,
                    count_text(p.n, p.mask),
                    count_text(p.events, p.mask),
                    "",
                    "",
                    "",
                ]
                for p in withheld
            ]
            points = [p for p in source.points if p.group == group and not p.withheld]
            points.sort(key=lambda p: p.x)
            if not points:
                continue
            values = [scaled(p.value, factor) for p in points]
            trace = {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{group}, registry-wide" if is_reference else group,
                "legendgroup": group,
                "x": [p.x for p in points],
                "y": values,
                "customdata": [
                    [p.n, scaled(p.low, factor) or 0, scaled(p.high, factor) or 0] for p in points
                ],
                "line": {
                    "color": colours.get(group, "#000"),
                    "dash": "dash" if is_reference else "solid",
                    "width": 1 if is_reference else 2,
                },
                "hovertemplate": hover,
            }
            if not is_reference:
                trace["error_y"] = error_bars(
                    values,
                    [scaled(p.low, factor) for p in points],
                    [scaled(p.high, factor) for p in points],
                )
            data.append(trace)
            rows += [
                [
                    scope,
                    group,
                    p.x,
                    p.n,
                    p.events,
                    scaled(p.value, factor),
                    scaled(p.low, factor),
                    scaled(p.high, factor),
                ]
                for p in points
            ]
    chart_layout = layout(
        title,
        x="Quarter of the procedure date",
        y=y_title,
        xaxis={"type": "category", "categoryorder": "category ascending"},
    )
    return Chart(
        key,
        title,
        figure(key, data, chart_layout),
        ["Scope", "Technique", "Quarter", "n", "Events", "Value", "95% CI low", "95% CI high"],
        rows,
    )
