"""The follow-up worklist's reads, gathered for the worklist page: the chase
(`followups`), incomplete case entries (`progress`) and the patient list (`patients`)."""

from registry.selectors.followups import (
    COUNT_CAP,
    DUE,
    DUE_SOON_DAYS,
    FOLLOW_UP_TIMEPOINTS,
    OUT_OF_WINDOW_LOOKBACK_DAYS,
    OVERDUE,
    OVERDUE_GRACE_DAYS,
    TIMEPOINT_LABELS,
    FollowUpItem,
    FollowUpRows,
    chase_status,
    follow_up_items,
    follow_up_rows,
    out_of_window_visits,
    pending_follow_ups,
    visible_site_ids,
)
from registry.selectors.patients import patient_list
from registry.selectors.progress import (
    INCOMPLETE_LOOKBACK_DAYS,
    CaseStatus,
    case_status,
    incomplete_cases,
    next_step,
)

__all__ = [
    "COUNT_CAP",
    "DUE",
    "DUE_SOON_DAYS",
    "FOLLOW_UP_TIMEPOINTS",
    "INCOMPLETE_LOOKBACK_DAYS",
    "OUT_OF_WINDOW_LOOKBACK_DAYS",
    "OVERDUE",
    "OVERDUE_GRACE_DAYS",
    "TIMEPOINT_LABELS",
    "CaseStatus",
    "FollowUpItem",
    "FollowUpRows",
    "case_status",
    "chase_status",
    "follow_up_items",
    "follow_up_rows",
    "incomplete_cases",
    "next_step",
    "out_of_window_visits",
    "patient_list",
    "pending_follow_ups",
    "visible_site_ids",
]
