"""Comparison of a continuous outcome between techniques at one timepoint.

House rule (shared/DOMAIN.md): two groups, Welch's t-test (Mann-Whitney U twin); more than
two, one-way ANOVA (Kruskal-Wallis twin). Degenerate data (n < 2, zero variance, empty
groups) give p = None and a note, never an exception, because these run unattended in
background jobs over whatever was entered. The paired (within-technique) comparison lives
in ``paired.py`` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
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
    rank_ready,
    run_quietly,
)
from .categorical import group_codes
from .describe import ContinuousSummary, as_float_array, describe_continuous, has_zero_spread
from .paired import PairedComparison, paired_change, paired_change_long, to_wide

__all__ = [
    "GroupComparison",
    "GroupSummary",
    "PairedComparison",
    "TestResult",
    "compare_groups",
    "compare_samples",
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
    # Group codes (-1: another group or none): one pass, not a comparison per group.
    codes = group_codes(frame[group_col], order)
    values = as_float_array(frame[value_col])
    samples = {g: values[codes == i] for i, g in enumerate(order)}
    return compare_samples(samples, n_excluded=int((codes < 0).sum()), confidence=confidence)


def compare_samples(
    samples: Mapping[Hashable, np.ndarray],
    *,
    n_excluded: int = 0,
    confidence: float = 0.95,
    summaries: Mapping[Hashable, ContinuousSummary] | None = None,
    ordered: Mapping[Hashable, np.ndarray] | None = None,
) -> GroupComparison:
    """The between-group comparison of one array per group (NaN = missing), in order.

    ``test`` names the test that ran, None when none could (never a name beside no p).
    ``summaries``: the groups' summaries when the caller already has them (the same
    values), so that they are not computed twice; ``ordered``: each group's non-missing
    values sorted, when the caller has them (the rank tests take them as they are)."""
    present = {g: sample[~np.isnan(sample)] for g, sample in samples.items()}
    if ordered is None:  # sorted once: the quartiles and the rank tests share it
        ordered = {g: rank_ready(sample) for g, sample in present.items()}
    n = sum(int(sample.size) for sample in present.values())
    total = sum(int(sample.size) for sample in samples.values())
    result = GroupComparison(
        n=n,
        n_missing=total - n,
        n_excluded=n_excluded,
        groups=[
            GroupSummary(
                g,
                summaries[g]
                if summaries is not None
                else describe_continuous(s, confidence=confidence, ordered=ordered[g]),
            )
            for g, s in present.items()
        ],
        confidence=confidence,
    )
    empty = [str(g) for g, sample in present.items() if not sample.size]
    tested = [sample for sample in present.values() if sample.size]
    ranked = [ordered[g] for g, sample in present.items() if sample.size]
    if empty:
        result.note = f"no data in group(s): {', '.join(empty)}"
    if len(tested) < 2:
        result.note = join_notes(result.note, "fewer than 2 groups with data: no test")
    elif len(tested) == 2:
        _welch(result, *tested, ranked=ranked)
    else:
        _anova(result, tested, ranked=ranked)
    return result


def _welch(
    result: GroupComparison, first: np.ndarray, second: np.ndarray, *, ranked: list[np.ndarray]
) -> None:
    result.mean_diff = clean_float(first.mean() - second.mean())
    result.nonparametric = TestResult(test=None, n=int(first.size + second.size))
    if has_zero_spread(np.concatenate([first, second])):
        result.nonparametric.note = "all values identical"
    else:
        mw, warning = run_quietly(stats.mannwhitneyu, *ranked, alternative="two-sided")
        finish_test(result.nonparametric, mw.statistic, mw.pvalue, warning)
        result.nonparametric.test = MANN_WHITNEY if result.nonparametric.p is not None else None
    if min(first.size, second.size) < 2:
        result.note = join_notes(result.note, "a group has n < 2: Welch t undefined")
        return
    if has_zero_spread(first) and has_zero_spread(second):
        result.note = join_notes(result.note, "zero variance in both groups: Welch t undefined")
        return
    ttest, warning = run_quietly(stats.ttest_ind, first, second, equal_var=False)
    low, high = ttest.confidence_interval(confidence_level=result.confidence)
    result.ci_low, result.ci_high = clean_float(low), clean_float(high)
    result.statistic, result.p = clean_float(ttest.statistic), clean_float(ttest.pvalue)
    result.df = clean_float(ttest.df)
    result.test = WELCH_T if result.p is not None else None
    result.note = join_notes(result.note, warning)


def _anova(result: GroupComparison, samples: list[np.ndarray], *, ranked: list[np.ndarray]) -> None:
    total = sum(sample.size for sample in samples)
    result.nonparametric = TestResult(test=None, n=int(total))
    pooled = np.concatenate(samples)
    if has_zero_spread(pooled):
        result.nonparametric.note = "all values identical"
    else:
        kw, warning = run_quietly(stats.kruskal, *ranked)
        finish_test(result.nonparametric, kw.statistic, kw.pvalue, warning)
        result.nonparametric.test = KRUSKAL if result.nonparametric.p is not None else None
    if total <= len(samples):
        result.note = join_notes(result.note, "no within-group degrees of freedom: ANOVA undefined")
        return
    if all(sample.size < 2 or has_zero_spread(sample) for sample in samples):
        result.note = join_notes(result.note, "zero within-group variance: ANOVA undefined")
        return
    anova, warning = run_quietly(stats.f_oneway, *samples)
    result.statistic, result.p = clean_float(anova.statistic), clean_float(anova.pvalue)
    result.df, result.df_within = float(len(samples) - 1), float(total - len(samples))
    result.test = ANOVA if result.p is not None else None
    result.note = join_notes(result.note, warning)
