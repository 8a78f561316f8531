"""Change from baseline within a technique: complete pairs, paired t-test, Wilcoxon twin.

House rule (shared/DOMAIN.md): complete pairs only (n_paired reported, the rest counted as
excluded, never imputed), mean difference with a 95 % CI, paired t-test; Wilcoxon
signed-rank as the non-parametric twin. Degenerate data give p = None and a note.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from .describe import ContinuousSummary, as_float_series, describe_continuous


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
    test: str = PAIRED_T
    mean_diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    statistic: float | None = None
    df: float | None = None
    p: float | None = None
    nonparametric: TestResult | None = None
    confidence: float = 0.95
    note: str | None = None


def paired_change(
    before: pd.Series, after: pd.Series, *, confidence: float = 0.95
) -> PairedComparison:
    """Paired t-test (and Wilcoxon twin) of ``after - before``, aligned on the index (unit id).

    Units lacking either value are excluded, not imputed, and counted in ``n_excluded``.
    """
    if before.index.has_duplicates or after.index.has_duplicates:
        raise ValueError("paired_change needs one value per unit on each side")
    frame = pd.concat(
        [as_float_series(before).rename("before"), as_float_series(after).rename("after")], axis=1
    )
    complete = frame.dropna()
    diff = complete["after"] - complete["before"]
    result = PairedComparison(
        n_paired=len(complete),
        n_excluded=int(len(frame) - len(complete)),
        n_missing_before=int(frame["before"].isna().sum()),
        n_missing_after=int(frame["after"].isna().sum()),
        before=describe_continuous(complete["before"], confidence=confidence),
        after=describe_continuous(complete["after"], confidence=confidence),
        difference=describe_continuous(diff, confidence=confidence),
        confidence=confidence,
    )
    result.mean_diff = result.difference.mean
    result.nonparametric = _wilcoxon(diff)
    if result.n_paired < 2:
        result.note = "fewer than 2 complete pairs: no paired test"
        return result
    if not result.difference.sd:
        result.note = "all paired differences identical (zero variance): t undefined"
        return result
    ttest, warning = run_quietly(stats.ttest_rel, complete["after"], complete["before"])
    low, high = ttest.confidence_interval(confidence_level=confidence)
    result.ci_low, result.ci_high = clean_float(low), clean_float(high)
    result.statistic, result.p = clean_float(ttest.statistic), clean_float(ttest.pvalue)
    result.df = clean_float(ttest.df)
    result.note = join_notes(warning, None if result.p is not None else "no finite p-value")
    return result


def _wilcoxon(diff: pd.Series) -> TestResult:
    """Wilcoxon signed-rank on the differences (zeros dropped: scipy's 'wilcox' default)."""
    result = TestResult(test=WILCOXON, n=int(diff.size))
    if diff.size < 2:
        result.note = "fewer than 2 complete pairs"
        return result
    if (diff == 0).all():
        result.note = "all paired differences are zero"
        return result
    res, warning = run_quietly(stats.wilcoxon, diff)
    return finish_test(result, res.statistic, res.pvalue, warning)


def paired_change_long(
    frame: pd.DataFrame,
    *,
    followup: str,
    baseline: str = "baseline",
    unit_col: str = "unit_id",
    time_col: str = "timepoint",
    value_col: str = "value",
    confidence: float = 0.95,
) -> PairedComparison:
    """``paired_change`` on a long frame (one row per unit per timepoint)."""
    wide = to_wide(frame, unit_col=unit_col, time_col=time_col, value_col=value_col)
    before = wide[baseline] if baseline in wide else pd.Series(index=wide.index, dtype=float)
    after = wide[followup] if followup in wide else pd.Series(index=wide.index, dtype=float)
    return paired_change(before, after, confidence=confidence)


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
