"""Complications: leakage rates (Wilson CI), leakage by Yeom type, Clavien-Dindo grades,
device rupture per device."""

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
    scaled,
)
from outcomes.dashboards.results import CountTable, Estimate, RateSet, test_label

# Yeom types are categories, not techniques: a sequential blue-to-orange set that does
# not reuse the technique colours' meaning.
YEOM_COLOURS = {"B": "#56B4E9", "S": "#F0E442", "C": "#D55E00"}
RATE_HEADERS = [
    "Measure",
    "Technique",
    "Events",
    "n",
    "Rate (%)",
    "95% CI low (%)",
    "95% CI high (%)",
]
RATE_HOVER = (
    "<b>%{fullData.name}</b><br>%{x}: %{y:.1f} %"
    "<br>95 % CI %{customdata[2]:.1f} to %{customdata[3]:.1f} %"
    "<br>%{customdata[0]} of n = %{customdata[1]}<extra></extra>"
)


def _rate_rows(rate_set: RateSet) -> list[list]:
    """Withheld rates stay in the table as "<5" and blanks (they are not drawn)."""
    return [
        [
            rate_set.label,
            r.group,
            count_text(r.events, r.mask),
            count_text(r.n, r.mask),
            *(
                ("", "", "")
                if r.withheld
                else (
                    blank(scaled(r.value, 100)),
                    blank(scaled(r.low, 100)),
                    blank(scaled(r.high, 100)),
                )
            ),
        ]
        for r in rate_set.rates
    ]


def _rate_trace(name: str, colour: str, xs: list[str], rates: list[Estimate]) -> dict:
    values = [scaled(r.value, 100) for r in rates]
    return {
        "type": "bar",
        "name": name,
        "x": xs,
        "y": values,
        "marker": {"color": colour},
        "customdata": [
            [r.events, r.n, scaled(r.low, 100) or 0, scaled(r.high, 100) or 0] for r in rates
        ],
        "error_y": error_bars(
            values, [scaled(r.low, 100) for r in rates], [scaled(r.high, 100) for r in rates]
        ),
        "hovertemplate": RATE_HOVER,
    }


def leakage_rates(
    rate_sets: list[RateSet], colours: dict[str, str], techniques: list[str]
) -> Chart:
    """Per patient and per level, a bar per technique (colour) per measure (x)."""
    key, title = "leakage", "Cement leakage by technique"
    if not any(r.n for s in rate_sets for r in s.rates):
        return empty_chart(key, title, "No treated levels in this cohort yet.")
    measures = ["per patient" if s.unit == "patient" else "per treated level" for s in rate_sets]
    data = []
    for technique in techniques:
        rates, xs = [], []
        for measure, rate_set in zip(measures, rate_sets, strict=True):
            found = [r for r in rate_set.rates if r.group == technique and r.n and not r.withheld]
            if found:
                rates.append(found[0])
                xs.append(measure)
        if rates:
            data.append(_rate_trace(technique, colours.get(technique, "#000"), xs, rates))
    chart_layout = layout(
        title, x="Unit of the rate", y="Leakage (%), Wilson 95 % CI", barmode="group"
    )
    return Chart(
        key,
        title,
        figure(key, data, chart_layout),
        RATE_HEADERS,
        [row for s in rate_sets for row in _rate_rows(s)],
        notes=[f"{s.label}: {p_in_words(test_label(s.test), s.p)}." for s in rate_sets],
    )


def leakage_types(table: CountTable) -> Chart:
    """Stacked: share of treated levels with each Yeom type, per technique."""
    key, title = "leakage-types", "Cement leakage by Yeom type (per treated level)"
    # A row with a withheld cell has no total to share by (it would give the cell back).
    totals = [None if None in row else sum(row) for row in table.counts]
    if not any(totals) and not any(None in row for row in table.counts):
        return empty_chart(key, title, "No treated levels in this cohort yet.")
    mask = table.mask
    data, rows = [], []
    for column, category in enumerate(table.categories):
        if category == "none":
            continue
        counts = [row[column] for row in table.counts]
        shares = [
            None if c is None or not t else 100.0 * c / t
            for c, t in zip(counts, totals, strict=True)
        ]
        shown = [
            [count_text(c, mask), count_text(t, mask)] for c, t in zip(counts, totals, strict=True)
        ]
        data.append(
            {
                "type": "bar",
                "name": f"Type {category}",
                "x": table.groups,
                "y": shares,
                "customdata": shown,
                "marker": {"color": YEOM_COLOURS.get(category, "#999999")},
                "hovertemplate": "<b>Type " + category + "</b><br>%{x}: %{y:.1f} % of levels"
                "<br>%{customdata[0]} of n = %{customdata[1]} levels<extra></extra>",
            }
        )
        rows += [[g, category, c, t] for g, (c, t) in zip(table.groups, shown, strict=True)]
    chart_layout = layout(
        title, x="Technique", y="Treated levels with leakage (%)", barmode="stack"
    )
    return Chart(
        key,
        title,
        figure(key, data, chart_layout),
        ["Technique", "Yeom type", "Levels", "Treated levels"],
        rows,
    )


def clavien_dindo(table: CountTable, colours: dict[str, str]) -> Chart:
    key, title = "clavien-dindo", "Adverse events by Clavien-Dindo grade"
    if not any(n for row in table.counts for n in row if n):
        return empty_chart(key, title, "No adverse event has been recorded in this cohort.")
    data, rows = [], []
    for group, counts in zip(table.groups, table.counts, strict=True):
        shown = [count_text(n, table.mask) for n in counts]
        data.append(
            {
                "type": "bar",
                "name": group,
                "x": [f"Grade {c}" for c in table.categories],
                "y": counts,
                "customdata": shown,
                "marker": {"color": colours.get(group, "#000")},
                "hovertemplate": "<b>%{fullData.name}</b><br>%{x}: %{customdata} patients"
                "<extra></extra>",
            }
        )
        rows += [[group, c, n] for c, n in zip(table.categories, shown, strict=True)]
    chart_layout = layout(title, x="Clavien-Dindo grade", y="Patients", barmode="group")
    return Chart(
        key,
        title,
        figure(key, data, chart_layout),
        ["Technique", "Clavien-Dindo grade", "Patients"],
        rows,
    )


def device_rupture(rate_set: RateSet, colours: dict[str, str]) -> Chart:
    key, title = "device-rupture", "Device rupture per device (balloons, stents)"
    applicable = [r for r in rate_set.rates if r.n and not r.withheld]
    if not applicable:
        return empty_chart(key, title, "No balloon or stent was used in this cohort.")
    data = [_rate_trace(r.group, colours.get(r.group, "#000"), [r.group], [r]) for r in applicable]
    chart_layout = layout(
        title, x="Technique", y="Devices ruptured (%), Wilson 95 % CI", showlegend=False
    )
    not_applicable = [r.group for r in rate_set.rates if r.n == 0]
    notes = [f"{p_in_words(test_label(rate_set.test), rate_set.p)}."]
    if not_applicable:
        notes.append(f"Not applicable (no device that can rupture): {', '.join(not_applicable)}.")
    return Chart(
        key, title, figure(key, data, chart_layout), RATE_HEADERS, _rate_rows(rate_set), notes=notes
    )
