"""Descriptive statistics and the text formats the registry prints.

House rules (shared/DOMAIN.md): continuous variables get n, missing, mean, SD, median,
Q1, Q3, min, max and a t-based 95 % CI of the mean, shown as "mean ± SD" at the variable's
precision; categorical variables get n (%) with a Wilson 95 % CI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from ._results import ResultMixin, clean_float

Levels = Sequence[Hashable] | Mapping[Hashable, str] | None


# ---------------------------------------------------------------- formatting


def format_number(value: float | None, decimals: int) -> str:
    """Round half away from zero on the shortest decimal repr, as a reader rounds by hand.

    Python's ``f"{2.785:.2f}"`` gives "2.79" or "2.78" depending on the binary value;
    journals (and SPSS output) round the printed decimal, so we do the same.
    """
    number = clean_float(value)
    if number is None:
        return ""
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # never print "-0.0"
    return f"{rounded:f}"


def format_mean_sd(mean: float | None, sd: float | None, decimals: int = 1) -> str:
    """'9.2 ± 0.7'; only the mean when SD is undefined (n = 1); '' when there is no data."""
    if clean_float(mean) is None:
        return ""
    if clean_float(sd) is None:
        return format_number(mean, decimals)
    return f"{format_number(mean, decimals)} ± {format_number(sd, decimals)}"


def format_median_iqr(
    median: float | None, q1: float | None, q3: float | None, decimals: int = 1
) -> str:
    """'9.0 [8.5, 9.6]' (gtsummary's median [Q1, Q3] style)."""
    if clean_float(median) is None:
        return ""
    quartiles = ", ".join(format_number(q, decimals) for q in (q1, q3))
    return f"{format_number(median, decimals)} [{quartiles}]"


def format_range(low: float | None, high: float | None, decimals: int = 0) -> str:
    """'46\N{EN DASH}83': an en dash, as the published tables print a range."""
    if clean_float(low) is None or clean_float(high) is None:
        return ""
    return f"{format_number(low, decimals)}\N{EN DASH}{format_number(high, decimals)}"


def format_n_percent(count: int, n: int, decimals: int = 1) -> str:
    """'55 (73.3%)': count with the percentage of the non-missing denominator."""
    if n <= 0:
        return f"{count} (\N{EN DASH})"
    return f"{count} ({format_number(100.0 * count / n, decimals)}%)"


def format_rate(count: int, n: int, decimals: int = 1) -> str:
    """'1/54 (1.9%)': how leakage and rupture rates are reported."""
    if n <= 0:
        return f"{count}/{n} (\N{EN DASH})"
    return f"{count}/{n} ({format_number(100.0 * count / n, decimals)}%)"


def format_p(p: float | None, decimals: int = 3) -> str:
    """'0.040', '<0.001'; '' when no test could run. Never '0.000'."""
    value = clean_float(p)
    if value is None:
        return ""
    threshold = 10.0**-decimals
    if value < threshold:
        return f"<{format_number(threshold, decimals)}"
    return format_number(value, decimals)


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


def describe_continuous(
    values: pd.Series | Sequence[float] | np.ndarray, *, confidence: float = 0.95
) -> ContinuousSummary:
    """n, missing, mean, SD (ddof=1), median, Q1/Q3 (linear, as R and pandas), range, t CI."""
    series = as_float_series(values)
    data = series.dropna()
    n, n_missing = int(data.size), int(series.size - data.size)
    if n == 0:
        return ContinuousSummary(n=0, n_missing=n_missing, confidence=confidence, note="no data")
    summary = ContinuousSummary(
        n=n,
        n_missing=n_missing,
        mean=clean_float(data.mean()),
        median=clean_float(data.median()),
        q1=clean_float(data.quantile(0.25)),
        q3=clean_float(data.quantile(0.75)),
        min=clean_float(data.min()),
        max=clean_float(data.max()),
        confidence=confidence,
    )
    if n < 2:
        summary.note = "n < 2: SD and confidence interval undefined"
        return summary
    summary.sd = clean_float(data.std(ddof=1))
    if not summary.sd:
        summary.note = "all values identical: confidence interval undefined"
        return summary
    low, high = stats.t.interval(confidence, df=n - 1, loc=summary.mean, scale=stats.sem(data))
    summary.ci_low, summary.ci_high = clean_float(low), clean_float(high)
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


@dataclass
class LevelSummary(ResultMixin):
    level: Any
    label: str
    proportion: ProportionSummary


@dataclass
class CategoricalSummary(ResultMixin):
    """Counts per level; percentages use the non-missing denominator (tableone's default)."""

    n: int
    n_missing: int
    levels: list[LevelSummary] = field(default_factory=list)
    note: str | None = None

    def level(self, level: Hashable) -> LevelSummary:
        for item in self.levels:
            if item.level == level:
                return item
        raise KeyError(level)


def level_labels(values: pd.Series, levels: Levels) -> dict[Hashable, str]:
    """Ordered {value: label}; observed values the caller did not list are appended so
    that nothing silently drops out of a table."""
    if levels is None:
        ordered: dict[Hashable, str] = {}
    elif isinstance(levels, Mapping):
        ordered = {key: str(label) for key, label in levels.items()}
    else:
        ordered = {key: str(key) for key in levels}
    observed = pd.unique(values.dropna())
    with contextlib.suppress(TypeError):  # mixed types: keep the order of appearance
        observed = sorted(observed)
    for value in observed:
        if value not in ordered:
            ordered[value] = str(value)
    return ordered


def describe_categorical(
    values: pd.Series, *, levels: Levels = None, confidence: float = 0.95
) -> CategoricalSummary:
    """n (%) and Wilson CI for each level, in the order given by ``levels``."""
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    data = series.dropna()
    n, n_missing = int(data.size), int(series.size - data.size)
    labels = level_labels(series, levels)
    summary = CategoricalSummary(n=n, n_missing=n_missing, note=None if n else "no data")
    for level, label in labels.items():
        count = int((data == level).sum())
        summary.levels.append(
            LevelSummary(level, label, describe_proportion(count, n, confidence=confidence))
        )
    return summary
