"""Event rates (cement leakage, device rupture, adverse events) per group, compared.

A rate is events/N with a Wilson 95 % CI; the comparison follows the contingency house rule
(Pearson chi-square without correction, Fisher when an expected count is below 5). The
``unit`` field says what N counts, because the seeds mix them: leakage per patient (1/54),
per level, and rupture per device (5/60 balloons from 30 bipedicular patients).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ._results import ResultMixin
from .contingency import ContingencyResult, compare_counts
from .describe import ProportionSummary, describe_proportion


@dataclass
class GroupRate(ResultMixin):
    group: Hashable
    events: int
    n: int
    n_missing: int
    proportion: ProportionSummary
    text: str


@dataclass
class RateComparison(ResultMixin):
    unit: str
    rates: list[GroupRate] = field(default_factory=list)
    comparison: ContingencyResult | None = None
    note: str | None = None

    def rate(self, group: Hashable) -> GroupRate:
        for item in self.rates:
            if item.group == group:
                return item
        raise KeyError(group)


def rates_from_counts(
    counts: Mapping[Hashable, tuple[int, int]],
    *,
    unit: str = "patient",
    missing: Mapping[Hashable, int] | None = None,
    confidence: float = 0.95,
    decimals: int = 1,
) -> RateComparison:
    """Rates from aggregated ``{group: (events, total)}``, e.g. devices counted by a selector.

    Note that per-device or per-level rates treat devices of one patient as independent;
    the tests assume it, the anatomy does not (see the report on seed 001).
    """
    missing = missing or {}
    result = RateComparison(unit=unit)
    for group, (events, total) in counts.items():
        proportion = describe_proportion(events, total, confidence=confidence)
        result.rates.append(
            GroupRate(
                group=group,
                events=int(events),
                n=int(total),
                n_missing=int(missing.get(group, 0)),
                proportion=proportion,
                text=proportion.rate_text(decimals),
            )
        )
    table = pd.DataFrame(
        [[rate.events, rate.n - rate.events] for rate in result.rates],
        index=[rate.group for rate in result.rates],
        columns=["event", "no event"],
    )
    result.comparison = compare_counts(table, n_missing=sum(missing.values()))
    result.note = result.comparison.note
    return result


def rates_by_group(
    frame: pd.DataFrame,
    *,
    value_col: str = "value",
    group_col: str = "group",
    groups: Sequence[Hashable] | None = None,
    event: Hashable = True,
    unit: str = "patient",
    confidence: float = 0.95,
    decimals: int = 1,
) -> RateComparison:
    """Rates from one row per unit; a value equal to ``event`` (True / 1) is an event,
    any other non-missing value a non-event, NaN/None is missing and left out of N."""
    order = list(groups) if groups is not None else sorted(frame[group_col].dropna().unique())
    counts: dict[Hashable, tuple[int, int]] = {}
    missing: dict[Hashable, int] = {}
    for group in order:
        values = frame.loc[frame[group_col] == group, value_col]
        present = values.dropna()
        counts[group] = (int((present == event).sum()), int(present.size))
        missing[group] = int(values.size - present.size)
    result = rates_from_counts(
        counts, unit=unit, missing=missing, confidence=confidence, decimals=decimals
    )
    excluded = int((~frame[group_col].isin(order)).sum())
    if result.comparison is not None:
        result.comparison.n_excluded = excluded
    return result


def any_event_per_unit(
    frame: pd.DataFrame,
    *,
    unit_col: str = "unit_id",
    value_col: str = "value",
    group_col: str = "group",
) -> pd.DataFrame:
    """Collapse per-level rows to one row per patient: event if any level had one.

    A patient with some levels unknown and none positive is missing (unknown), not
    event-free: we cannot say no leakage occurred.
    """
    grouped = frame.groupby([group_col, unit_col], sort=False)[value_col]

    def collapse(values: pd.Series) -> object:
        present = values.dropna().astype(bool)
        if present.any():
            return True
        return False if values.notna().all() and len(values) else None

    collapsed = grouped.apply(collapse).rename(value_col).reset_index()
    return collapsed
