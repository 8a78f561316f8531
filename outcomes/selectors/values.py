"""One outcome of a cohort as arrays: the values each analysis tests, exact and counted.

- Exact: values are handled as integers of their recorded precision (VAS 9.2 is 92 tenths)
  until the last division, so equal values are equal floats: a difference is computed
  from integers, a patient's mean over vertebrae is an integer sum over a count. Ties at
  the recorded precision stay ties in the rank tests (DOMAIN.md).
- Same vertebrae: a patient's paired change at a follow-up uses only the vertebrae
  measured at both baseline and that follow-up (`pairs`); `unit="level"` makes each
  treated vertebra a unit instead.
- Counted: every case has a follow-up status per timepoint; by default only visits in
  their window are analysed, `let_in_out_of_window` lets the others in. The status arrays
  let the analyses report, per group, how many were missing, not yet due, left out or let in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from outcomes.selectors import followup
from outcomes.selectors.frames import TIMEPOINTS, OutcomeSpec

BASELINE = "baseline"


@dataclass
class OutcomeValues:
    spec: OutcomeSpec
    unit: str  # "patient" or "level"
    groups: list[str]
    group_index: np.ndarray  # per unit: position in `groups`, -1 outside them
    let_in: bool
    values: dict[str, np.ndarray] = field(default_factory=dict)  # NaN: not analysed
    status: dict[str, np.ndarray] = field(default_factory=dict)  # follow-up status codes
    pairs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        return int((self.group_index >= 0).sum())

    def counted(self, timepoint: str) -> np.ndarray:
        """Units that count at a timepoint: all but the not-yet-due and the left-out
        out-of-window visits (n_missing is then truly missing, DOMAIN.md)."""
        status = self.status[timepoint]
        left_out = (status == followup.OUT_OF_WINDOW) & (not self.let_in)
        return (status != followup.NOT_DUE) & ~left_out


def _scaled(column: pd.Series | np.ndarray, scale: float) -> np.ndarray:
    """Recorded decimals as exact integers (in a float array; NaN stays NaN)."""
    return np.rint(np.asarray(column, dtype=float) * scale)


def visit_status(visit_pivot: pd.DataFrame, as_of) -> dict[str, np.ndarray]:
    procedure_day = visit_pivot["procedure_day"].to_numpy(dtype=float)
    return {
        tp: followup.status_codes(
            timepoint=tp,
            procedure_day=procedure_day,
            visit_offset=visit_pivot[f"day_{tp}"].to_numpy(dtype=float),
            as_of=as_of,
        )
        for tp in TIMEPOINTS
    }


def outcome_values(
    spec: OutcomeSpec,
    *,
    visit_pivot: pd.DataFrame,
    film_levels: pd.DataFrame | None,
    groups: list[str],
    status: dict[str, np.ndarray],
    let_in_out_of_window: bool = False,
    unit: str = "patient",
) -> OutcomeValues:
    """The outcome's values per unit and timepoint (NaN = not analysed) and its pairs."""
    technique = pd.Categorical(visit_pivot["technique"], categories=groups)
    case_group = np.asarray(technique.codes, dtype=np.int64)
    allowed = {
        tp: (codes == followup.IN_WINDOW)
        | ((codes == followup.OUT_OF_WINDOW) & let_in_out_of_window)
        for tp, codes in status.items()
    }
    scale = spec.scale
    if not spec.radiographic:
        result = OutcomeValues(spec, "patient", groups, case_group, let_in_out_of_window)
        result.status = status
        scaled = {
            tp: np.where(allowed[tp], _scaled(visit_pivot[f"{spec.key}_{tp}"], scale), np.nan)
            for tp in TIMEPOINTS
        }
        result.values = {tp: v / scale for tp, v in scaled.items()}
        for tp in TIMEPOINTS[1:]:
            before, after = scaled[BASELINE], scaled[tp]
            result.pairs[tp] = (before / scale, after / scale, (after - before) / scale)
        return result
    return _film_values(
        spec,
        visit_pivot,
        film_levels,
        groups,
        case_group,
        status,
        allowed,
        unit,
        let_in_out_of_window,
    )


