import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from outcomes.statistics import FISHER, PEARSON_CHI2, compare_categorical, compare_counts


def strict_json(result) -> dict:
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


def patients(counts: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """One row per patient: {group: (events, n)} -> group, value (bool)."""
    rows = [
        {"group": group, "value": index < events}
        for group, (events, n) in counts.items()
        for index in range(n)
    ]
    return pd.DataFrame(rows)


def test_seed_000_leakage_picks_fisher_because_an_expected_count_is_below_5():
    """1/54 (Vesselplasty) vs 6/41 (PVP): DOMAIN.md's worked example."""
    result = compare_categorical(
        patients({"VESSELPLASTY": (1, 54), "PVP": (6, 41)}),
        groups=["VESSELPLASTY", "PVP"],
        levels=[True, False],
    )
    table = [[1, 53], [6, 35]]
    assert result.observed == table
    assert round(result.min_expected, 2) == 3.02
    assert result.test == FISHER
    assert round(result.p, 3) == 0.040
    assert result.p == pytest.approx(stats.fisher_exact(table).pvalue)
    assert result.statistic == pytest.approx(stats.fisher_exact(table).statistic)
    # Pearson is reported for reference: 5.579, p = 0.018 ...
    chi2 = stats.chi2_contingency(table, correction=False)
    assert round(result.pearson_chi2, 3) == 5.579
    assert round(result.pearson_p, 3) == 0.018
    assert result.pearson_chi2 == pytest.approx(chi2.statistic)
    # ... and the paper's chi-square = 12.214 cannot come from its own counts.
    assert result.pearson_chi2 != pytest.approx(12.214, abs=0.5)
    assert result.n == 95
    strict_json(result)


def test_seed_001_leakage_is_pearson_and_not_significant():
    """4/30 (VBS) vs 10/32 (PKP): all expected counts >= 5, so Pearson without correction."""
    result = compare_counts([[4, 26], [10, 22]])
    expected = stats.chi2_contingency([[4, 26], [10, 22]], correction=False)
    assert result.test == PEARSON_CHI2
    assert result.min_expected == pytest.approx(30 * 14 / 62)  # 6.77
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p == pytest.approx(expected.pvalue)
    assert round(result.statistic, 3) == 2.843
    assert round(result.p, 3) == 0.092
    assert result.p > 0.05  # the paper: P > 0.05
    assert result.df == 1


def test_seed_001_balloon_rupture_is_fisher_and_significant():
    """5/60 vs 0/64 devices: smallest expected count 2.42, Fisher p = 0.024 (paper: P < 0.05)."""
    result = compare_counts([[5, 55], [0, 64]])
    assert result.test == FISHER
    assert round(result.min_expected, 2) == 2.42
    assert result.p == pytest.approx(stats.fisher_exact([[5, 55], [0, 64]]).pvalue)
    assert round(result.p, 3) == 0.024
    assert result.p < 0.05
    assert result.statistic is None  # odds ratio infinite with a zero cell, never inf in JSON
    assert "infinite" in result.note
    strict_json(result)


def test_2x2_without_continuity_correction():
    table = [[20, 30], [35, 15]]
    result = compare_counts(table)
    assert result.test == PEARSON_CHI2
    assert result.p == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue)
    assert result.p != pytest.approx(stats.chi2_contingency(table, correction=True).pvalue)


def test_larger_table_uses_chi2_and_warns_when_expected_counts_are_small():
    table = np.array([[10, 2, 1], [12, 3, 0], [9, 1, 2]])
    result = compare_counts(table)
    expected = stats.chi2_contingency(table, correction=False)
    assert result.test == PEARSON_CHI2
    assert result.p == pytest.approx(expected.pvalue)
    assert result.df == 4
    assert result.share_expected_below_5 == pytest.approx((expected.expected_freq < 5).mean())
    assert "unreliable" in result.warning


def test_larger_table_without_small_expected_counts_has_no_warning():
    table = [[30, 25, 20], [28, 30, 22], [25, 20, 30]]
    result = compare_counts(table)
    assert result.test == PEARSON_CHI2
    assert result.warning is None
    assert result.p == pytest.approx(stats.chi2_contingency(table).pvalue)  # no correction >2x2


def test_categorical_frame_counts_missing_and_excluded_rows():
    frame = pd.DataFrame(
        {
            "group": ["PVP"] * 6 + ["PKP"] * 6 + [None, "VBS"],
            "value": [
                *["wedge", "crush", "wedge", None, "biconcave", "wedge"],
                *["crush", "crush", "wedge", "biconcave", None, "crush"],
                *["wedge", "wedge"],
            ],
        }
    )
    result = compare_categorical(frame, groups=["PVP", "PKP"])
    assert (result.n, result.n_missing, result.n_excluded) == (10, 2, 2)
    assert result.col_labels == ["biconcave", "crush", "wedge"]
    assert result.observed == [[1, 1, 3], [1, 3, 1]]
    assert result.p == pytest.approx(
        stats.chi2_contingency([[1, 1, 3], [1, 3, 1]], correction=False).pvalue
    )


@pytest.mark.parametrize(
    ("table", "note"),
    [
        ([[0, 54], [0, 41]], "never observed"),  # no event at all: nothing to test
        ([[3, 10], [0, 0]], "no observations in group"),
        ([[5, 7]], "fewer than 2 groups"),
        ([[0, 0], [0, 0]], "fewer than 2 groups"),
    ],
)
def test_degenerate_tables_give_p_none_and_a_note(table, note):
    result = compare_counts(table)
    assert result.p is None
    assert note in result.note
    strict_json(result)


def test_listed_group_without_patients_is_dropped_with_a_note():
    frame = patients({"PVP": (3, 20), "PKP": (8, 22)})
    result = compare_categorical(frame, groups=["PVP", "PKP", "VBS"], levels=[True, False])
    assert result.row_labels == ["PVP", "PKP"]
    assert "VBS" in result.note
    assert result.p is not None


def test_negative_counts_are_a_caller_bug():
    with pytest.raises(ValueError):
        compare_counts([[1, -1], [2, 3]])
