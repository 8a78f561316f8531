import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from outcomes.statistics import (
    describe_categorical,
    describe_continuous,
    describe_proportion,
    format_mean_sd,
    format_median_iqr,
    format_n_percent,
    format_number,
    format_p,
    format_range,
    format_rate,
)
from outcomes.statistics.categorical import describe_by_group, group_positions, level_labels
from outcomes.statistics.describe import sorted_quartiles, sorted_values


def strict_json(result) -> str:
    """Fails on NaN/Infinity, which the JSON standard (and PostgreSQL jsonb) rejects."""
    return json.dumps(result.to_dict(), allow_nan=False)


def test_format_mean_sd_prints_at_the_variables_precision():
    assert format_mean_sd(9.2, 0.7, decimals=1) == "9.2 ± 0.7"
    assert format_mean_sd(2.78, 0.35, decimals=2) == "2.78 ± 0.35"
    assert format_mean_sd(65.8, 8.2) == "65.8 ± 8.2"
    assert format_mean_sd(3.0, 0.3, decimals=2) == "3.00 ± 0.30"


def test_format_rounds_half_up_on_the_printed_decimal_and_never_prints_minus_zero():
    assert format_number(2.785, 2) == "2.79"  # binary float 2.78499... would give 2.78
    assert format_number(0.125, 2) == "0.13"
    assert format_number(-0.04, 1) == "0.0"
    assert format_number(float("nan"), 1) == ""


def test_format_mean_sd_degenerate_values():
    assert format_mean_sd(None, None) == ""
    assert format_mean_sd(5.0, None) == "5.0"
    assert format_mean_sd(float("nan"), 1.0) == ""


def test_other_formats():
    assert format_n_percent(55, 75) == "55 (73.3%)"
    assert format_n_percent(45, 75) == "45 (60.0%)"
    assert format_n_percent(0, 0) == "0 (\N{EN DASH})"
    assert format_rate(1, 54) == "1/54 (1.9%)"
    assert format_rate(6, 41) == "6/41 (14.6%)"
    assert format_rate(1, 54, decimals=2) == "1/54 (1.85%)"  # seed 000 prints 1.85%
    assert format_range(46, 83) == "46\N{EN DASH}83"
    assert format_median_iqr(9.0, 8.5, 9.55) == "9.0 [8.5, 9.6]"


def test_format_p_uses_three_decimals_and_a_floor_instead_of_zero():
    assert format_p(0.04003475667477678) == "0.040"
    assert format_p(0.0001) == "<0.001"
    assert format_p(0.0) == "<0.001"  # never "0.000", the slip in seed 000
    assert format_p(1.0) == "1.000"
    assert format_p(None) == ""
    assert format_p(float("nan")) == ""