def _film_values(
    spec: OutcomeSpec,
    visit_pivot: pd.DataFrame,
    levels: pd.DataFrame,
    groups: list[str],
    case_group: np.ndarray,
    status: dict[str, np.ndarray],
    allowed: dict[str, np.ndarray],
    unit: str,
    let_in: bool,
) -> OutcomeValues:
    scale = spec.scale
    column = "height_mm" if spec.key == "body_height" else spec.key
    # 0.1 mm as integers are 0.01 cm: the scaled integers are the same, the unit differs.
    record_scale = 10.0 if spec.key == "body_height" else scale
    cases = visit_pivot.index.to_numpy()
    position = np.searchsorted(cases, levels["unit_id"].to_numpy())
    n_cases = len(cases)
    scaled = {}
    for tp in TIMEPOINTS:
        values = _scaled(levels[f"{column}_{tp}"], record_scale)
        scaled[tp] = np.where(allowed[tp][position], values, np.nan)
    if unit == "level":
        result = OutcomeValues(spec, "level", groups, case_group[position], let_in)
        result.status = {tp: codes[position] for tp, codes in status.items()}
        result.values = {tp: v / scale for tp, v in scaled.items()}
        for tp in TIMEPOINTS[1:]:
            before, after = scaled[BASELINE], scaled[tp]
            both = ~np.isnan(before) & ~np.isnan(after)
            before, after = np.where(both, before, np.nan), np.where(both, after, np.nan)
            result.pairs[tp] = (before / scale, after / scale, (after - before) / scale)
        return result
    result = OutcomeValues(spec, "patient", groups, case_group, let_in)
    result.status = status
    result.values = {
        tp: _mean_per_case(position, n_cases, scaled[tp], ~np.isnan(scaled[tp])) / scale
        for tp in TIMEPOINTS
    }
    for tp in TIMEPOINTS[1:]:
        both = ~np.isnan(scaled[BASELINE]) & ~np.isnan(scaled[tp])
        count = np.bincount(position, weights=both, minlength=n_cases)
        before = np.bincount(
            position, weights=np.where(both, scaled[BASELINE], 0), minlength=n_cases
        )
        after = np.bincount(position, weights=np.where(both, scaled[tp], 0), minlength=n_cases)
        with np.errstate(invalid="ignore", divide="ignore"):
            none = count == 0
            pair = [
                np.where(none, np.nan, x / count) / scale for x in (before, after, after - before)
            ]
        result.pairs[tp] = (pair[0], pair[1], pair[2])
    return result


def _mean_per_case(position: np.ndarray, n_cases: int, scaled: np.ndarray, present: np.ndarray):
    """Integer sum over count per case: the mean over the vertebrae filmed (NaN: none)."""
    total = np.bincount(position, weights=np.where(present, scaled, 0), minlength=n_cases)
    count = np.bincount(position, weights=present, minlength=n_cases)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count == 0, np.nan, total / count)


def film_means(visit_pivot: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """Per case and timepoint, the mean over the treated vertebrae filmed at that visit
    (`rfvh_12w`, `body_height_12w` in cm, `lka_12w`): the patient-level `wide` columns."""
    cases = visit_pivot.index.to_numpy()
    position = np.searchsorted(cases, levels["unit_id"].to_numpy())
    columns = {}
    for key, column, record_scale, scale in (
        ("rfvh", "rfvh", 100.0, 100.0),
        ("body_height", "height_mm", 10.0, 100.0),
        ("lka", "lka", 10.0, 10.0),
    ):
        for tp in TIMEPOINTS:
            scaled = _scaled(levels[f"{column}_{tp}"], record_scale)
            mean = _mean_per_case(position, len(cases), scaled, ~np.isnan(scaled))
            columns[f"{key}_{tp}"] = mean / scale
    return pd.DataFrame(columns, index=visit_pivot.index, copy=False)
