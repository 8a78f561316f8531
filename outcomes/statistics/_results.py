"""Shared plumbing for statistical results: JSON-safe conversion and test names.

Every result leaves this package through ``to_dict()`` on its way to a database JSON
field, a Celery result or an API response, so NaN, infinities and numpy scalars are
converted here, once, instead of in every caller.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

# Names of the tests, as they appear in results (and so in stored JSON and exports).
PAIRED_T = "paired_t"
WILCOXON = "wilcoxon_signed_rank"
WELCH_T = "welch_t"
MANN_WHITNEY = "mann_whitney_u"
ANOVA = "one_way_anova"
KRUSKAL = "kruskal_wallis"
PEARSON_CHI2 = "pearson_chi2"
FISHER = "fisher_exact"
LOGIT = "logistic_regression"

T = TypeVar("T")


def clean_float(value: Any) -> float | None:
    """Return a plain float, or None for missing/NaN/infinite values (never NaN in JSON)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


_PLAIN = (str, int, bool, type(None))


def jsonable(value: Any) -> Any:
    """Recursively convert dataclasses, numpy and pandas scalars to JSON-safe Python values."""
    kind = type(value)
    if kind in _PLAIN:  # the common case first: most of a result is plain already
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {str(key): jsonable(item) for key, item in value.items()}
    if kind is list:
        return [jsonable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return clean_float(value)
    if value is None or isinstance(value, str):
        return value
    if _is_missing_scalar(value):
        return None
    if hasattr(value, "item"):  # other numpy scalars
        return jsonable(value.item())
    return str(value)


def _is_missing_scalar(value: Any) -> bool:
    """pd.NA, pd.NaT, np.datetime64('NaT') and friends."""
    try:
        missing = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return isinstance(missing, (bool, np.bool_)) and bool(missing)


class ResultMixin:
    """Give a result dataclass a JSON-serialisable ``to_dict()``."""

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)


def join_notes(*notes: str | None) -> str | None:
    """Combine optional notes into one sentence list, or None when there is nothing to say."""
    parts = [note for note in notes if note]
    return "; ".join(parts) if parts else None


def run_quietly(func: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, str | None]:
    """Call a scipy/statsmodels function, capturing its warnings as a note.

    Numerical warnings (precision loss with near-identical data, for instance) belong in
    the result the coordinator reads, not in a worker log nobody reads. Only this thread's
    warnings: the warnings machinery is process-wide, and the whole-table readers run on
    threads beside the statistics; theirs go on to the log as before.
    """
    owner = threading.get_ident()
    caught: list[str] = []
    with warnings.catch_warnings():  # restores the filters and showwarning on exit
        warnings.simplefilter("always")
        passed_on = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if threading.get_ident() == owner:
                caught.append(str(message).split("\n")[0])
            else:
                passed_on(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        result = func(*args, **kwargs)
    messages = sorted(set(caught))
    return result, ("; ".join(messages) if messages else None)


def rank_ready(sample: np.ndarray) -> np.ndarray:
    """A sorted copy of one sample for a rank test (Kruskal-Wallis, Mann-Whitney U; the
    Wilcoxon's differences go by |d|, `paired._by_magnitude`): the statistic depends only
    on each value's rank and its group, and rank sums are exact in binary (multiples of
    0.5, far below 2**53), so the result is bit-identical; scipy's stable argsort then
    merges sorted runs instead of sorting from scratch, several times faster on tens of
    thousands of values."""
    return np.sort(sample)


@dataclass
class TestResult(ResultMixin):
    """One hypothesis test: which, on how many, and its outcome (p None = not run)."""

    __test__ = False  # not a pytest test class, despite the name

    test: str | None  # None: the test could not run (the note says why)
    n: int
    statistic: float | None = None
    p: float | None = None
    df: float | None = None
    note: str | None = None


def finish_test(
    result: TestResult, raw_stat: object, raw_p: object, warning: str | None
) -> TestResult:
    """Store statistic and p; a non-finite p becomes None with the reason kept."""
    result.statistic, result.p = clean_float(raw_stat), clean_float(raw_p)
    if result.p is None:
        result.note = join_notes(result.note, warning, "test returned no finite p-value")
    else:
        result.note = join_notes(result.note, warning)
    return result
