"""An outcome over follow-up: per technique per timepoint, as the seed 000/001 figures show.

Input is the long frame of the column contract: unit_id, group, timepoint, value (NaN =
missing). Three views, each from the house rules: a summary per group per timepoint, the
change from baseline per group per timepoint (complete pairs, paired t + Wilcoxon), and
the between-group test per timepoint (Welch / ANOVA + twins), on the values and on the
changes. Timepoints outside ``timepoints`` are ignored and counted in ``n_excluded``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ._results import ResultMixin
from .compare import GroupComparison, PairedComparison, compare_groups, paired_change, to_wide
from .describe import ContinuousSummary, describe_continuous

TIMEPOINTS: tuple[str, ...] = ("baseline", "2w", "12w", "1y")


@dataclass
class TimepointSummary(ResultMixin):
    group: Hashable
    timepoint: str
    summary: ContinuousSummary


@dataclass
class ChangeFromBaseline(ResultMixin):
    group: Hashable
    timepoint: str
    change: PairedComparison


@dataclass
class TimepointComparison(ResultMixin):
    """``of`` is "value" (the outcome at that visit) or "change" (visit minus baseline)."""

    timepoint: str
    of: str
    comparison: GroupComparison


@dataclass
class Trajectory(ResultMixin):
    groups: list[Hashable]
    timepoints: list[str]
    n_units: int
    n_excluded: int
    summaries: list[TimepointSummary] = field(default_factory=list)
    changes: list[ChangeFromBaseline] = field(default_factory=list)
    comparisons: list[TimepointComparison] = field(default_factory=list)


def _order(
    frame: pd.DataFrame, group_col: str, groups: Sequence[Hashable] | None
) -> list[Hashable]:
    return list(groups) if groups is not None else sorted(frame[group_col].dropna().unique())


def summarise_by_timepoint(
    frame: pd.DataFrame,
    *,
    group_col: str = "group",
    time_col: str = "timepoint",
    value_col: str = "value",
    groups: Sequence[Hashable] | None = None,
    timepoints: Sequence[str] = TIMEPOINTS,
) -> list[TimepointSummary]:
    """Continuous summary of every (group, timepoint), empty cells included (n = 0)."""
    result = []
    for group in _order(frame, group_col, groups):
        in_group = frame[frame[group_col] == group]
        for timepoint in timepoints:
            values = in_group.loc[in_group[time_col] == timepoint, value_col]
            result.append(TimepointSummary(group, timepoint, describe_continuous(values)))
    return result


def change_from_baseline(
    frame: pd.DataFrame,
    *,
    baseline: str = "baseline",
    unit_col: str = "unit_id",
    group_col: str = "group",
    time_col: str = "timepoint",
    value_col: str = "value",
    groups: Sequence[Hashable] | None = None,
    timepoints: Sequence[str] = TIMEPOINTS,
) -> list[ChangeFromBaseline]:
    """Paired change (visit minus baseline) per group for every follow-up timepoint."""
    result = []
    for group in _order(frame, group_col, groups):
        wide = _wide(frame[frame[group_col] == group], unit_col, time_col, value_col)
        for timepoint in (t for t in timepoints if t != baseline):
            change = paired_change(_column(wide, baseline), _column(wide, timepoint))
            result.append(ChangeFromBaseline(group, timepoint, change))
    return result


def compare_groups_by_timepoint(
    frame: pd.DataFrame,
    *,
    group_col: str = "group",
    time_col: str = "timepoint",
    value_col: str = "value",
    groups: Sequence[Hashable] | None = None,
    timepoints: Sequence[str] = TIMEPOINTS,
) -> list[TimepointComparison]:
    """Between-group test of the values at each timepoint."""
    order = _order(frame, group_col, groups)
    return [
        TimepointComparison(
            timepoint,
            "value",
            compare_groups(
                frame[frame[time_col] == timepoint],
                value_col=value_col,
                group_col=group_col,
                groups=order,
            ),
        )
        for timepoint in timepoints
    ]


def compare_change_by_timepoint(
    frame: pd.DataFrame,
    *,
    baseline: str = "baseline",
    unit_col: str = "unit_id",
    group_col: str = "group",
    time_col: str = "timepoint",
    value_col: str = "value",
    groups: Sequence[Hashable] | None = None,
    timepoints: Sequence[str] = TIMEPOINTS,
) -> list[TimepointComparison]:
    """Between-group test of the change from baseline (units with both visits only).

    "Height restored more with VBS" (seed 001) is a claim about changes, not about values.
    """
    order = _order(frame, group_col, groups)
    result = []
    for timepoint in (t for t in timepoints if t != baseline):
        parts = []
        for group in order:
            wide = _wide(frame[frame[group_col] == group], unit_col, time_col, value_col)
            change = _column(wide, timepoint) - _column(wide, baseline)
            parts.append(pd.DataFrame({group_col: group, value_col: change.to_numpy()}))
        changes = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame({group_col: [], value_col: []})
        )
        comparison = compare_groups(changes, value_col=value_col, group_col=group_col, groups=order)
        result.append(TimepointComparison(timepoint, "change", comparison))
    return result


def trajectory(
    frame: pd.DataFrame,
    *,
    baseline: str = "baseline",
    unit_col: str = "unit_id",
    group_col: str = "group",
    time_col: str = "timepoint",
    value_col: str = "value",
    groups: Sequence[Hashable] | None = None,
    timepoints: Sequence[str] = TIMEPOINTS,
) -> Trajectory:
    """All views at once: what a dashboard job stores for one outcome of one cohort."""
    order = _order(frame, group_col, groups)
    kept = frame[frame[time_col].isin(timepoints) & frame[group_col].isin(order)]
    cols = {
        "group_col": group_col,
        "time_col": time_col,
        "value_col": value_col,
        "groups": order,
        "timepoints": timepoints,
    }
    paired = {**cols, "baseline": baseline, "unit_col": unit_col}
    return Trajectory(
        groups=order,
        timepoints=list(timepoints),
        n_units=int(kept[unit_col].nunique()),
        n_excluded=int(len(frame) - len(kept)),
        summaries=summarise_by_timepoint(kept, **cols),
        changes=change_from_baseline(kept, **paired),
        comparisons=[
            *compare_groups_by_timepoint(kept, **cols),
            *compare_change_by_timepoint(kept, **paired),
        ],
    )


def _wide(frame: pd.DataFrame, unit_col: str, time_col: str, value_col: str) -> pd.DataFrame:
    return to_wide(frame, unit_col=unit_col, time_col=time_col, value_col=value_col)


def _column(wide: pd.DataFrame, timepoint: str) -> pd.Series:
    """A timepoint nobody attended is an all-missing column, not a KeyError."""
    if timepoint in wide.columns:
        return wide[timepoint].astype(float)
    return pd.Series(float("nan"), index=wide.index, dtype=float)
