"""Categorical variables: n (%) per level with a Wilson 95 % CI (shared/DOMAIN.md), for
one column or, from one bincount, for the Overall column and every group's (Table 1)."""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._results import ResultMixin
from .describe import Levels, ProportionSummary, describe_proportion


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
    tally = data.value_counts(sort=False, dropna=True)  # one pass, not one per level
    return describe_counts(
        tally,
        n=int(data.size),
        n_missing=int(series.size - data.size),
        labels=level_labels(series, levels),
        confidence=confidence,
    )


def describe_counts(
    tally: Mapping[Hashable, int] | pd.Series,
    *,
    n: int,
    n_missing: int,
    labels: Mapping[Hashable, str],
    confidence: float = 0.95,
) -> CategoricalSummary:
    """``describe_categorical`` from counts already made ({value: count}, the non-missing
    values only, ``n`` of them), for a caller that tallied every group at once (Table 1)."""
    summary = CategoricalSummary(n=n, n_missing=n_missing, note=None if n else "no data")
    for level, label in labels.items():
        count = int(tally.get(level, 0))
        summary.levels.append(
            LevelSummary(level, label, describe_proportion(count, n, confidence=confidence))
        )
    return summary


def group_positions(labels: pd.Series | None, order: list[Hashable], size: int) -> np.ndarray:
    """Each row's group as its position in ``order``; -1 for none (every row without groups)."""
    if labels is None:
        return np.full(size, -1, dtype=np.intp)
    return group_codes(labels, order)


def group_codes(column: pd.Series, order: Sequence[Hashable]) -> np.ndarray:
    """Each row's position in ``order`` (-1: another group or none). A categorical column
    is looked up through its few categories, not a string per row."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        positions = pd.Index(order).get_indexer(column.cat.categories)
        return np.append(positions, -1)[column.cat.codes.to_numpy()]
    return pd.Index(order).get_indexer(column.to_numpy(dtype=object))


def describe_by_group(
    values: pd.Series, labels: Mapping[Hashable, str], group_at: np.ndarray, groups: int
) -> list[CategoricalSummary]:
    """``describe_categorical`` of all ``values``, then of each group's (its rows are those
    at its position in ``group_at``), from one bincount of (group, category) codes instead
    of one pandas value_counts per column."""
    codes, uniques = pd.factorize(values)  # missing: -1
    width = len(uniques) + 1  # column 0 counts the missing
    cells = np.bincount((group_at + 1) * width + codes + 1, minlength=(groups + 1) * width)
    per_group = cells.reshape(groups + 1, width)  # row 0: the rows of no group
    return [
        describe_counts(
            dict(zip(uniques, counts[1:].tolist(), strict=True)),
            n=int(counts[1:].sum()),
            n_missing=int(counts[0]),
            labels=labels,
        )
        for counts in (per_group.sum(axis=0), *per_group[1:])
    ]
