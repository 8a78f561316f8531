"""Plotly figures (plain JSON: data + layout) built from the page's rows, no queries.

The dashboards' conventions: the template puts each figure in `<script type="application/json">`
and `outcomes/static/outcomes/dashboards.js` draws every `[data-figure]` with plotly.js served
from the plotly package; colours are the dashboards' Okabe-Ito palette.
"""

from __future__ import annotations

from outcomes.dashboards.palette import OKABE_ITO, REFERENCE
from outcomes.quality.presenters import (
    ALL_SITES,
    TIMEPOINT_LABELS,
    CompletenessRow,
    PromRow,
    RuleRow,
)

# Colour-blind-safe (Okabe-Ito), in site order.
PALETTE = OKABE_ITO
_LAYOUT = {
    "height": 360,
    "autosize": True,
    "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "system-ui, sans-serif", "size": 13},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
}


CONFIG = {"displaylogo": False, "responsive": True}


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
    return {"data": data, "layout": layout, "config": CONFIG}


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
            "line": {"color": REFERENCE, "dash": "dash"},
        },
    ]
    layout = {
        **_LAYOUT,
        "title": {"text": "PROM completion (baseline and follow-up ODI)"},
        "yaxis": {"title": {"text": "patients (%)"}, "range": [0, 100]},
    }
    return {"data": data, "layout": layout, "config": CONFIG}


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
    return {"data": data, "layout": layout, "config": CONFIG}
