"""Keeping the standard reports fresh: nightly, and after clinical data changes (debounced).

A clinical write only moves a timestamp (`note_data_changed`, from the registry's
`clinical_data_changed` signal). A periodic task (`refresh_changed_sites`, every minute)
refreshes a site's cohorts once the site has been quiet for QUIET, or has waited MAX_WAIT
while busy, so a clinic entering forty visits in five minutes triggers one refresh. A
refresh is a run request like any other: reused when the data version did not move.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from outcomes.analyses import STANDARD_REPORT
from outcomes.models import Cohort, PendingRefresh, RunTrigger
from outcomes.selectors import scope_for
from outcomes.services.runs import RunRequest, request_run

logger = logging.getLogger(__name__)

QUIET = timedelta(minutes=2)
MAX_WAIT = timedelta(minutes=15)


def note_data_changed(*, site_id: int, now: datetime | None = None) -> None:
    """Remember that a site's data changed. Never raises into the clinical write that
    called it: the write is committed already, a missed refresh is caught up nightly."""
    now = now or timezone.now()
    try:
        if PendingRefresh.objects.filter(site_id=site_id).update(last_change_at=now):
            return
        try:
            with transaction.atomic():
                PendingRefresh.objects.create(
                    site_id=site_id, first_change_at=now, last_change_at=now
                )
        except IntegrityError:  # another write created it a moment ago
            PendingRefresh.objects.filter(site_id=site_id).update(last_change_at=now)
    except DatabaseError:
        logger.exception("could not note a data change of site %s", site_id)


def refresh_changed_sites(*, now: datetime | None = None) -> list[RunRequest]:
    now = now or timezone.now()
    due = PendingRefresh.objects.filter(
        Q(last_change_at__lte=now - QUIET) | Q(first_change_at__lte=now - MAX_WAIT)
    )
    site_ids = [row.site_id for row in due if take_pending(row)]
    if not site_ids:
        return []
    return standard_reports_refresh(trigger=RunTrigger.DATA_CHANGE, site_ids=site_ids)


def take_pending(row: PendingRefresh) -> bool:
    """Delete the row only as it was read: a change noted since then survives for the
    next round instead of being lost under this refresh."""
    deleted, _ = PendingRefresh.objects.filter(
        pk=row.pk, last_change_at=row.last_change_at
    ).delete()
    return bool(deleted)


def standard_reports_refresh(
    *, trigger: str = RunTrigger.NIGHTLY, site_ids: Iterable[int] | None = None
) -> list[RunRequest]:
    """Request the standard report of every auto-refreshed cohort over its owner's scope
    (only cohorts whose scope includes one of `site_ids`, when given)."""
    changed = set(site_ids) if site_ids is not None else None
    requests = []
    cohorts = Cohort.objects.filter(auto_refresh=True, owner__is_active=True)
    for cohort in cohorts.select_related("owner"):
        scope = scope_for(user=cohort.owner)
        if not scope.site_ids or (changed is not None and not changed & set(scope.site_ids)):
            continue
        requests.append(
            request_run(
                cohort=cohort,
                analysis=STANDARD_REPORT,
                parameters={},
                scope=scope,
                requested_by=None,
                trigger=trigger,
            )
        )
    return requests
