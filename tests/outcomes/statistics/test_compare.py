import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from outcomes.statistics import (
    ANOVA,
    KRUSKAL,
    MANN_WHITNEY,
    PAIRED_T,
    WELCH_T,
    WILCOXON,
    compare_groups,
    paired_change,
    paired_change_long,
)
from outcomes.statistics.paired import paired_arrays


def strict_json(result) -> dict:
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


# ---------------------------------------------------------------- paired


def test_paired_change_matches_scipy_on_complete_pairs_only():
    rng = np.random.default_rng(11)
    before = pd.Series(rng.normal(9.2, 0.7, 30), index=[f"u{i}" for i in range(30)])
    after = pd.Series(rng.normal(1.8, 1.9, 30), index=before.index)
    before.iloc[[0, 1]] = np.nan  # two patients without a baseline VAS
    after = after.drop(["u5", "u6", "u7"])  # three never came back
    result = paired_change(before, after)

    keep = before.dropna().index.intersection(after.dropna().index)
    b, a = before[keep], after[keep]
    expected = stats.ttest_rel(a, b)
    assert result.test == PAIRED_T
    assert (result.n_paired, result.n_excluded) == (25, 5)
    assert (result.n_missing_before, result.n_missing_after) == (2, 3)
    assert result.mean_diff == pytest.approx((a - b).mean())
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p == pytest.approx(expected.pvalue)
    assert result.df == 24
    low, high = expected.confidence_interval()
    assert (result.ci_low, result.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert result.before.mean == pytest.approx(b.mean())  # described on the same pairs
    twin = stats.wilcoxon(a - b)
    assert result.nonparametric.test == WILCOXON
    assert result.nonparametric.p == pytest.approx(twin.pvalue)
    assert result.nonparametric.statistic == pytest.approx(twin.statistic)
    strict_json(result)


@pytest.mark.parametrize("n", [7, 40, 3000])
def test_paired_wilcoxon_from_the_sorted_differences_is_scipys_bit_for_bit(n):
    """The Wilcoxon input rebuilt from the sorted differences (merged by |d|) gives
    exactly scipy's result on the differences as they come: ties across signs, zeros,
    the exact (small n) and normal (large n) paths."""
    rng = np.random.default_rng(n)
    before = np.round(rng.uniform(0, 10, n), 0)
    after = np.round(before + rng.normal(-1, 2, n), 0)
    after[rng.random(n) < 0.1] = np.nan
    diff = after - before
    complete = diff[~np.isnan(diff)]
    assert (complete == 0).any() and (complete < 0).any() and (complete > 0).any()
    for ordered in (None, np.sort(complete)):
        result = paired_arrays(before, after, diff, ordered_diff=ordered)
        twin = stats.wilcoxon(complete)
        assert result.nonparametric.test == WILCOXON
        assert result.nonparametric.statistic == float(twin.statistic)
        assert result.nonparametric.p == float(twin.pvalue)


def test_paired_change_long_reads_the_column_contract():
    frame = pd.DataFrame(
        {
            "unit_id": ["a", "a", "b", "b", "c", "d"],
            "timepoint": ["baseline", "12w", "baseline", "12w", "baseline", "12w"],
            "value": [9.0, 2.0, 8.0, 3.5, 7.0, 1.0],
        }
    )
    result = paired_change_long(frame, followup="12w")
    assert (result.n_paired, result.n_excluded) == (2, 2)
    assert result.mean_diff == pytest.approx(((2.0 - 9.0) + (3.5 - 8.0)) / 2)
    expected = stats.ttest_rel([2.0, 3.5], [9.0, 8.0])
    assert result.p == pytest.approx(expected.pvalue)


def test_paired_change_long_refuses_duplicate_visits():
    frame = pd.DataFrame(
        {"unit_id": ["a", "a", "a"], "timepoint": ["baseline", "12w", "12w"], "value": [9, 2, 3]}
    )
    with pytest.raises(ValueError, match="more than one value"):
        paired_change_long(frame, followup="12w")


@pytest.mark.parametrize(
    ("before", "after", "note"),
    [
        ([], [], "fewer than 2 complete pairs"),
        ([9.0], [2.0], "fewer than 2 complete pairs"),
        ([9.0, np.nan], [np.nan, 2.0], "fewer than 2 complete pairs"),
        ([9.0, 8.0, 7.0], [8.0, 7.0, 6.0], "zero variance"),  # every patient drops by 1
        ([5.0, 5.0], [5.0, 5.0], "zero variance"),
    ],
)
def test_paired_change_degenerate_input_gives_p_none_and_a_note(before, after, note):
    result = paired_change(pd.Series(before, dtype=float), pd.Series(after, dtype=float))
    assert result.p is None
    assert note in result.note
    strict_json(result)


def test_paired_change_constant_difference_still_reports_the_mean_difference():
    result = paired_change(pd.Series([9.0, 8.0, 7.0]), pd.Series([8.0, 7.0, 6.0]))
    assert result.mean_diff == pytest.approx(-1.0)
    assert result.nonparametric.p == pytest.approx(
        stats.wilcoxon(np.array([-1.0, -1.0, -1.0])).pvalue
    )


def test_wilcoxon_twin_all_zero_differences():
    result = paired_change(pd.Series([5.0, 6.0]), pd.Series([5.0, 6.0]))
    assert result.nonparametric.p is None
    assert "zero" in result.nonparametric.note


# ---------------------------------------------------------------- between groups


@pytest.fixture
def two_groups() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "group": ["VBS"] * 30 + ["PKP"] * 32 + [None, "PVP"],
            "value": np.concatenate([rng.normal(60, 12, 30), rng.normal(55, 8, 32), [50, 40]]),
        }
    ).assign(value=lambda df: df["value"].mask(df.index.isin([3, 40])))


