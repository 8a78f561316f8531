"""Descriptive statistics and the text formats the registry prints.

House rules (shared/DOMAIN.md): continuous variables get n, missing, mean, SD, median,
Q1, Q3, min, max and a t-based 95 % CI of the mean, shown as "mean ± SD" at the variable's
precision; categorical variables get n (%) with a Wilson 95 % CI.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from ._results import ResultMixin, clean_float
from .formatting import (  # noqa: F401 - re-exported: the formats belong with the summaries
    format_mean_sd,
    format_median_iqr,
    format_n_percent,
    format_number,
    format_p,
    format_range,
    format_rate,
)

Levels = Sequence[Hashable] | Mapping[Hashable, str] | None


# ---------------------------------------------------------------- continuous


@dataclass
class ContinuousSummary(ResultMixin):
    """Summary of one continuous variable; statistics are None when undefined."""

    n: int
    n_missing: int
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    min: float | None = None
    max: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float = 0.95
    note: str | None = None

    def mean_sd(self, decimals: int = 1) -> str:
        return format_mean_sd(self.mean, self.sd, decimals)

    def median_iqr(self, decimals: int = 1) -> str:
        return format_median_iqr(self.median, self.q1, self.q3, decimals)

    def range_text(self, decimals: int = 0) -> str:
        return format_range(self.min, self.max, decimals)


def as_float_series(values: pd.Series | Sequence[float] | np.ndarray) -> pd.Series:
    """Numeric series with non-finite values turned into NaN (they count as missing).

    Non-numeric text raises: a string in a numeric column is a caller bug, not missing data.
    """
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    numeric = pd.to_numeric(series, errors="raise").astype(float)
    return numeric.where(np.isfinite(numeric))


def as_float_array(values: pd.Series | Sequence[float] | np.ndarray) -> np.ndarray:
    """A float64 array, non-finite values as NaN (a float array passes through cheaply)."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        array = values
    elif isinstance(values, pd.Series) and values.dtype == np.float64:
        array = values.to_numpy()
    else:
        array = as_float_series(values).to_numpy(dtype=float)
    if not np.isfinite(array).all():
        array = np.where(np.isfinite(array), array, np.nan)
    return array


# "Zero variance" is zero within this tolerance relative to the size of the values: the
# SD of 60 identical means of two vertebrae comes out as 1.4e-14, not 0 (DOMAIN.md).
ZERO_SPREAD_RTOL = 1e-9


def has_zero_spread(data: np.ndarray, sd: float | None = None) -> bool:
    """True when the non-missing values are all equal up to the relative tolerance."""
    if data.size < 2:
        return True
    if sd is None:
        sd = float(data.std(ddof=1))
    scale = float(np.abs(data).max())
    return sd <= ZERO_SPREAD_RTOL * scale or scale == 0.0


@functools.lru_cache(maxsize=4096)
def t_quantile(q: float, df: int) -> float:
    """scipy's t quantile, remembered: a report asks for the same few hundred (q, df) pairs,
    and each call through scipy's distribution machinery costs far more than the value."""
    return float(stats.t.ppf(q, df))


_QUARTILES = np.array([0.25, 0.5, 0.75])


def sorted_values(array: np.ndarray) -> np.ndarray:
    """The non-missing values of a float array, sorted (NaN sorts last and is cut off)."""
    ordered = np.sort(array)
    return ordered[: ordered.size - int(np.isnan(ordered).sum())]


def sorted_quartiles(ordered: np.ndarray) -> np.ndarray:
    """Q1, median, Q3 of sorted values exactly as `np.quantile(..., method="linear")`
    computes them (its virtual index, floor/ceiling and `_lerp`, the same float
    operations), without its partition: the caller sorted once for the rank tests too."""
    n = ordered.size
    index = n * _QUARTILES + (1 - _QUARTILES) - 1  # numpy's linear virtual index
    below = np.floor(index)
    t = index - below
    low = below.astype(np.intp)
    a, b = ordered[low], ordered[np.minimum(low + 1, n - 1)]
    diff = b - a
    out = a + diff * t
    np.subtract(b, diff * (1 - t), out=out, where=t >= 0.5)
    return out


def describe_continuous(
    values: pd.Series | Sequence[float] | np.ndarray,
    *,
    confidence: float = 0.95,
    ordered: np.ndarray | None = None,
) -> ContinuousSummary:
    """n, missing, mean, SD (ddof=1), median, Q1/Q3 (linear, as R and pandas), range, t CI.

    Computed with numpy on one array: this runs hundreds of times per report.
    ``ordered``: the same non-missing values sorted, when the caller has them (shared with
    the rank tests); the mean and SD are still summed in the values' own order.
    """
    array = as_float_array(values)
    data = array[~np.isnan(array)]
    n, n_missing = int(data.size), int(array.size - data.size)
    if n == 0:
        return ContinuousSummary(n=0, n_missing=n_missing, confidence=confidence, note="no data")
    if ordered is None:
        # numpy's SIMD sort and three lookups cost a quarter of np.quantile's partitions
        # (tens of thousands of values), with the same figures: see sorted_quartiles.
        ordered = np.sort(data)
    elif ordered.size != n:
        raise ValueError("ordered must hold the same non-missing values, sorted")
    q1, median, q3 = sorted_quartiles(ordered)
    low, high = ordered[0], ordered[-1]
    mean = float(data.mean())
    summary = ContinuousSummary(
        n=n,
        n_missing=n_missing,
        mean=clean_float(mean),
        median=clean_float(median),
        q1=clean_float(q1),
        q3=clean_float(q3),
        min=clean_float(low),
        max=clean_float(high),
        confidence=confidence,
    )
    if n < 2:
        summary.note = "n < 2: SD and confidence interval undefined"
        return summary
    sd = float(data.std(ddof=1))
    if has_zero_spread(data, sd):
        summary.sd = 0.0
        summary.note = "all values identical: confidence interval undefined"
        return summary
    summary.sd = clean_float(sd)
    half = t_quantile(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n)
    summary.ci_low, summary.ci_high = clean_float(mean - half), clean_float(mean + half)
    return summary


# ---------------------------------------------------------------- proportions


@dataclass
class ProportionSummary(ResultMixin):
    """count/n with a Wilson CI on the proportion scale (0-1); percent is 0-100."""

    count: int
    n: int
    proportion: float | None = None
    percent: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float = 0.95
    method: str = "wilson"
    note: str | None = None

    def n_percent(self, decimals: int = 1) -> str:
        return format_n_percent(self.count, self.n, decimals)

    def rate_text(self, decimals: int = 1) -> str:
        return format_rate(self.count, self.n, decimals)


def describe_proportion(count: int, n: int, *, confidence: float = 0.95) -> ProportionSummary:
    """Wilson interval: it stays inside 0-100 % and behaves at 0/n and n/n, unlike Wald."""
    count, n = int(count), int(n)
    if n <= 0:
        return ProportionSummary(count=count, n=n, confidence=confidence, note="denominator is 0")
    if not 0 <= count <= n:
        raise ValueError(f"count {count} outside 0..{n}")
    low, high = proportion_confint(count, n, alpha=1 - confidence, method="wilson")
    return ProportionSummary(
        count=count,
        n=n,
        proportion=count / n,
        percent=100.0 * count / n,
        ci_low=clean_float(low),
        ci_high=clean_float(high),
        confidence=confidence,
    )
