"""Figure builders against literal stored results: no database, no browser."""

import copy
import json

import plotly.graph_objects as go
import pytest

from outcomes.dashboards import figures, results
from outcomes.dashboards.palette import FIXED, technique_colours
from outcomes.dashboards.results import Funnel
from tests.outcomes.dashboards.literals import BENCHMARKING, RATES, TRAJECTORIES, TRENDS

COLOURS = technique_colours(["PKP", "PVP", "VESSELPLASTY", "VBS", "NEW"])


def valid(chart):
    """plotly.py validates every attribute against plotly.js' schema."""
    go.Figure(data=chart.figure["data"], layout=chart.figure["layout"])
    return chart.figure


def test_palette_gives_each_technique_one_colour_whatever_else_is_present():
    assert technique_colours(["PVP"])["PVP"] == technique_colours(["PKP", "PVP"])["PVP"]
    assert technique_colours(["PKP", "NEW"])["NEW"] not in FIXED.values()
    assert len(set(COLOURS.values())) == len(COLOURS)


def test_outcome_chart_has_a_trace_per_technique_with_ci_error_bars_and_n():
    series = results.outcome_series(TRAJECTORIES)[0]
    chart = figures.outcome_by_technique(series, COLOURS)
    figure = valid(chart)
    pkp, pvp = figure["data"]
    assert pkp["name"] == "PKP" and pkp["line"]["color"] == COLOURS["PKP"]
    assert pkp["x"] == ["Baseline", "12 weeks"] and pkp["y"] == [8.5, 2.0]
    assert pkp["error_y"]["array"] == pytest.approx([0.4, 0.4])
    assert pkp["error_y"]["arrayminus"] == pytest.approx([0.4, 0.4])
    assert [row[0] for row in pkp["customdata"]] == [30, 28]
    assert "n = %{customdata[0]}" in pkp["hovertemplate"]
    assert pvp["line"]["color"] == COLOURS["PVP"]
    assert "Between techniques at 12 weeks (n = 31): Welch's t-test, p < 0.001." in chart.notes
    assert chart.csv_rows[0] == ["cohort", "PKP", "Baseline", 30, 8.5, 8.1, 8.9]
    assert figure["config"]["toImageButtonOptions"]["filename"] == "outcome-vas"


def test_registry_reference_is_dashed_and_small_cells_are_withheld():
    series = results.outcome_series(TRAJECTORIES)[0]
    shown = results.shown(copy.deepcopy(TRAJECTORIES), registry_wide=True)
    reference = results.outcome_series(shown)[0]
    chart = figures.outcome_by_technique(series, COLOURS, reference)
    valid(chart)
    refs = [t for t in chart.figure["data"] if t["name"].endswith("registry-wide")]
    assert [t["line"]["dash"] for t in refs] == ["dash", "dash"]
    pvp_ref = next(t for t in refs if t["legendgroup"] == "PVP")
    assert pvp_ref["x"] == ["Baseline"]  # its 12-week mean rests on n = 3: withheld
    assert [c[0] for c in pvp_ref["customdata"]] == [30]
    registry_rows = [r for r in chart.csv_rows if r[0] == "registry"]
    assert ["registry", "PVP", "12 weeks", "<5", "", "", ""] in registry_rows
    assert all(r[3] == "<5" or r[3] >= 5 for r in registry_rows)
    assert any("withheld" in note and "PVP at 12 weeks" in note for note in chart.notes)
    change = figures.change_from_baseline(series, COLOURS, reference)
    assert not any(
        t["name"] == "PVP, registry-wide" for t in change.figure["data"]
    )  # 3 pairs: withheld
    assert ["registry", "PVP", "12 weeks", "<5", "", "", ""] in change.csv_rows


def test_change_chart_plots_follow_ups_only_with_a_zero_line():
    series = results.outcome_series(TRAJECTORIES)[0]
    chart = figures.change_from_baseline(series, COLOURS)
    figure = valid(chart)
    assert [t["x"] for t in figure["data"]] == [["12 weeks"], ["12 weeks"]]
    assert figure["data"][0]["y"] == [-6.5]
    assert figure["layout"]["shapes"][0]["y0"] == 0
    assert (
        "Change compared between techniques at 12 weeks (n = 31): Welch's t-test, p = 0.030."
        in chart.notes
    )


def test_an_outcome_without_values_is_a_message_not_an_empty_axis():
    series = results.outcome_series(TRAJECTORIES)[0]
    for value in series.values:
        value.n = 0
    chart = figures.outcome_by_technique(series, COLOURS)
    assert not chart.drawable and "No VAS back pain values" in chart.empty


