"""Change from baseline within a technique: complete pairs, paired t-test, Wilcoxon twin.

House rule (shared/DOMAIN.md): complete pairs only (n_paired reported, the rest counted as
excluded, never imputed), mean difference with a 95 % CI, paired t-test; Wilcoxon
signed-rank as the non-parametric twin. Degenerate data give p = None and a note.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._results import (
    PAIRED_T,
    WILCOXON,
    ResultMixin,
    TestResult,
    clean_float,
    finish_test,
    join_notes,
    run_quietly,
)
from .describe import (
    ContinuousSummary,
    as_float_series,
    describe_continuous,
    has_zero_spread,
    sorted_values,
)


@dataclass
class PairedComparison(ResultMixin):
    """Follow-up minus baseline on complete pairs; ``before``/``after`` describe those pairs."""

    n_paired: int
    n_excluded: int
    n_missing_before: int
    n_missing_after: int
    before: ContinuousSummary
    after: ContinuousSummary
    difference: ContinuousSummary
    test: str | None = PAIRED_T  # None when no paired test could run
    mean_diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    statistic: float | None = None
    df: float | None = None
    p: float | None = None
    nonparametric: TestResult | None = None
    confidence: float = 0.95
    note: str | None = None


def exact_difference(after: np.ndarray, before: np.ndarray, decimals: int | None) -> np.ndarray:
    """after - before on the recorded decimals: 9.2 - 1.7 and 8.5 - 1.0 are both 7.5.

    The binary difference of two values recorded to `decimals` places is off by an ulp or
    so; rounding it back to `decimals` gives the float nearest the exact difference, so
    equal differences are equal floats and rank tests see their ties (DOMAIN.md)."""
    diff = after - before
    return diff if decimals is None else np.round(diff, decimals)


def paired_change(
    before: pd.Series,
    after: pd.Series,
    *,
    confidence: float = 0.95,
    decimals: int | None = None,
) -> PairedComparison:
    """Paired t-test (and Wilcoxon twin) of ``after - before``, aligned on the index (unit id).

    Units lacking either value are excluded, not imputed, and counted in ``n_excluded``.
    ``decimals``: the precision both values are recorded at; differences are exact at it.
    """
    if before.index.has_duplicates or after.index.has_duplicates:
        raise ValueError("paired_change needs one value per unit on each side")
    frame = pd.concat(
        [as_float_series(before).rename("before"), as_float_series(after).rename("after")], axis=1
    )
    b, a = frame["before"].to_numpy(), frame["after"].to_numpy()
    return paired_arrays(b, a, exact_difference(a, b, decimals), confidence=confidence)


def paired_arrays(
    before: np.ndarray,
    after: np.ndarray,
    diff: np.ndarray,
    *,
    confidence: float = 0.95,
    ordered_diff: np.ndarray | None = None,
) -> PairedComparison:
    """The paired comparison from aligned arrays and their exact differences (NaN where a
    side is missing). The t-test runs on the differences (`ttest_1samp`, which is what
    `ttest_rel` computes), so both tests see exactly the differences printed.
    ``ordered_diff``: the complete pairs' differences sorted, when the caller has them."""
    missing_before, missing_after = np.isnan(before), np.isnan(after)
    complete = ~(missing_before | missing_after)
    b, a, d = before[complete], after[complete], diff[complete]
    if ordered_diff is None:  # sorted once: the quartiles and the Wilcoxon input share it
        ordered_diff = sorted_values(d)
    result = PairedComparison(
        n_paired=int(complete.sum()),
        n_excluded=int(complete.size - complete.sum()),
        n_missing_before=int(missing_before.sum()),
        n_missing_after=int(missing_after.sum()),
        before=describe_continuous(b, confidence=confidence),
        after=describe_continuous(a, confidence=confidence),
        difference=describe_continuous(d, confidence=confidence, ordered=ordered_diff),
        test=None,
        confidence=confidence,
    )
    result.mean_diff = result.difference.mean
    result.nonparametric = _wilcoxon(d, ordered_diff)
    if result.n_paired < 2:
        result.note = "fewer than 2 complete pairs: no paired test"
        return result
    if has_zero_spread(d):
        result.note = "all paired differences identical (zero variance): t undefined"
        return result
    ttest, warning = run_quietly(stats.ttest_1samp, d, 0.0)
    low, high = ttest.confidence_interval(confidence_level=confidence)
    result.ci_low, result.ci_high = clean_float(low), clean_float(high)
    result.statistic, result.p = clean_float(ttest.statistic), clean_float(ttest.pvalue)
    result.df = clean_float(ttest.df)
    result.test = PAIRED_T if result.p is not None else None
    result.note = join_notes(warning, None if result.p is not None else "no finite p-value")
    return result


def _by_magnitude(ordered: np.ndarray) -> np.ndarray:
    """Sorted values re-sorted by |value|: the negatives reversed and the rest are two
    sorted runs of |value|, which a stable argsort (timsort) merges in one pass, where
    sorting |d| from scratch costs two and a half times as much."""
    negatives = int(np.searchsorted(ordered, 0.0, side="left"))
    runs = np.concatenate((ordered[:negatives][::-1], ordered[negatives:]))
    return runs[np.argsort(np.abs(runs), kind="stable")]


def _wilcoxon(diff: np.ndarray, ordered: np.ndarray) -> TestResult:
    """Wilcoxon signed-rank on the differences (zeros dropped: scipy's 'wilcox' default),
    given them sorted (``ordered``). ``test`` names the test only when it ran."""
    result = TestResult(test=None, n=int(diff.size))
    if diff.size < 2:
        result.note = "fewer than 2 complete pairs"
        return result
    if (diff == 0).all():
        result.note = "all paired differences are zero"
        return result
    # Ordered by |d| as rank_ready would (the statistic depends only on ranks and signs).
    res, warning = run_quietly(stats.wilcoxon, _by_magnitude(ordered))
    finish_test(result, res.statistic, res.pvalue, warning)
    result.test = WILCOXON if result.p is not None else None
    return result


def paired_change_long(
    frame: pd.DataFrame,
    *,
    followup: str,
    baseline: str = "baseline",
    unit_col: str = "unit_id",
    time_col: str = "timepoint",
    value_col: str = "value",
    confidence: float = 0.95,
    decimals: int | None = None,
) -> PairedComparison:
    """``paired_change`` on a long frame (one row per unit per timepoint)."""
    wide = to_wide(frame, unit_col=unit_col, time_col=time_col, value_col=value_col)
    before = wide[baseline] if baseline in wide else pd.Series(index=wide.index, dtype=float)
    after = wide[followup] if followup in wide else pd.Series(index=wide.index, dtype=float)
    return paired_change(before, after, confidence=confidence, decimals=decimals)


def to_wide(
    frame: pd.DataFrame,
    *,
    unit_col: str = "unit_id",
    time_col: str = "timepoint",
    value_col: str = "value",
) -> pd.DataFrame:
    """Units as rows, timepoints as columns. Two values for one unit at one timepoint is a
    selector bug (a duplicated visit), so it raises instead of being averaged away."""
    duplicated = frame.duplicated([unit_col, time_col])
    if duplicated.any():
        examples = frame.loc[duplicated, [unit_col, time_col]].head(3).values.tolist()
        raise ValueError(f"more than one value per unit and timepoint, e.g. {examples}")
    return frame.pivot(index=unit_col, columns=time_col, values=value_col)
