"""Why a visit value is missing: the user-missing codes of SPSS and Stata files, one per
reason (registry.followup, the one follow-up status definition), listed in the dictionary
and written by the exports (`outcomes.exports.statistical`)."""

from __future__ import annotations

from dataclasses import dataclass

from registry.followup import STATUS_LABELS, FollowUpStatus


@dataclass(frozen=True)
class MissingReason:
    key: str  # the follow-up status, or "not_recorded"
    label: str
    spss: int  # the SPSS user-missing code
    stata: str  # the Stata tagged missing value (.a, .b, ...)


NOT_RECORDED = "not_recorded"
MISSING_REASONS = (
    MissingReason(FollowUpStatus.NOT_DUE, STATUS_LABELS[FollowUpStatus.NOT_DUE], -9991, "a"),
    MissingReason(FollowUpStatus.MISSING, STATUS_LABELS[FollowUpStatus.MISSING], -9992, "b"),
    MissingReason(FollowUpStatus.WITHDRAWN, STATUS_LABELS[FollowUpStatus.WITHDRAWN], -9993, "c"),
    MissingReason(NOT_RECORDED, "not recorded at the visit", -9994, "d"),
)
# Per follow-up status, the reason an empty visit value of that timepoint has.
_REASON_OF_STATUS = {
    FollowUpStatus.NOT_DUE: 0,
    FollowUpStatus.MISSING: 1,
    FollowUpStatus.WITHDRAWN: 2,
    FollowUpStatus.IN_WINDOW: 3,
    FollowUpStatus.OUT_OF_WINDOW: 3,
}