def test_describe_continuous_matches_numpy_and_scipy():
    values = pd.Series([9.1, 8.0, 9.9, np.nan, 10.0, 7.5, 8.8, np.nan, 9.4])
    data = values.dropna().to_numpy()
    summary = describe_continuous(values)
    assert (summary.n, summary.n_missing) == (7, 2)
    assert summary.mean == pytest.approx(np.mean(data))
    assert summary.sd == pytest.approx(np.std(data, ddof=1))
    assert summary.median == pytest.approx(np.median(data))
    assert summary.q1 == pytest.approx(np.percentile(data, 25))
    assert summary.q3 == pytest.approx(np.percentile(data, 75))
    assert (summary.min, summary.max) == (7.5, 10.0)
    low, high = stats.t.interval(0.95, len(data) - 1, loc=data.mean(), scale=stats.sem(data))
    assert (summary.ci_low, summary.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert summary.mean_sd(1) == format_mean_sd(np.mean(data), np.std(data, ddof=1), 1)


def test_describe_continuous_counts_infinite_values_as_missing():
    summary = describe_continuous([1.0, np.inf, 3.0])
    assert (summary.n, summary.n_missing) == (2, 1)


@pytest.mark.parametrize(
    ("values", "n", "note"),
    [
        ([], 0, "no data"),
        ([np.nan, np.nan], 0, "no data"),
        ([4.2], 1, "n < 2"),
        ([3.0, 3.0, 3.0], 3, "identical"),
    ],
)
def test_describe_continuous_degenerate_input_gives_none_and_a_note(values, n, note):
    summary = describe_continuous(pd.Series(values, dtype=float))
    assert summary.n == n
    assert summary.ci_low is None and summary.ci_high is None
    assert note in summary.note
    strict_json(summary)


def test_describe_continuous_rejects_text_in_a_numeric_column():
    with pytest.raises(ValueError):
        describe_continuous(pd.Series(["9.1", "high"]))


def test_describe_proportion_uses_wilson_from_statsmodels():
    result = describe_proportion(1, 54)
    low, high = proportion_confint(1, 54, alpha=0.05, method="wilson")
    assert (result.ci_low, result.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert result.percent == pytest.approx(100 / 54)
    assert result.method == "wilson"
    assert result.rate_text() == "1/54 (1.9%)"


def test_describe_proportion_edge_cases():
    zero = describe_proportion(0, 64)
    assert zero.ci_low == 0.0 and zero.ci_high == pytest.approx(
        proportion_confint(0, 64, method="wilson")[1]
    )
    empty = describe_proportion(0, 0)
    assert empty.proportion is None and empty.note == "denominator is 0"
    strict_json(empty)
    with pytest.raises(ValueError):
        describe_proportion(5, 4)


def test_describe_categorical_orders_levels_and_uses_non_missing_denominators():
    values = pd.Series(["F", "M", None, "F", "F", "X"])
    summary = describe_categorical(values, levels={"F": "Female", "M": "Male"})
    assert (summary.n, summary.n_missing) == (5, 1)
    assert [level.label for level in summary.levels] == ["Female", "Male", "X"]  # X appended
    female = summary.level("F").proportion
    assert (female.count, female.n) == (3, 5)
    low, high = proportion_confint(3, 5, method="wilson")
    assert (female.ci_low, female.ci_high) == (pytest.approx(low), pytest.approx(high))
    strict_json(summary)


def test_describe_categorical_boolean_column():
    summary = describe_categorical(pd.Series([True, False, True, None], dtype="boolean"))
    assert summary.level(True).proportion.n_percent() == "2 (66.7%)"
    assert summary.n_missing == 1


@pytest.mark.parametrize("seed", range(4))
def test_quartiles_from_sorted_values_are_numpys_bit_for_bit(seed):
    """The sorted-array quartiles (shared with the rank tests) equal np.quantile's linear
    ones exactly, for every sample size's index pattern, recorded decimals and ties."""
    rng = np.random.default_rng(seed)
    for n in range(1, 60):
        for values in (rng.normal(50, 20, n), np.round(rng.uniform(0, 10, n), 1)):
            values = values.copy()
            values[rng.random(n) < 0.2] = np.nan
            present = values[~np.isnan(values)]
            ordered = sorted_values(values)
            assert np.array_equal(ordered, np.sort(present))
            if not present.size:
                continue
            expected = np.quantile(present, (0.25, 0.5, 0.75))
            assert np.array_equal(sorted_quartiles(ordered), expected)
            shared = describe_continuous(values, ordered=ordered)
            alone = describe_continuous(values)  # sorts for itself: np.quantile's figures
            assert shared == alone
            assert [alone.q1, alone.median, alone.q3] == expected.tolist()
            assert [alone.min, alone.max] == [present.min(), present.max()]


def test_ordered_of_other_values_is_refused():
    with pytest.raises(ValueError):
        describe_continuous(np.array([1.0, 2.0, np.nan]), ordered=np.array([1.0]))


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["F", "M", None, "M", "F", "M", "F", "F"], dtype="string[pyarrow]"),
        pd.Series([1.0, 2.0, np.nan, 3.0, 1.0, 1.0, 2.0, np.nan]),
        pd.Series([True, False, None, True, True, False, None, True], dtype="boolean"),
    ],
)
def test_describe_by_group_is_describe_categorical_of_each_column(values):
    """One bincount gives what describe_categorical gives the Overall column and each
    group's: counts, missing, every level (also one a group never has), labels."""
    group_at = np.array([0, 1, 1, 0, 2, 2, 0, 1])
    labels = level_labels(values, None)
    overall, *groups = describe_by_group(values, labels, group_at, 3)
    assert overall == describe_categorical(values, levels=labels)
    for position, summary in enumerate(groups):
        assert summary == describe_categorical(values[group_at == position], levels=labels)


def test_group_positions_marks_rows_of_no_group():
    labels = pd.Series(["A", "B", "C", "A"])
    assert group_positions(labels, ["A", "B"], 4).tolist() == [0, 1, -1, 0]
    assert group_positions(None, [], 3).tolist() == [-1, -1, -1]
