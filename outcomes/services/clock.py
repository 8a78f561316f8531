"""Moving a site's data clock when its clinical data change (see SiteDataClock)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from outcomes.models import SiteDataClock

logger = logging.getLogger(__name__)


def data_clock_tick(*, site_id: int, now: datetime | None = None) -> None:
    """Never raises into the write that announced the change (it is committed already)."""
    now = now or timezone.now()
    try:
        if SiteDataClock.objects.filter(site_id=site_id).update(changed_at=now):
            return
        try:
            with transaction.atomic():
                SiteDataClock.objects.create(site_id=site_id, changed_at=now)
        except IntegrityError:  # a concurrent write created it
            SiteDataClock.objects.filter(site_id=site_id).update(changed_at=now)
    except DatabaseError:
        logger.exception("could not move the data clock of site %s", site_id)
