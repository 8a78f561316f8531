"""Thin adapters between the database's frame shapes and `outcomes.statistics`.

`trajectory_from_wide` gives exactly what `statistics.trajectory` gives on the long frame
(a test checks the two are equal), but starts from one row per patient with a column per
timepoint, the shape the database pivots to. It calls the same functions
(describe_continuous, paired_change, compare_groups) without re-pivoting and re-masking a
long frame for every group and timepoint, which is what dominates on 100,000 patients.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import pandas as pd

from outcomes.statistics import (
    ChangeFromBaseline,
    TimepointComparison,
    TimepointSummary,
    Trajectory,
    compare_groups,
    describe_continuous,
    paired_change,
)


def trajectory_from_wide(
    wide: pd.DataFrame,
    *,
    columns: Mapping[str, str],
    groups: Sequence[Hashable],
    group_col: str = "group",
    baseline: str = "baseline",
) -> Trajectory:
    """`columns` maps each timepoint, in order, to its column in `wide` (one row per unit,
    indexed by unit id; units without a value at a timepoint hold NaN)."""
    order = list(groups)
    timepoints = list(columns)
    kept = wide[wide[group_col].isin(order)]
    # Categorical groups: comparing codes, not strings, is what keeps 100,000 rows cheap.
    group_values = pd.Series(pd.Categorical(kept[group_col], categories=order))
    members = {group: (group_values == group).to_numpy() for group in order}
    values = {tp: kept[column].astype(float) for tp, column in columns.items()}
    follow_ups = [tp for tp in timepoints if tp != baseline]

    summaries = [
        TimepointSummary(group, tp, describe_continuous(values[tp][members[group]]))
        for group in order
        for tp in timepoints
    ]
    changes = [
        ChangeFromBaseline(
            group,
            tp,
            paired_change(values[baseline][members[group]], values[tp][members[group]]),
        )
        for group in order
        for tp in follow_ups
    ]
    comparisons = [
        TimepointComparison(tp, "value", _compare(group_values, values[tp], order))
        for tp in timepoints
    ]
    comparisons += [
        TimepointComparison(
            tp, "change", _compare(group_values, values[tp] - values[baseline], order)
        )
        for tp in follow_ups
    ]
    return Trajectory(
        groups=order,
        timepoints=timepoints,
        n_units=len(kept),
        n_excluded=(len(wide) - len(kept)) * len(timepoints),
        summaries=summaries,
        changes=changes,
        comparisons=comparisons,
    )


def _compare(group_values: pd.Series, values: pd.Series, order: list[Hashable]):
    frame = pd.DataFrame({"group": group_values.array, "value": values.to_numpy()})
    return compare_groups(frame, groups=order)
