"""Outcomes by technique: means with 95 % CI per timepoint, and change from baseline."""

from __future__ import annotations

from outcomes.dashboards.figures.base import (
    Chart,
    blank,
    count_text,
    empty_chart,
    error_bars,
    figure,
    layout,
    p_in_words,
)
from outcomes.dashboards.results import (
    Comparison,
    Estimate,
    OutcomeSeries,
    test_label,
    timepoint_label,
)


def _hover(decimals: int, what: str) -> str:
    f = f":.{decimals}f"
    return (
        "<b>%{fullData.name}</b><br>%{x}: " + what + " %{y" + f + "}"
        "<br>95 % CI %{customdata[1]" + f + "} to %{customdata[2]" + f + "}"
        "<br>n = %{customdata[0]}<extra></extra>"
    )


def _traces(
    estimates: list[Estimate],
    groups: list[str],
    xs: list[str],
    colours: dict[str, str],
    *,
    decimals: int,
    what: str,
    reference: bool = False,
) -> list[dict]:
    traces = []
    for group in groups:
        by_x = {e.x: e for e in estimates if e.group == group and not e.withheld}
        shown = [x for x in xs if x in by_x and by_x[x].value is not None]
        if not shown:
            continue
        points = [by_x[x] for x in shown]
        trace = {
            "type": "scatter",
            "mode": "lines+markers",
            "name": f"{group}, registry-wide" if reference else group,
            "legendgroup": group,
            "x": [timepoint_label(x) for x in shown],
            "y": [p.value for p in points],
            "customdata": [[p.n, p.low, p.high] for p in points],
            "hovertemplate": _hover(decimals, what),
            "line": {"color": colours.get(group, "#000000"), "width": 2},
            "marker": {"color": colours.get(group, "#000000"), "size": 7},
        }
        if reference:
            trace["line"] |= {"dash": "dash", "width": 1}
            trace["marker"] |= {"size": 4, "symbol": "circle-open"}
            trace["opacity"] = 0.7
        else:
            trace["error_y"] = error_bars(
                trace["y"], [p.low for p in points], [p.high for p in points]
            )
        traces.append(trace)
    return traces


def _notes(comparisons: list[Comparison], prefix: str) -> list[str]:
    notes = []
    for c in comparisons:
        n = f"n = {c.n}" if c.n is not None else f"n {c.mask}"
        test = (
            "withheld (it would reveal a small cell)"
            if c.withheld
            else p_in_words(test_label(c.test), c.p)
        )
        notes.append(f"{prefix} at {timepoint_label(c.x)} ({n}): {test}.")
    return notes


def _rows(estimates: list[Estimate], scope: str) -> list[list]:
    """Withheld estimates stay in the table, as "<5" and blanks (they are not drawn)."""
    return [
        [
            scope,
            e.group,
            timepoint_label(e.x),
            count_text(e.n, e.mask or "withheld"),
            *(("", "", "") if e.withheld else (blank(e.value), blank(e.low), blank(e.high))),
        ]
        for e in estimates
    ]


def _withheld_note(estimates: list[Estimate], what: str) -> list[str]:
    withheld = [e for e in estimates if e.withheld]
    if not withheld:
        return []
    where = ", ".join(f"{e.group} at {timepoint_label(e.x)}" for e in withheld)
    return [f"Registry-wide {what} withheld (small cells, n {withheld[0].mask}): {where}."]


CSV_HEADERS = ["Scope", "Technique", "Timepoint", "n", "Mean", "95% CI low", "95% CI high"]


def outcome_by_technique(
    series: OutcomeSeries, colours: dict[str, str], reference: OutcomeSeries | None = None
) -> Chart:
    key, title = f"outcome-{series.key}", f"{series.label} by technique"
    if not any(e.n for e in series.values):
        return empty_chart(key, title, f"No {series.label} values in this cohort yet.")
    data = _traces(
        series.values,
        series.groups,
        series.timepoints,
        colours,
        decimals=series.decimals,
        what="mean",
    )
    if reference is not None:
        data += _traces(
            reference.values,
            series.groups,
            series.timepoints,
            colours,
            decimals=series.decimals,
            what="mean",
            reference=True,
        )
    chart = Chart(
        key,
        title,
        figure(key, data, layout(title, x="Timepoint", y=f"{series.label}, mean (95 % CI)")),
        CSV_HEADERS,
        _rows(series.values, "cohort") + (_rows(reference.values, "registry") if reference else []),
        notes=_notes(series.between, "Between techniques")
        + (_withheld_note(reference.values, "means") if reference else []),
    )
    return chart


def change_from_baseline(
    series: OutcomeSeries, colours: dict[str, str], reference: OutcomeSeries | None = None
) -> Chart:
    key = f"change-{series.key}"
    title = f"{series.label}: change from baseline"
    if not any(e.n for e in series.changes):
        return empty_chart(key, title, "No patient has both a baseline and a follow-up value yet.")
    follow_ups = [tp for tp in series.timepoints if tp != "baseline"]
    data = _traces(
        series.changes,
        series.groups,
        follow_ups,
        colours,
        decimals=series.decimals,
        what="mean change",
    )
    if reference is not None:
        data += _traces(
            reference.changes,
            series.groups,
            follow_ups,
            colours,
            decimals=series.decimals,
            what="mean change",
            reference=True,
        )
    zero = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": 0,
        "y1": 0,
        "line": {"color": "#adb5bd", "width": 1},
    }
    chart_layout = layout(
        title, x="Follow-up", y="Mean change from baseline (95 % CI)", shapes=[zero]
    )
    headers = [
        "Scope",
        "Technique",
        "Timepoint",
        "Pairs",
        "Mean change",
        "95% CI low",
        "95% CI high",
    ]
    return Chart(
        key,
        title,
        figure(key, data, chart_layout),
        headers,
        _rows(series.changes, "cohort")
        + (_rows(reference.changes, "registry") if reference else []),
        notes=_notes(series.between_change, "Change compared between techniques")
        + (_withheld_note(reference.changes, "changes") if reference else []),
    )
