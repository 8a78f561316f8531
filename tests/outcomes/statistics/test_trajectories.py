import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from outcomes.statistics import (
    PAIRED_T,
    TIMEPOINTS,
    WELCH_T,
    change_from_baseline,
    compare_change_by_timepoint,
    compare_groups_by_timepoint,
    summarise_by_timepoint,
    trajectory,
)

GROUPS = ["VESSELPLASTY", "PVP"]


def values(frame: pd.DataFrame, group: str, timepoint: str) -> pd.Series:
    selected = frame[(frame.group == group) & (frame.timepoint == timepoint)]
    return selected.set_index("unit_id")["value"]


def test_summaries_reproduce_seed_000_rfvh(genant3_rfvh):
    summaries = summarise_by_timepoint(genant3_rfvh, groups=GROUPS)
    printed = {(s.group, s.timepoint): s.summary.mean_sd(2) for s in summaries}
    assert printed[("VESSELPLASTY", "baseline")] == "55.93 ± 9.61"
    assert printed[("VESSELPLASTY", "2w")] == "82.11 ± 8.32"
    assert printed[("VESSELPLASTY", "1y")] == "81.02 ± 7.43"
    assert printed[("PVP", "baseline")] == "56.01 ± 3.54"
    assert printed[("PVP", "2w")] == "56.29 ± 9.85"
    assert printed[("PVP", "1y")] == "56.13 ± 9.15"
    assert printed[("PVP", "12w")] == ""  # no 12-week visit in seed 000: an empty cell
    assert len(summaries) == len(GROUPS) * len(TIMEPOINTS)


def test_change_from_baseline_is_paired_per_group_and_timepoint(genant3_rfvh):
    changes = {(c.group, c.timepoint): c.change for c in change_from_baseline(genant3_rfvh)}
    assert set(changes) == {(g, t) for g in GROUPS for t in ("2w", "12w", "1y")}
    for group in GROUPS:
        before, after = values(genant3_rfvh, group, "baseline"), values(genant3_rfvh, group, "1y")
        expected = stats.ttest_rel(after, before)
        change = changes[(group, "1y")]
        assert change.test == PAIRED_T
        assert change.p == pytest.approx(expected.pvalue)
        assert change.mean_diff == pytest.approx((after - before).mean())
        assert change.n_paired == len(before)
    assert changes[("VESSELPLASTY", "2w")].mean_diff == pytest.approx(82.11 - 55.93)
    assert changes[("VESSELPLASTY", "2w")].p < 0.001
    no_visit = changes[("PVP", "12w")]
    assert no_visit.n_paired == 0 and no_visit.p is None and no_visit.n_missing_after == 41


def test_between_group_test_per_timepoint(genant3_rfvh):
    comparisons = {
        c.timepoint: c.comparison for c in compare_groups_by_timepoint(genant3_rfvh, groups=GROUPS)
    }
    for timepoint in ("baseline", "2w", "1y"):
        first = values(genant3_rfvh, "VESSELPLASTY", timepoint)
        second = values(genant3_rfvh, "PVP", timepoint)
        expected = stats.ttest_ind(first, second, equal_var=False)
        assert comparisons[timepoint].test == WELCH_T
        assert comparisons[timepoint].p == pytest.approx(expected.pvalue)
        assert comparisons[timepoint].mean_diff == pytest.approx(first.mean() - second.mean())
    assert comparisons["baseline"].p > 0.05  # comparable before treatment (55.93 vs 56.01)
    assert comparisons["2w"].p < 0.001
    assert comparisons["12w"].p is None and "fewer than 2 groups" in comparisons["12w"].note


def test_between_group_test_of_the_change(genant3_rfvh):
    result = {
        c.timepoint: c.comparison for c in compare_change_by_timepoint(genant3_rfvh, groups=GROUPS)
    }
    deltas = [values(genant3_rfvh, g, "1y") - values(genant3_rfvh, g, "baseline") for g in GROUPS]
    expected = stats.ttest_ind(*deltas, equal_var=False)
    assert result["1y"].test == WELCH_T
    assert result["1y"].p == pytest.approx(expected.pvalue)
    assert result["1y"].n_missing == 0


def test_missing_visits_are_excluded_pairwise(genant3_rfvh):
    frame = genant3_rfvh.copy()
    missing = frame.index[(frame.group == "PVP") & (frame.timepoint == "1y")][:6]
    frame.loc[missing, "value"] = np.nan  # six PVP patients did not come at one year
    dropped = frame.index[(frame.group == "PVP") & (frame.timepoint == "baseline")][-2:]
    frame = frame.drop(dropped)  # two others have no baseline row at all
    change = next(
        c.change for c in change_from_baseline(frame) if (c.group, c.timepoint) == ("PVP", "1y")
    )
    assert (change.n_paired, change.n_excluded) == (33, 8)
    at_1y = next(
        c.comparison
        for c in compare_groups_by_timepoint(frame, groups=GROUPS)
        if c.timepoint == "1y"
    )
    assert (at_1y.n, at_1y.n_missing) == (54 + 35, 6)


def test_trajectory_bundles_everything_as_strict_json(genant3_rfvh):
    extra = pd.DataFrame({"unit_id": ["x"], "group": ["PVP"], "timepoint": ["6m"], "value": [50.0]})
    result = trajectory(pd.concat([genant3_rfvh, extra]), groups=GROUPS)
    assert result.n_units == 95 and result.n_excluded == 1  # "6m" is not a registry timepoint
    assert len(result.summaries) == 8 and len(result.changes) == 6
    assert {c.of for c in result.comparisons} == {"value", "change"}
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["groups"] == GROUPS


def test_custom_column_names(genant3_rfvh):
    renamed = genant3_rfvh.rename(
        columns={"unit_id": "patient", "group": "technique", "timepoint": "visit", "value": "rfvh"}
    )
    changes = change_from_baseline(
        renamed, unit_col="patient", group_col="technique", time_col="visit", value_col="rfvh"
    )
    reference = change_from_baseline(genant3_rfvh)
    assert [c.change.p for c in changes] == [c.change.p for c in reference]
