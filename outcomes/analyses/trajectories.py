"""Outcome trajectories: per technique per timepoint, change from baseline, between techniques."""

from __future__ import annotations

from typing import Any

from outcomes.analyses.adapters import trajectory_from_wide
from outcomes.analyses.base import Progress
from outcomes.selectors import OUTCOMES, CohortData


def trajectories(data: CohortData, parameters: dict[str, Any], progress: Progress) -> dict:
    keys = parameters["outcomes"]
    result = []
    for done, key in enumerate(keys, start=1):
        spec = OUTCOMES[key]
        trajectory = trajectory_from_wide(
            data.outcome_frame(key),
            columns=data.wide_columns(key),
            groups=data.techniques,
            group_col="technique",
        )
        result.append(
            {
                "key": key,
                "label": spec.label,
                "decimals": spec.decimals,
                "unit_of_analysis": "patient",
                **trajectory.to_dict(),
            }
        )
        progress(done / len(keys))
    # A list, not a mapping: PostgreSQL's jsonb does not keep the order of keys.
    return {"outcomes": result}
