"""Plotly figures (plain JSON: data + layout) built from the page's rows, no queries.

The template puts each figure in `<script type="application/json">` and the static
`quality/charts.js` draws it with plotly.js served from the plotly package. When the
dashboards' figure conventions land (issue 10), these builders move onto them.
"""

from __future__ import annotations

from outcomes.quality.presenters import (
    ALL_SITES,
    TIMEPOINT_LABELS,
    CompletenessRow,
    PromRow,
    RuleRow,
)

# Colour-blind-safe (Okabe-Ito), in site order.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
_LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "system-ui, sans-serif", "size": 13},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
}


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def completion_figure(rows: list[CompletenessRow]) -> dict:
    """Recorded / due per timepoint, a bar group per site."""
    sites = [s for s in dict.fromkeys(row.site for row in rows) if s != ALL_SITES]
    data = []
    for i, site in enumerate(sites):
        mine = [row for row in rows if row.site == site]
        data.append(
            {
                "type": "bar",
                "name": site,
                "x": [TIMEPOINT_LABELS.get(row.timepoint, row.timepoint) for row in mine],
                "y": [row.completion_percent for row in mine],
                "customdata": [[row.recorded, row.due] for row in mine],
                "hovertemplate": "%{y:.1f} % (%{customdata[0]} of %{customdata[1]} due)"
                "<extra>%{fullData.name}</extra>",
                "marker": {"color": _colour(i)},
            }
        )
    layout = {
        **_LAYOUT,
        "title": {"text": "Follow-up completion by site and timepoint"},
        "barmode": "group",
        "yaxis": {"title": {"text": "recorded of due (%)"}, "range": [0, 100]},
    }
    return {"data": data, "layout": layout}


def prom_figure(rows: list[PromRow], target: float) -> dict:
    mine = [row for row in rows if row.site != ALL_SITES]
    data = [
        {
            "type": "bar",
            "name": "baseline + follow-up ODI",
            "x": [row.site for row in mine],
            "y": [row.completion_percent for row in mine],
            "marker": {"color": [_colour(i) for i in range(len(mine))]},
            "customdata": [[row.complete, row.eligible] for row in mine],
            "hovertemplate": "%{y:.1f} % (%{customdata[0]} of %{customdata[1]})<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"target {target:g} %",
            "x": [row.site for row in mine],
            "y": [target] * len(mine),
            "line": {"color": "#444", "dash": "dash"},
        },
    ]
    layout = {
        **_LAYOUT,
        "title": {"text": "PROM completion (baseline and follow-up ODI)"},
        "yaxis": {"title": {"text": "patients (%)"}, "range": [0, 100]},
    }
    return {"data": data, "layout": layout}


def missing_items_figure(rules: list[RuleRow], site_names: list[str]) -> dict:
    """Open missing-item findings per rule, stacked by site."""
    missing = [row for row in rules if row.category == "Missing key items"]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": site,
            "y": [row.title for row in missing],
            "x": [row.by_site[i] for row in missing],
            "marker": {"color": _colour(i)},
        }
        for i, site in enumerate(site_names)
    ]
    layout = {
        **_LAYOUT,
        "title": {"text": "Missing key items (open findings)"},
        "barmode": "stack",
        "margin": {**_LAYOUT["margin"], "l": 200},
        "xaxis": {"title": {"text": "records"}},
        "yaxis": {"autorange": "reversed"},
    }
    return {"data": data, "layout": layout}