def test_leakage_rates_per_patient_and_per_level_with_wilson_ci():
    data = results.complications(RATES)
    chart = figures.leakage_rates(data.leakage, COLOURS, data.techniques)
    figure = valid(chart)
    pvp = figure["data"][0]
    assert pvp["name"] == "PVP" and pvp["marker"]["color"] == COLOURS["PVP"]
    assert pvp["x"] == ["per patient", "per treated level"]
    assert pvp["y"] == pytest.approx([100 * 6 / 41, 14.0])
    assert pvp["error_y"]["arrayminus"][0] == pytest.approx(100 * 6 / 41 - 7.0)
    assert chart.notes[0].endswith("Fisher's exact test, p = 0.040.")
    assert (chart.csv_rows[1][:4]) == [
        "Cement leakage, per patient (any treated level)",
        "VESSELPLASTY",
        1,
        54,
    ]


def test_leakage_types_stack_shares_of_treated_levels():
    chart = figures.leakage_types(results.complications(RATES).leakage_types)
    figure = valid(chart)
    assert figure["layout"]["barmode"] == "stack"
    b = figure["data"][0]
    assert b["name"] == "Type B" and b["y"] == pytest.approx([8.0, 100 / 60])


def test_clavien_dindo_counts_patients_per_grade_per_technique():
    chart = figures.clavien_dindo(results.complications(RATES).clavien_dindo, COLOURS)
    figure = valid(chart)
    assert [t["y"] for t in figure["data"]] == [[2, 0], [0, 1]]
    assert figure["data"][0]["x"] == ["Grade I", "Grade II"]


def test_device_rupture_without_devices_says_so():
    chart = figures.device_rupture(results.complications(RATES).device_rupture, COLOURS)
    assert not chart.drawable and "No balloon or stent" in chart.empty


def test_trend_sorts_quarters_and_shows_percentages():
    leakage, vas = results.trends(TRENDS)
    chart = figures.trend(leakage, COLOURS)
    figure = valid(chart)
    assert figure["data"][0]["x"] == ["2024 Q1", "2024 Q2"]
    assert figure["data"][0]["y"] == pytest.approx([10.0, 25.0])
    assert not figures.trend(vas, COLOURS).drawable


def funnel() -> Funnel:
    return results.funnels(copy.deepcopy(BENCHMARKING))[0]


def test_funnel_draws_limits_centre_and_units():
    data = funnel()
    for unit in data.units:
        unit.name = f"unit {unit.site_id}"
    chart = figures.funnel_plot(data)
    figure = valid(chart)
    names = [t["name"] for t in figure["data"]]
    assert names[:3] == ["Registry rate 20.0 %", "95 % limits", "95 % limits"]
    assert figure["data"][1]["y"] == pytest.approx([0, 12.0, 14.5])
    assert figure["data"][3]["line"]["dash"] == "dot"  # 99.8 %
    sites = next(t for t in figure["data"] if t["name"] == "Sites")
    assert sites["x"] == [150, 100, 50]
    assert "Outside the 99.8 % limits: unit 3." in chart.notes


def test_other_sites_points_are_suppressed_with_a_second_and_own_points_kept():
    shown = results.shown(copy.deepcopy(BENCHMARKING), registry_wide=True, visible_sites={1})
    data = results.funnels(shown)[0]
    by_site = {(u.level, u.site_id, u.surgeon_id): u for u in data.units}
    # site 3 has 3 events; with the registry total shown, site 2 is withheld with it
    for key in (("site", 3, None), ("site", 2, None)):
        assert by_site[key].withheld and by_site[key].events is None
        assert by_site[key].rate is None and by_site[key].n is not None
    assert not by_site[("site", 1, None)].withheld and by_site[("site", 1, None)].events == 30
    assert by_site[("surgeon", 1, 12)].events == 10  # the viewer's own site: as computed
    assert ("surgeon", 2, 21) not in by_site  # another site's surgeons are never shown
    for unit in data.units:
        unit.name = f"unit {unit.site_id}"
    chart = figures.funnel_plot(data)
    drawn = json.dumps(chart.figure)
    assert '"unit 2"' not in drawn and '"unit 3"' not in drawn
    assert [r for r in chart.csv_rows if r[1] == "unit 3"] == [
        ["site", "unit 3", "<5", 50, "", "", ""]
    ]
    assert "as of 2026-06-30" in chart.notes[0]


def test_charts_take_their_words_for_timepoints_and_tests_from_the_one_list():
    """A chart's axis and notes word timepoints and tests as `outcomes.variables` does
    (the registry's TimepointChoice, statistics' test names): short on an axis, the test
    lower-cased inside a sentence where its name starts with a common word."""
    from outcomes import variables
    from outcomes.dashboards import results
    from outcomes.statistics._names import TEST_LABELS
    from registry.models.choices import TimepointChoice

    for code, words in TimepointChoice.choices:
        if code != "unscheduled":
            assert results.timepoint_label(code) == str(words).split(" (")[0]
            assert variables.timepoint_label(code) == str(words)
    assert results.timepoint_label("baseline") == "Baseline"
    for code, words in TEST_LABELS.items():
        assert results.test_label(code).lower() == words.lower()
        assert results.test_label(code)[1:] == words[1:]
    assert results.test_label("paired_t") == "paired t-test"
    assert results.test_label("kruskal_wallis") == "Kruskal-Wallis test"
