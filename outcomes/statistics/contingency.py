"""Comparison of a categorical outcome between groups (contingency tables).

House rule (shared/DOMAIN.md): 2x2 tables use Pearson's chi-square WITHOUT continuity
correction, but Fisher's exact test when any expected count is below 5; larger tables use
chi-square with a warning when more than 20 % of expected counts are below 5.
Seed 000 is the worked example: leakage 1/54 vs 6/41 has a smallest expected count of 3.02,
so the rule picks Fisher (p = 0.040) although Pearson would give 5.579 (p = 0.018).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._results import FISHER, PEARSON_CHI2, ResultMixin, clean_float, join_notes, run_quietly
from .categorical import level_labels
from .describe import Levels

MIN_EXPECTED = 5.0
MAX_SHARE_BELOW_MIN = 0.2


@dataclass
class ContingencyResult(ResultMixin):
    """The chosen test (``test``/``statistic``/``p``) and, whenever computable, Pearson's
    chi-square for reference, so a reader can see why Fisher was preferred."""

    n: int
    n_missing: int = 0
    n_excluded: int = 0
    row_labels: list[Any] = field(default_factory=list)
    col_labels: list[Any] = field(default_factory=list)
    observed: list[list[int]] = field(default_factory=list)
    expected: list[list[float]] | None = None
    min_expected: float | None = None
    share_expected_below_5: float | None = None
    test: str | None = None
    statistic_name: str | None = None
    statistic: float | None = None
    df: int | None = None
    p: float | None = None
    pearson_chi2: float | None = None
    pearson_df: int | None = None
    pearson_p: float | None = None
    warning: str | None = None
    note: str | None = None


def compare_counts(
    table: pd.DataFrame | Sequence[Sequence[int]] | np.ndarray,
    *,
    n_missing: int = 0,
    n_excluded: int = 0,
    level_names: Mapping[Hashable, str] | None = None,
) -> ContingencyResult:
    """Apply the house rule to a table of counts (rows = groups, columns = outcome levels).
    ``level_names`` are the words notes use for the levels (never a code on a page).

    Empty rows (a group without data) and empty columns (a level nobody had) are dropped
    with a note: they carry no information and make chi-square's expected counts zero.
    """
    observed = table.copy() if isinstance(table, pd.DataFrame) else pd.DataFrame(np.asarray(table))
    if (observed.to_numpy() < 0).any():
        raise ValueError("counts must be non-negative")
    observed = observed.astype(int)
    result = ContingencyResult(
        n=int(observed.to_numpy().sum()), n_missing=n_missing, n_excluded=n_excluded
    )
    observed = _drop_empty(observed, result, level_names or {})
    result.row_labels, result.col_labels = list(observed.index), list(observed.columns)
    result.observed = observed.to_numpy().tolist()
    if observed.shape[0] < 2 or observed.shape[1] < 2:
        result.note = join_notes(result.note, "fewer than 2 groups or outcome levels: no test")
        return result
    counts = observed.to_numpy()
    expected = stats.contingency.expected_freq(counts)
    result.expected = expected.tolist()
    result.min_expected = clean_float(expected.min())
    result.share_expected_below_5 = clean_float((expected < MIN_EXPECTED).mean())
    chi2, warning = run_quietly(stats.chi2_contingency, counts, correction=False)
    result.pearson_chi2, result.pearson_p = clean_float(chi2.statistic), clean_float(chi2.pvalue)
    result.pearson_df = int(chi2.dof)
    if counts.shape == (2, 2) and expected.min() < MIN_EXPECTED:
        _use_fisher(result, counts)
    else:
        _use_pearson(result, warning)
    return result


def _drop_empty(
    observed: pd.DataFrame, result: ContingencyResult, names: Mapping[Hashable, str]
) -> pd.DataFrame:
    counts = observed.to_numpy()
    rows, cols = counts.sum(axis=1) > 0, counts.sum(axis=0) > 0
    if rows.all() and cols.all():  # the common case: nothing to drop, no pandas indexing
        return observed
    empty_rows = [str(label) for label in observed.index[~rows]]
    empty_cols = [names.get(label, str(label)) for label in observed.columns[~cols]]
    if empty_rows:
        note = f"no observations in group(s): {', '.join(empty_rows)}"
        result.note = join_notes(result.note, note)
    if empty_cols:
        note = f"level(s) never observed: {', '.join(empty_cols)}"
        result.note = join_notes(result.note, note)
    return observed.loc[rows, cols]


def _use_fisher(result: ContingencyResult, counts: np.ndarray) -> None:
    fisher, warning = run_quietly(stats.fisher_exact, counts)
    result.test, result.statistic_name = FISHER, "odds_ratio"
    result.statistic, result.p = clean_float(fisher.statistic), clean_float(fisher.pvalue)
    reason = f"smallest expected count {result.min_expected:.2f} < {MIN_EXPECTED:g}"
    result.note = join_notes(result.note, reason, warning)
    if result.statistic is None:
        result.note = join_notes(result.note, "sample odds ratio infinite (a zero cell)")


def _use_pearson(result: ContingencyResult, warning: str | None) -> None:
    result.test, result.statistic_name = PEARSON_CHI2, "chi2"
    result.statistic, result.p, result.df = result.pearson_chi2, result.pearson_p, result.pearson_df
    result.note = join_notes(result.note, warning)
    share = result.share_expected_below_5 or 0.0
    if share > MAX_SHARE_BELOW_MIN:
        result.warning = (
            f"{share:.0%} of expected counts are below {MIN_EXPECTED:g} (more than "
            f"{MAX_SHARE_BELOW_MIN:.0%}): the chi-square approximation is unreliable; "
            "consider merging categories"
        )


def crosstab(
    frame: pd.DataFrame,
    *,
    value_col: str = "value",
    group_col: str = "group",
    groups: Sequence[Hashable] | None = None,
    levels: Levels = None,
) -> tuple[pd.DataFrame, int, int]:
    """Counts (groups x levels) plus (n_missing, n_excluded).

    Missing values in included groups are n_missing; rows outside ``groups`` (or with no
    group) are n_excluded. Listed groups/levels with no rows stay in, as zero counts.
    """
    order = list(groups) if groups is not None else sorted(frame[group_col].dropna().unique())
    included = frame[frame[group_col].isin(order)]
    values = included[value_col]
    labels = level_labels(values, levels)
    counts = pd.DataFrame(
        [
            [int(((included[group_col] == g) & (values == level)).sum()) for level in labels]
            for g in order
        ],
        index=order,
        columns=list(labels),
    )
    return counts, int(values.isna().sum()), int(len(frame) - len(included))


def compare_categorical(
    frame: pd.DataFrame,
    *,
    value_col: str = "value",
    group_col: str = "group",
    groups: Sequence[Hashable] | None = None,
    levels: Levels = None,
) -> ContingencyResult:
    """Group x outcome table from one row per unit, then the house rule."""
    counts, n_missing, n_excluded = crosstab(
        frame, value_col=value_col, group_col=group_col, groups=groups, levels=levels
    )
    names = level_labels(frame[value_col], levels)
    return compare_counts(counts, n_missing=n_missing, n_excluded=n_excluded, level_names=names)
