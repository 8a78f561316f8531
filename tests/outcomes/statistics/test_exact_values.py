"""Defects 1 and 2 of issue 8: rank tests on the recorded decimals, zero variance within a
relative tolerance, and no test named where none ran. Literal data, scipy on exact values."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
from scipy import stats

from outcomes.statistics import Variable, baseline_table, compare_groups, paired_change

# Exact changes: +7.5, +7.5, -7.5, -7.5, then +-0.8 six times: every magnitude tied.
BEFORE = ["1.7", "1.0", "9.2", "8.5", "7.3", "2.2", "3.1", "6.4", "5.5", "4.6", "2.9", "8.8"]
AFTER = ["9.2", "8.5", "1.7", "1.0", "8.1", "1.4", "3.9", "5.6", "6.3", "3.8", "3.7", "8.0"]


def exact_differences(after: list[str], before: list[str]) -> list[float]:
    return [float(Decimal(a) - Decimal(b)) for a, b in zip(after, before, strict=True)]


def test_binary_differences_break_ties_that_exact_ones_keep():
    # The premise: 9.2 - 1.7 and 8.5 - 1.0 are both 7.5, but not in binary floating point.
    assert 1.7 - 9.2 != 1.0 - 8.5
    assert exact_differences(["1.7"], ["9.2"]) == exact_differences(["1.0"], ["8.5"])


def test_wilcoxon_runs_on_the_exact_differences():
    before = pd.Series([float(v) for v in BEFORE])
    after = pd.Series([float(v) for v in AFTER])
    result = paired_change(before, after, decimals=1)
    exact = exact_differences(AFTER, BEFORE)
    assert result.nonparametric.p == stats.wilcoxon(exact).pvalue
    assert result.nonparametric.statistic == stats.wilcoxon(exact).statistic
    assert result.p == stats.ttest_1samp(exact, 0.0).pvalue
    # ... and the binary differences would have given another p-value.
    assert stats.wilcoxon(exact).pvalue == 1.0  # perfectly balanced signed ranks
    assert stats.wilcoxon(after - before).pvalue < 0.75  # binary: ties broken at random


def test_mann_whitney_and_kruskal_see_tied_changes_as_tied():
    before = [float(v) for v in BEFORE]
    after = [float(v) for v in AFTER]
    change = np.round(np.array(after) - np.array(before), 1)
    exact = exact_differences(AFTER, BEFORE)
    assert change.tolist() == exact
    frame = pd.DataFrame({"group": ["A"] * 6 + ["B"] * 6, "value": change})
    result = compare_groups(frame, groups=["A", "B"])
    assert result.nonparametric.p == stats.mannwhitneyu(exact[:6], exact[6:]).pvalue
    three = pd.DataFrame({"group": list("AAAABBBBCCCC"), "value": change})
    assert compare_groups(three).nonparametric.p == (
        stats.kruskal(exact[:4], exact[4:8], exact[8:]).pvalue
    )


def test_sixty_identical_means_have_zero_variance_and_no_test():
    # RFVH means over two vertebrae: (55.1 + 60.2) / 2 in binary is not 57.65.
    naive = (55.1 + 60.2) / 2
    assert naive != 57.65
    values = [naive, 57.65] * 30
    assert 0 < np.std(values, ddof=1) < 1e-12
    frame = pd.DataFrame({"group": ["PKP"] * 30 + ["VBS"] * 30, "value": values})
    result = compare_groups(frame, groups=["PKP", "VBS"])
    assert (result.test, result.p) == (None, None)
    assert "zero variance" in result.note
    assert result.nonparametric.test is None and result.nonparametric.p is None
    assert result.groups[0].summary.sd == 0.0
    paired = paired_change(pd.Series(values[:30]), pd.Series(values[30:]) + 1.0)
    assert (paired.test, paired.p) == (None, None)


def test_table_1_names_no_test_where_none_ran():
    frame = pd.DataFrame(
        {"group": ["PKP"] * 6 + ["VBS"] * 6, "rfvh": [(55.1 + 60.2) / 2, 57.65] * 6}
    )
    table = baseline_table(frame, [Variable("rfvh", "RFVH (%)")], groups=["PKP", "VBS"])
    row = table.row("RFVH (%)", "Mean ± SD")
    assert (row.test, row.p, row.cells["Test"], row.cells["P-value"]) == (None, None, "", "")
