"""The text formats the registry prints: numbers, mean ± SD, median [IQR], n (%), p."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ._results import clean_float


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
