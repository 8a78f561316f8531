"""The registry's periodic jobs."""

from celery import shared_task

from registry.audit import purge_access_log


@shared_task(name="registry.purge_access_log")
def purge_access_log_task() -> int:
    """Nightly: drop access-log events older than ACCESS_LOG_RETENTION_DAYS."""
    return purge_access_log()
