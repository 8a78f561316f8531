"""Benchmarking funnel plot: units at their n and rate, the registry rate, and the
binomial 95 % and 99.8 % control limits stored by the benchmarking analysis."""

from __future__ import annotations

from outcomes.dashboards.figures.base import (
    Chart,
    count_text,
    empty_chart,
    figure,
    layout,
    scaled,
)
from outcomes.dashboards.palette import HIGHLIGHT, REFERENCE
from outcomes.dashboards.results import Funnel, FunnelUnit

HOVER = (
    "<b>%{text}</b><br>%{customdata[0]} of n = %{x}: %{y:.1f} %<br>%{customdata[1]}<extra></extra>"
)
SYMBOLS = {"site": "circle", "surgeon": "diamond"}
NAMES = {"site": "Sites", "surgeon": "Surgeons"}


def _verdict(unit: FunnelUnit) -> str:
    if unit.outside998:
        return "outside the 99.8 % limits: flagged"
    if unit.outside95:
        return "outside the 95 % limits"
    return "within the 95 % limits"


def _points(units: list[FunnelUnit], name: str, *, symbol: str, colour: str, size: int) -> dict:
    return {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": [u.n for u in units],
        "y": [scaled(u.rate, 100) for u in units],
        "text": [u.name for u in units],
        "customdata": [[u.events, _verdict(u)] for u in units],
        "hovertemplate": HOVER,
        "marker": {
            "symbol": symbol,
            "size": size,
            "color": colour,
            "line": {"color": "#212529", "width": 1},
        },
    }


def _limit(funnel: Funnel, key: str, name: str, dash: str, *, legend: bool) -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "legendgroup": name,
        "showlegend": legend,
        "x": funnel.limits["n"],
        "y": [scaled(v, 100) for v in funnel.limits[key]],
        "line": {"color": REFERENCE, "dash": dash, "width": 1},
        "hoverinfo": "skip",
    }


def funnel_plot(funnel: Funnel) -> Chart:
    key, title = f"funnel-{funnel.key}", f"{funnel.label}: funnel plot"
    if funnel.blocked:
        return empty_chart(key, title, funnel.blocked)
    shown = [u for u in funnel.units if not u.withheld and u.rate is not None]
    if funnel.rate is None or not shown:
        return empty_chart(key, title, "Too few patients for a funnel plot of this measure.")
    n = funnel.limits["n"]
    centre = {
        "type": "scatter",
        "mode": "lines",
        "name": f"Registry rate {100 * funnel.rate:.1f} %",
        "x": [n[0], n[-1]],
        "y": [100 * funnel.rate] * 2,
        "line": {"color": "#212529", "width": 1.5},
        "hoverinfo": "skip",
    }
    data = [
        centre,
        _limit(funnel, "lower95", "95 % limits", "dash", legend=True),
        _limit(funnel, "upper95", "95 % limits", "dash", legend=False),
        _limit(funnel, "lower998", "99.8 % limits", "dot", legend=True),
        _limit(funnel, "upper998", "99.8 % limits", "dot", legend=False),
    ]
    for level in ("site", "surgeon"):
        others = [u for u in shown if u.level == level and not u.own]
        if others:
            data.append(
                _points(
                    others,
                    NAMES[level],
                    symbol=SYMBOLS[level],
                    colour="#adb5bd" if level == "site" else "#6c757d",
                    size=10,
                )
            )
    own = [u for u in shown if u.own]
    if own:
        data.append(_points(own, "Yours (highlighted)", symbol="star", colour=HIGHLIGHT, size=15))
    as_of = f" by {funnel.as_of}" if funnel.as_of else ""
    chart_layout = layout(
        title,
        x=f"Denominator n ({funnel.unit}s)"
        if not funnel.unit.endswith("closed")
        else f"n (patients whose 1-year window had closed{as_of})",
        y=f"{funnel.label} (%)",
    )
    notes = [
        f"Registry: {funnel.events} of {funnel.n} ({100 * funnel.rate:.1f} %)"
        + (f", data as of {funnel.as_of}" if funnel.as_of else "")
        + ". Limits: binomial at each n (Spiegelhalter 2005). A point outside 99.8 % is "
        "flagged, not ranked."
    ]
    flagged = [u.name for u in shown if u.outside998]
    if flagged:
        notes.append(f"Outside the 99.8 % limits: {', '.join(flagged)}.")
    if funnel.withheld:
        notes.append(
            f"{funnel.withheld} point(s) of other sites withheld (small cells: "
            f"{funnel.mask} events or non-events, or the second cell that protects one)."
        )
    rows = [
        [u.level, u.name, u.events, u.n, scaled(u.rate, 100), u.outside95, u.outside998]
        for u in shown
    ] + [
        [u.level, u.name, count_text(u.events, u.mask), count_text(u.n, u.mask), "", "", ""]
        for u in funnel.units
        if u.withheld
    ]
    return Chart(
        key,
        title,
        figure(key, data, chart_layout),
        ["Level", "Unit", "Events", "n", "Rate (%)", "Outside 95%", "Outside 99.8%"],
        rows,
        notes=notes,
    )
