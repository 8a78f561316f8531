"""Outcome trajectories: per technique per timepoint, change from baseline, between techniques.

One pass over each outcome's arrays (`CohortData.outcome_values`): per group and
timepoint a boolean mask, the statistics functions called on the masked arrays. Every
per-timepoint item carries its `followup` counts: in window, out of window (left out by
default, let in when the run asks), missing (window closed, no visit), not yet due and
withdrawn, per group; `n_missing` of a summary counts only the truly missing.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from outcomes import variables
from outcomes.analyses.base import Progress
from outcomes.selectors import OUTCOMES, TIMEPOINTS, CohortData
from outcomes.selectors import followup as status
from outcomes.selectors.values import BASELINE, OutcomeValues
from outcomes.statistics import compare_samples, describe_continuous
from outcomes.statistics.describe import sorted_values
from outcomes.statistics.paired import paired_arrays


def followup_counts(
    codes: np.ndarray, *, let_in: bool, n_withdrawn: int, unit: str = "patient"
) -> dict[str, Any]:
    """How the units of one group stood at one timepoint (DOMAIN.md "Follow-up status")."""
    counts = np.bincount(codes, minlength=len(status.STATUSES))
    out_of_window = int(counts[status.OUT_OF_WINDOW])
    return {
        "unit": unit,
        "n_in_window": int(counts[status.IN_WINDOW]),
        "n_out_of_window": out_of_window,
        "n_out_of_window_left_out": 0 if let_in else out_of_window,
        "n_out_of_window_let_in": out_of_window if let_in else 0,
        "n_missing": int(counts[status.MISSING]),
        "n_not_due": int(counts[status.NOT_DUE]),
        "n_withdrawn": int(n_withdrawn),
    }


def outcome_trajectory(
    values: OutcomeValues,
    withdrawn: dict[str, dict[str, int]] | Callable[[], dict[str, dict[str, int]]],
) -> dict[str, Any]:
    """``withdrawn``: timepoint -> group -> withdrawn units, or a function giving them,
    called only after the statistics (the withdrawn cases may still be being read)."""
    spec = values.spec
    groups = values.groups
    timepoints = list(withdrawn) if not callable(withdrawn) else list(TIMEPOINTS)
    members = [values.group_index == position for position in range(len(groups))]
    counted = {tp: values.counted(tp) for tp in timepoints}
    # Positions rather than boolean masks: each array is indexed many times per group.
    member_at = [np.flatnonzero(member) for member in members]
    # Filled in after the statistics, which do not need the withdrawn counts.
    blocks: dict[tuple[str, str], dict[str, Any]] = {
        (g, tp): {} for g in groups for tp in timepoints
    }
    summaries, changes, comparisons = [], [], []
    # Each (group, timepoint) mask and summary once: the comparisons reuse the summaries.
    masks = {
        (g, tp): np.flatnonzero(members[i] & counted[tp])
        for i, g in enumerate(groups)
        for tp in timepoints
    }
    # Each sample sorted once: its quartiles and the rank tests share the sorted values.
    described, paired, ordered = {}, {}, {}
    for group in groups:
        for tp in timepoints:
            sample = values.values[tp][masks[group, tp]]
            ordered["value", group, tp] = sorted_values(sample)
            described[group, tp] = describe_continuous(sample, ordered=ordered["value", group, tp])
            summaries.append(
                {
                    "group": group,
                    "timepoint": tp,
                    "timepoint_label": variables.timepoint_label(tp),
                    "summary": described[group, tp].to_dict(),
                    "followup": blocks[group, tp],
                }
            )
    for group in groups:
        for tp in timepoints[1:]:
            before, after, diff = (array[masks[group, tp]] for array in values.pairs[tp])
            ordered["change", group, tp] = sorted_values(diff)
            paired[group, tp] = paired_arrays(
                before, after, diff, ordered_diff=ordered["change", group, tp]
            )
            changes.append(
                {
                    "group": group,
                    "timepoint": tp,
                    "timepoint_label": variables.timepoint_label(tp),
                    "change": paired[group, tp].to_dict(),
                    "followup": blocks[group, tp],
                }
            )
    for of in ("value", "change"):
        for tp in timepoints if of == "value" else timepoints[1:]:
            source = values.values[tp] if of == "value" else values.pairs[tp][2]
            samples = {g: source[masks[g, tp]] for g in groups}
            if of == "value":
                known = {g: described[g, tp] for g in groups}
            else:  # the paired differences, counting the units without a pair as missing
                known = {
                    g: dataclasses.replace(
                        paired[g, tp].difference, n_missing=paired[g, tp].n_excluded
                    )
                    for g in groups
                }
            comparisons.append(
                {
                    "timepoint": tp,
                    "timepoint_label": variables.timepoint_label(tp),
                    "of": of,
                    "comparison": compare_samples(
                        samples, summaries=known, ordered={g: ordered[of, g, tp] for g in groups}
                    ).to_dict(),
                    "followup": [blocks[g, tp] for g in groups],
                }
            )
    counts = withdrawn() if callable(withdrawn) else withdrawn
    for i, g in enumerate(groups):
        for tp in timepoints:
            blocks[g, tp].update(
                followup_counts(
                    values.status[tp][member_at[i]],
                    let_in=values.let_in,
                    n_withdrawn=counts[tp].get(g, 0),
                    unit=values.unit,
                )
            )
    outside = int((values.group_index < 0).sum()) * len(timepoints)
    return {
        "key": spec.key,
        "variable": spec.key,
        "label": spec.label,
        "decimals": spec.decimals,
        "recorded_decimals": spec.recorded,
        "unit_of_analysis": values.unit,
        "out_of_window": "let in" if values.let_in else "left out",
        "groups": list(groups),
        "timepoints": timepoints,
        "n_units": values.n_units,
        "n_excluded": outside,
        "summaries": summaries,
        "changes": changes,
        "comparisons": comparisons,
    }


def trajectories(data: CohortData, parameters: dict[str, Any], progress: Progress) -> dict:
    keys = parameters["outcomes"]
    as_of = date.fromisoformat(parameters["as_of"])
    let_in = parameters["out_of_window"] == "include"
    # Asked for only when an outcome's statistics are done: the first outcomes need not
    # wait for the withdrawn cases (and their treated levels) to be read.
    withdrawn: dict[str, dict[str, dict[str, int]]] = {}

    def withdrawn_counts(unit: str) -> dict[str, dict[str, int]]:
        if unit not in withdrawn:
            withdrawn[unit] = data.withdrawn_counts(as_of, unit=unit)
        return withdrawn[unit]

    result = []
    for done, key in enumerate(keys, start=1):
        unit = parameters["unit"] if OUTCOMES[key].radiographic else "patient"
        values = data.outcome_values(key, as_of=as_of, let_in_out_of_window=let_in, unit=unit)
        result.append(outcome_trajectory(values, functools.partial(withdrawn_counts, unit)))
        progress(done / len(keys))
    # A list, not a mapping: PostgreSQL's jsonb does not keep the order of keys.
    return {"outcomes": result, "as_of": as_of.isoformat()}


__all__ = ["BASELINE", "followup_counts", "outcome_trajectory", "trajectories"]
