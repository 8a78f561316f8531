"""Writes of the data-quality app: runs (the job) and reviews of findings."""

from outcomes.quality.services.reviews import can_review, finding_review
from outcomes.quality.services.runs import (
    RunRequest,
    dispatch_pending,
    nightly_request,
    request_run,
    run_execute,
    run_fail,
    run_request,
    scope_of_request,
)

__all__ = [
    "RunRequest",
    "can_review",
    "dispatch_pending",
    "finding_review",
    "nightly_request",
    "request_run",
    "run_execute",
    "run_fail",
    "run_request",
    "scope_of_request",
]
