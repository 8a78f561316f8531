"""Writes of the outcomes app: cohorts, statistics runs and their refresh."""

from outcomes.services.cohorts import cohort_create, cohort_delete, cohort_update
from outcomes.services.dashboards import (
    dashboard_cohort,
    dashboard_run_queue,
    dashboard_run_request,
    note_site_changed,
)
from outcomes.services.refresh import (
    note_data_changed,
    refresh_changed_sites,
    standard_reports_refresh,
)
from outcomes.services.runs import (
    RunRequest,
    compute,
    compute_run,
    dispatch_run,
    failure_reason,
    queue_run,
    request_run,
    run_claim,
    run_execute,
    run_fail,
    run_request,
    runs_dispatch_pending,
    runs_sweep,
)

__all__ = [
    "RunRequest",
    "cohort_create",
    "cohort_delete",
    "cohort_update",
    "compute",
    "compute_run",
    "dashboard_cohort",
    "dashboard_run_queue",
    "dashboard_run_request",
    "dispatch_run",
    "failure_reason",
    "note_data_changed",
    "note_site_changed",
    "queue_run",
    "refresh_changed_sites",
    "request_run",
    "run_claim",
    "run_execute",
    "run_fail",
    "run_request",
    "runs_dispatch_pending",
    "runs_sweep",
    "standard_reports_refresh",
]
