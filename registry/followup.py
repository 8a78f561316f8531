"""The one definition of follow-up status (DOMAIN.md "Follow-up status").

For each procedure and scheduled timepoint, given the data's as-of date:
- in window: a visit dated inside the timepoint's window;
- out of window: a visit dated outside it (kept and flagged, never moved);
- missing: the window has closed and there is no visit;
- not yet due: the window has not closed (it may be open: then the visit is "open" for the
  worklist's due/overdue tabs, which subdivide this status);
- withdrawn: consent was withdrawn before the window closed, and there is no visit.

The worklist, the timeline, statistics, completeness and exports all call `followup_status`
(or a SQL twin pinned to it by a table of literal cases in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from registry.derived import WINDOWS, Window


class FollowUpStatus(StrEnum):
    IN_WINDOW = "in_window"
    OUT_OF_WINDOW = "out_of_window"
    MISSING = "missing"
    NOT_DUE = "not_due"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    FollowUpStatus.IN_WINDOW: "recorded in window",
    FollowUpStatus.OUT_OF_WINDOW: "recorded out of window",
    FollowUpStatus.MISSING: "missing (window closed)",
    FollowUpStatus.NOT_DUE: "not yet due",
    FollowUpStatus.WITHDRAWN: "withdrawn",
}


@dataclass(frozen=True)
class WindowDates:
    target: date
    opens: date
    closes: date

    def is_open(self, as_of: date) -> bool:
        return self.opens <= as_of <= self.closes

    def has_closed(self, as_of: date) -> bool:
        return as_of > self.closes


def window_dates(timepoint: str, procedure_date: date) -> WindowDates:
    window: Window = WINDOWS[timepoint]
    return WindowDates(
        target=procedure_date + timedelta(days=window.target),
        opens=procedure_date + timedelta(days=window.start),
        closes=procedure_date + timedelta(days=window.end),
    )


def followup_status(
    *,
    timepoint: str,
    procedure_date: date,
    visit_date: date | None,
    as_of: date,
    withdrawn_on: date | None = None,
) -> FollowUpStatus:
    """Status of one procedure's scheduled timepoint on `as_of`. A recorded visit always counts
    (in or out of window), even after a withdrawal; without one, withdrawal before the window
    closed wins over missing and not-yet-due."""
    dates = window_dates(timepoint, procedure_date)
    if visit_date is not None:
        inside = dates.opens <= visit_date <= dates.closes
        return FollowUpStatus.IN_WINDOW if inside else FollowUpStatus.OUT_OF_WINDOW
    if withdrawn_on is not None and withdrawn_on <= min(as_of, dates.closes):
        return FollowUpStatus.WITHDRAWN
    if dates.has_closed(as_of):
        return FollowUpStatus.MISSING
    return FollowUpStatus.NOT_DUE
