"""Celery tasks of the data-quality app: they take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from outcomes.quality import services


@shared_task(
    bind=True,
    name="quality.run_checks",
    acks_late=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def run_quality_checks(self, run_id: int) -> str:
    """Run every rule for one run row; a redelivered message finds it claimed and stops."""
    return services.run_execute(run_id=run_id, task_id=self.request.id or "")


@shared_task(name="quality.nightly_checks")
def nightly_quality_checks() -> int | None:
    """Beat, nightly: every site's data checked, so the page opens on fresh findings."""
    asked = services.nightly_request()
    return asked.run.pk if asked else None


@shared_task(name="quality.dispatch_pending")
def dispatch_pending_quality_runs() -> int:
    """Beat, every minute: send again the runs a dead broker left pending."""
    return services.dispatch_pending()
