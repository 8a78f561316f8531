"""Standardised mean differences for Table 1 with two groups (the tableone conventions).

Continuous: Cohen's d with the pooled SD of the two groups, sqrt((SD1² + SD2²) / 2).
Categorical: Yang and Dalton's multi-category SMD (2012), sqrt(T' S⁻¹ T) where T is the
difference of the level proportions (first level dropped) and S their pooled covariance.
Both are reported as absolute values, as tableone prints them. An SMD is an effect size,
not a test: nothing here computes a p-value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._results import clean_float


def continuous_smd(
    mean1: float | None, sd1: float | None, mean2: float | None, sd2: float | None
) -> float | None:
    if None in (mean1, sd1, mean2, sd2):
        return None
    pooled = np.sqrt((sd1**2 + sd2**2) / 2.0)
    if pooled == 0:
        return None
    return clean_float(abs(mean2 - mean1) / pooled)


def categorical_smd(counts1: Sequence[int], counts2: Sequence[int]) -> float | None:
    """Counts per level (same level order) in each group; None when a group is empty."""
    first, second = np.asarray(counts1, dtype=float), np.asarray(counts2, dtype=float)
    if first.sum() == 0 or second.sum() == 0 or first.size < 2:
        return None
    p1, p2 = (first / first.sum())[1:], (second / second.sum())[1:]
    diff = p1 - p2
    covariance = -(np.outer(p1, p1) + np.outer(p2, p2)) / 2.0
    np.fill_diagonal(covariance, (p1 * (1 - p1) + p2 * (1 - p2)) / 2.0)
    if not diff.any():
        return 0.0
    # pinv: a level nobody had in either group makes S singular; it adds nothing to T.
    value = float(diff @ np.linalg.pinv(covariance) @ diff)
    return clean_float(np.sqrt(max(value, 0.0)))
