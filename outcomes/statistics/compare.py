"""Comparison of a continuous outcome between techniques at one timepoint.

House rule (shared/DOMAIN.md): two groups, Welch's t-test (Mann-Whitney U twin); more than
two, one-way ANOVA (Kruskal-Wallis twin). Degenerate data (n < 2, zero variance, empty
groups) give p = None and a note, never an exception, because these run unattended in
background jobs over whatever was entered. The paired (within-technique) comparison lives
in ``paired.py`` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import pandas as pd
from scipy import stats

from ._results import (
    ANOVA,
    KRUSKAL,
    MANN_WHITNEY,
    WELCH_T,
    ResultMixin,
    TestResult,
    clean_float,
    finish_test,
    join_notes,
    run_quietly,
)
from .describe import ContinuousSummary, as_float_series, describe_continuous
from .paired import PairedComparison, paired_change, paired_change_long, to_wide

__all__ = [
    "GroupComparison",
    "GroupSummary",
    "PairedComparison",
    "TestResult",
    "compare_groups",
    "paired_change",
    "paired_change_long",
    "to_wide",
]


@dataclass
class GroupSummary(ResultMixin):
    group: Hashable
    summary: ContinuousSummary


@dataclass
class GroupComparison(ResultMixin):
    """Between-group test at one timepoint; ``mean_diff`` is first minus second group."""

    n: int
    n_missing: int
    n_excluded: int
    groups: list[GroupSummary] = field(default_factory=list)
    test: str | None = None
    statistic: float | None = None
    df: float | None = None
    df_within: float | None = None
    p: float | None = None
    mean_diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    nonparametric: TestResult | None = None
    confidence: float = 0.95
    note: str | None = None


def compare_groups(
    frame: pd.DataFrame,
    *,
    value_col: str = "value",
    group_col: str = "group",
    groups: Sequence[Hashable] | None = None,
    confidence: float = 0.95,
) -> GroupComparison:
    """Welch t (2 groups) or one-way ANOVA (> 2), each with its rank-based twin.

    ``groups`` fixes the order (the first is the reference of ``mean_diff``) and which
    groups count; rows in other groups or without a group are counted in ``n_excluded``.
    """
    order = list(groups) if groups is not None else sorted(frame[group_col].dropna().unique())
    included = frame[frame[group_col].isin(order)]
    values = as_float_series(included[value_col])
    samples = {g: values[included[group_col] == g].dropna() for g in order}
    result = GroupComparison(
        n=int(values.notna().sum()),
        n_missing=int(values.isna().sum()),
        n_excluded=int(len(frame) - len(included)),
        groups=[
            GroupSummary(g, describe_continuous(samples[g], confidence=confidence)) for g in order
        ],
        confidence=confidence,
    )
    empty = [str(g) for g, sample in samples.items() if sample.empty]
    tested = [sample for sample in samples.values() if not sample.empty]
    if empty:
        result.note = f"no data in group(s): {', '.join(empty)}"
    if len(tested) < 2:
        result.note = join_notes(result.note, "fewer than 2 groups with data: no test")
    elif len(tested) == 2:
        _welch(result, *tested)
    else:
        _anova(result, tested)
    return result


def _welch(result: GroupComparison, first: pd.Series, second: pd.Series) -> None:
    result.test = WELCH_T
    result.mean_diff = clean_float(first.mean() - second.mean())
    result.nonparametric = TestResult(test=MANN_WHITNEY, n=int(first.size + second.size))
    mw, warning = run_quietly(stats.mannwhitneyu, first, second, alternative="two-sided")
    finish_test(result.nonparametric, mw.statistic, mw.pvalue, warning)
    if min(first.size, second.size) < 2:
        result.note = join_notes(result.note, "a group has n < 2: Welch t undefined")
        return
    if first.std(ddof=1) == 0 and second.std(ddof=1) == 0:
        result.note = join_notes(result.note, "zero variance in both groups: Welch t undefined")
        return
    ttest, warning = run_quietly(stats.ttest_ind, first, second, equal_var=False)
    low, high = ttest.confidence_interval(confidence_level=result.confidence)
    result.ci_low, result.ci_high = clean_float(low), clean_float(high)
    result.statistic, result.p = clean_float(ttest.statistic), clean_float(ttest.pvalue)
    result.df = clean_float(ttest.df)
    result.note = join_notes(result.note, warning)


def _anova(result: GroupComparison, samples: list[pd.Series]) -> None:
    result.test = ANOVA
    total = sum(sample.size for sample in samples)
    result.nonparametric = TestResult(test=KRUSKAL, n=int(total))
    pooled = pd.concat(samples)
    if pooled.nunique() < 2:
        result.nonparametric.note = "all values identical"
    else:
        kw, warning = run_quietly(stats.kruskal, *samples)
        finish_test(result.nonparametric, kw.statistic, kw.pvalue, warning)
    if total <= len(samples):
        result.note = join_notes(result.note, "no within-group degrees of freedom: ANOVA undefined")
        return
    if all(sample.size < 2 or sample.std(ddof=1) == 0 for sample in samples):
        result.note = join_notes(result.note, "zero within-group variance: ANOVA undefined")
        return
    anova, warning = run_quietly(stats.f_oneway, *samples)
    result.statistic, result.p = clean_float(anova.statistic), clean_float(anova.pvalue)
    result.df, result.df_within = float(len(samples) - 1), float(total - len(samples))
    result.note = join_notes(result.note, warning)