def test_compare_two_groups_is_welch_with_mann_whitney_twin(two_groups):
    result = compare_groups(two_groups, groups=["VBS", "PKP"])
    vbs = two_groups.loc[two_groups.group == "VBS", "value"].dropna()
    pkp = two_groups.loc[two_groups.group == "PKP", "value"].dropna()
    expected = stats.ttest_ind(vbs, pkp, equal_var=False)
    assert result.test == WELCH_T
    assert result.p == pytest.approx(expected.pvalue)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.df == pytest.approx(expected.df)
    assert result.mean_diff == pytest.approx(vbs.mean() - pkp.mean())
    low, high = expected.confidence_interval()
    assert (result.ci_low, result.ci_high) == (pytest.approx(low), pytest.approx(high))
    mw = stats.mannwhitneyu(vbs, pkp, alternative="two-sided")
    assert result.nonparametric.test == MANN_WHITNEY
    assert result.nonparametric.p == pytest.approx(mw.pvalue)
    assert (result.n, result.n_missing, result.n_excluded) == (60, 2, 2)
    assert [g.summary.n for g in result.groups] == [29, 31]
    strict_json(result)


def test_compare_three_groups_is_anova_with_kruskal_twin():
    rng = np.random.default_rng(8)
    samples = {
        "PVP": rng.normal(5, 2, 20),
        "PKP": rng.normal(4, 2, 25),
        "VBS": rng.normal(3, 2, 15),
    }
    frame = pd.concat(
        [pd.DataFrame({"group": g, "value": v}) for g, v in samples.items()], ignore_index=True
    )
    result = compare_groups(frame)
    ordered = [samples[g] for g in sorted(samples)]
    anova = stats.f_oneway(*ordered)
    kruskal = stats.kruskal(*ordered)
    assert result.test == ANOVA
    assert result.p == pytest.approx(anova.pvalue)
    assert result.statistic == pytest.approx(anova.statistic)
    assert (result.df, result.df_within) == (2, 57)
    assert result.mean_diff is None
    assert result.nonparametric.test == KRUSKAL
    assert result.nonparametric.p == pytest.approx(kruskal.pvalue)


def test_compare_groups_with_an_empty_listed_group_falls_back_with_a_note(two_groups):
    result = compare_groups(two_groups, groups=["VBS", "PKP", "VESSELPLASTY"])
    assert result.test == WELCH_T  # only two groups have data
    assert "VESSELPLASTY" in result.note
    assert result.groups[2].summary.n == 0
    strict_json(result)


@pytest.mark.parametrize(
    ("frame", "note"),
    [
        (pd.DataFrame({"group": [], "value": []}), "fewer than 2 groups"),
        (pd.DataFrame({"group": ["A", "A"], "value": [1.0, 2.0]}), "fewer than 2 groups"),
        (pd.DataFrame({"group": ["A", "B", "B"], "value": [1.0, 2.0, 3.0]}), "n < 2"),
        (pd.DataFrame({"group": ["A", "A", "B", "B"], "value": [1.0, 1, 2, 2]}), "zero variance"),
        (
            pd.DataFrame({"group": ["A", "A", "B", "B", "C", "C"], "value": [1.0, 1, 2, 2, 3, 3]}),
            "zero within-group variance",
        ),
        (pd.DataFrame({"group": ["A", "B", "C"], "value": [1.0, 2, 3]}), "degrees of freedom"),
    ],
)
def test_compare_groups_degenerate_input_gives_p_none_and_a_note(frame, note):
    result = compare_groups(frame)
    assert result.p is None
    assert note in result.note
    strict_json(result)


def test_all_identical_values_in_three_groups_give_no_kruskal_p():
    frame = pd.DataFrame({"group": list("AABBCC"), "value": [2.0] * 6})
    result = compare_groups(frame)
    assert result.p is None and result.nonparametric.p is None
    assert "identical" in result.nonparametric.note
