"""Celery tasks: they take ids, call one service, and retry only transient database errors.

A statistics message is acknowledged after the run (late ack) and given back to the queue
if the worker process dies mid-run (`reject_on_worker_lost`): another worker takes it, and
the run's claim makes sure it is computed once. Runs go out through the outbox
(`outcomes.services.runs`): the dispatcher runs every 30 s and when a worker starts.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import DatabaseError

from outcomes import services
from outcomes.models import RunTrigger
from outcomes.services.runs import TRANSIENT_ERRORS, busy_retry_after

logger = logging.getLogger(__name__)


class StatisticsTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """The task's final failure (retries spent, or killed at the hard time limit, which
        Celery reports from the parent process): write the reason on the run."""
        run_id = args[0] if args else kwargs.get("run_id")
        try:
            services.run_fail(run_id=run_id, reason=services.failure_reason(exc))
        except DatabaseError:
            logger.exception("could not record the failure of statistics run %s", run_id)


@shared_task(
    bind=True,
    base=StatisticsTask,
    name="outcomes.run_statistics",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def run_statistics(self: Task, run_id: int) -> str:
    """Compute one statistics run; a duplicate message of a finished run does nothing, one of
    a run held by another delivery asks again later (it may be a dead worker's)."""
    task_id = self.request.id or ""
    outcome = services.run_execute(run_id=run_id, task_id=task_id, retries=self.request.retries)
    if outcome == "busy" and not self.request.is_eager:
        countdown = busy_retry_after(run_id=run_id, task_id=task_id)
        raise self.retry(countdown=countdown, max_retries=self.request.retries + 3)
    return outcome


@shared_task(name="outcomes.refresh_standard_reports")
def refresh_standard_reports() -> int:
    """Nightly: the standard report of every auto-refreshed cohort (reused if unchanged)."""
    return len(services.standard_reports_refresh(trigger=RunTrigger.NIGHTLY))


@shared_task(name="outcomes.refresh_after_changes")
def refresh_after_changes() -> int:
    """Every minute: refresh the cohorts of sites whose data changed and then went quiet."""
    return len(services.refresh_changed_sites())


@shared_task(name="outcomes.sweep_runs")
def sweep_runs() -> dict[str, int]:
    """Fail runs a dead worker left running; dispatch runs the broker never got."""
    return services.runs_sweep()


@shared_task(name="outcomes.dispatch_pending_runs", ignore_result=True)
def dispatch_pending_runs() -> dict[str, int]:
    """Every 30 s: the outbox sends pending runs that have no message in the broker, so runs
    requested while it was down go out within a minute of its return."""
    return services.runs_dispatch_pending()


@worker_ready.connect
def dispatch_on_worker_start(sender=None, **kwargs) -> None:
    """A worker that starts (after an outage, a deploy) sends what waited meanwhile."""
    try:
        services.runs_dispatch_pending()
    except DatabaseError:
        logger.exception("could not dispatch pending statistics runs at worker start")


@shared_task(name="outcomes.request_dashboard_run")
def request_dashboard_run(
    *, cohort_id: int, analysis: str, parameters: dict, site_ids: list[int], user_id: int | None
) -> int:
    """A dashboard found its result missing or stale: request a run (fingerprinting the
    data here, in the worker, not in the page's request)."""
    return services.dashboard_run_request(
        cohort_id=cohort_id,
        analysis=analysis,
        parameters=parameters,
        site_ids=site_ids,
        user_id=user_id,
    ).pk


@shared_task(
    bind=True,
    name="outcomes.build_export",
    acks_late=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def build_export(self: Task, export_id: int) -> str:
    """Build one export package; a redelivered message finds it claimed and does nothing."""
    from outcomes.exports.services import export_build

    return export_build(export_id=export_id, task_id=self.request.id or "")


@shared_task(name="outcomes.expire_exports")
def expire_exports() -> int:
    """Every 15 minutes: delete the files of expired exports (their records stay)."""
    from outcomes.exports.services import exports_expire

    return exports_expire()
