"""The follow-up status of every case at every timepoint, on arrays.

A vectorised twin of `registry.followup.followup_status` (the one definition), pinned to it
by a table of literal cases in the tests: same windows (`registry.followup.window_dates`
through `registry.derived.WINDOWS`), same order of rules. Days are whole days: the
procedure date as days since 1970-01-01, the visit as days after the procedure.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from registry.derived import WINDOWS
from registry.followup import FollowUpStatus

# Status codes in arrays (int8), in this order.
STATUSES: tuple[FollowUpStatus, ...] = (
    FollowUpStatus.IN_WINDOW,
    FollowUpStatus.OUT_OF_WINDOW,
    FollowUpStatus.MISSING,
    FollowUpStatus.NOT_DUE,
    FollowUpStatus.WITHDRAWN,
)
IN_WINDOW, OUT_OF_WINDOW, MISSING, NOT_DUE, WITHDRAWN = range(len(STATUSES))
EPOCH = date(1970, 1, 1)


def epoch_day(day: date) -> int:
    return (day - EPOCH).days


def status_codes(
    *,
    timepoint: str,
    procedure_day: np.ndarray,
    visit_offset: np.ndarray,
    as_of: date,
    withdrawn_day: np.ndarray | None = None,
) -> np.ndarray:
    """`followup_status` for arrays: `visit_offset` is the visit's days after the procedure
    (NaN: no visit), `withdrawn_day` the withdrawal's epoch day (NaN: not withdrawn)."""
    window = WINDOWS[timepoint]
    today = epoch_day(as_of)
    closes = procedure_day + window.end
    has_visit = ~np.isnan(visit_offset)
    inside = (visit_offset >= window.start) & (visit_offset <= window.end)
    codes = np.where(closes < today, MISSING, NOT_DUE).astype(np.int8)
    if withdrawn_day is not None:
        withdrew = ~np.isnan(withdrawn_day) & (withdrawn_day <= np.minimum(today, closes))
        codes[withdrew] = WITHDRAWN
    codes[has_visit & inside] = IN_WINDOW
    codes[has_visit & ~inside] = OUT_OF_WINDOW
    return codes


def status_label(code: int) -> str:
    return STATUSES[code].label
