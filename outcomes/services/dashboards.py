"""Writes behind the dashboards: the cohort a dashboard's filters define, the site data
stamps that tell a stored result is stale, and the (queued) request for a fresh run.

A dashboard request never computes: it asks for a run through a task, and the task does
what a run request does (fingerprint the data, reuse a current result or queue a new
run) in the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from celery import current_app
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from outcomes import cohorts
from outcomes.models import Cohort, RunStatus, RunTrigger, SiteDataStamp, StatisticsRun
from outcomes.selectors import Scope
from outcomes.services.runs import request_run

logger = logging.getLogger(__name__)
REQUEST_DEBOUNCE_SECONDS = 30
REQUEST_TASK = "outcomes.request_dashboard_run"


def note_site_changed(*, site_id: int, now: datetime | None = None) -> None:
    """Move the site's data stamp; never raises into the clinical write that called it."""
    now = now or timezone.now()
    try:
        if SiteDataStamp.objects.filter(site_id=site_id).update(changed_at=now):
            return
        try:
            with transaction.atomic():
                SiteDataStamp.objects.create(site_id=site_id, changed_at=now)
        except IntegrityError:
            SiteDataStamp.objects.filter(site_id=site_id).update(changed_at=now)
    except DatabaseError:
        logger.exception("could not stamp a data change of site %s", site_id)


def dashboard_cohort(
    *, user: AbstractBaseUser, filters: Mapping[str, Any], rules: Mapping[str, bool]
) -> Cohort:
    """The user's cohort with this definition: a saved one if they have it, else one made
    for the dashboard (not listed among saved cohorts)."""
    filters = cohorts.normalise_filters(filters)
    digest = cohorts.definition_hash(filters, dict(rules))
    found = Cohort.objects.filter(owner=user, definition_hash=digest).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Cohort.objects.create(
                owner=user,
                name=f"Dashboard: {'; '.join(cohorts.describe(filters, dict(rules)))}"[:200],
                description="Made by the dashboard filters.",
                filters=filters,
                auto_refresh=False,
                dashboard_view=True,
                **dict(rules),
            )
    except IntegrityError:  # the same definition saved a moment ago by another request
        return Cohort.objects.get(owner=user, definition_hash=digest)


def dashboard_run_queue(
    *,
    cohort: Cohort,
    analysis: str,
    parameters: Mapping[str, Any],
    scope: Scope,
    user: AbstractBaseUser,
) -> bool:
    """Queue the request of a fresh run once the page's transaction commits; a second page
    view within REQUEST_DEBOUNCE_SECONDS does not queue it again."""
    key = f"dashboard-run:{cohort.pk}:{analysis}:{scope.key}"
    if not cache.add(key, 1, timeout=REQUEST_DEBOUNCE_SECONDS):
        return False
    arguments = {
        "cohort_id": cohort.pk,
        "analysis": analysis,
        "parameters": dict(parameters),
        "site_ids": list(scope.site_ids),
        "user_id": user.pk,
    }

    def send() -> None:
        try:
            # By name: tasks import services, never the reverse. No publish retries: a
            # page must not hang on a dead broker; the next view asks again.
            current_app.tasks[REQUEST_TASK].apply_async(kwargs=arguments, retry=False)
        except OSError:  # kombu's OperationalError is an OSError: broker down
            logger.exception("could not queue a dashboard run request")
            cache.delete(key)

    transaction.on_commit(send)
    return True


def dashboard_run_request(
    *,
    cohort_id: int,
    analysis: str,
    parameters: Mapping[str, Any],
    site_ids: list[int],
    user_id: int | None,
) -> StatisticsRun:
    """The task's side: a run request like any other (reused when the data did not move;
    then the run is marked checked, so pages stop calling it stale)."""
    cohort = Cohort.objects.get(pk=cohort_id)
    user = get_user_model().objects.filter(pk=user_id).first()
    asked = request_run(
        cohort=cohort,
        analysis=analysis,
        parameters=parameters,
        scope=Scope.of(site_ids),
        requested_by=user,
        trigger=RunTrigger.USER,
    )
    if asked.reused and asked.run.status == RunStatus.DONE:
        StatisticsRun.objects.filter(pk=asked.run.pk).update(checked_at=timezone.now())
    return asked.run
