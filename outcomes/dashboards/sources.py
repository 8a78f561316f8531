"""The stored runs a dashboard draws from, and whether each is current.

A source is (cohort, analysis, parameters, scope). The page shows the latest done run of
it, even when stale, with a "recomputing" indicator while a fresher one is computed. It is
stale when the software changed or a site of its scope changed after the run read its data
(`SiteDataStamp`; a check that found the data unchanged moves `checked_at`). Missing or
stale, and nothing under way, the page queues a run request: it never computes, and it
never fingerprints the data itself (that is the worker's job).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from outcomes.analyses import get_analysis, parameters_hash
from outcomes.models import ACTIVE_STATUSES, Cohort, RunStatus, SiteDataStamp, StatisticsRun
from outcomes.selectors import Scope
from outcomes.services import dashboard_run_queue
from outcomes.version import software_version

RETRY_FAILED_AFTER = timedelta(minutes=10)


@dataclass
class Source:
    cohort: Cohort
    analysis: str
    scope: Scope
    parameters: dict[str, Any] = field(default_factory=dict)
    registry_wide: bool = False  # includes patients the viewer may not see
    run: StatisticsRun | None = None  # latest done
    pending: StatisticsRun | None = None  # under way
    failed: StatisticsRun | None = None  # the latest attempt, when it failed
    stale: bool = False
    requested: bool = False
    linkable: bool = False  # the viewer may open the run's own page

    @property
    def result(self) -> Mapping[str, Any] | None:
        return self.run.result if self.run is not None else None

    @property
    def recomputing(self) -> bool:
        return self.pending is not None or self.requested

    @property
    def progress(self) -> int:
        return self.pending.progress if self.pending is not None else 0

    @property
    def run_url(self) -> str:
        if self.run is None or not self.linkable:
            return ""
        return reverse("outcomes:run_result", args=[self.run.pk])

    @property
    def label(self) -> str:
        return get_analysis(self.analysis).label

    def status(self) -> dict[str, Any]:
        return {
            "analysis": self.analysis,
            "label": self.label,
            "registry_wide": self.registry_wide,
            "has_result": self.run is not None,
            "stale": self.stale,
            "recomputing": self.recomputing,
            "progress": self.progress,
            "error": self.failed.error if self.failed is not None else "",
        }


def _runs(source: Source):
    spec = get_analysis(source.analysis)
    source.parameters = spec.normalise(source.parameters)
    return StatisticsRun.objects.filter(
        cohort=source.cohort,
        cohort_hash=source.cohort.definition_hash,
        analysis=spec.name,
        parameters_hash=parameters_hash(source.parameters),
        scope_key=source.scope.key,
    )


def stamps() -> dict[int, datetime]:
    return dict(SiteDataStamp.objects.values_list("site_id", "changed_at"))


def is_stale(run: StatisticsRun, changed: Mapping[int, datetime]) -> bool:
    if run.software_version != software_version():
        return True
    read_at = max(t for t in (run.started_at, run.checked_at, run.created_at) if t is not None)
    return any(changed.get(site, read_at) > read_at for site in run.scope_sites)


def load(
    source: Source,
    *,
    user,
    changed: Mapping[int, datetime],
    viewer_scope: Scope,
    with_result: bool = True,
    ask: bool = True,
) -> Source:
    """Fill in the source's runs (two queries) and, when needed, queue a fresh one."""
    runs = _runs(source)
    done = runs.filter(status=RunStatus.DONE).order_by("-finished_at", "-pk")
    source.run = (done if with_result else done.defer("result")).first()
    later = runs.exclude(status=RunStatus.DONE).defer("result").order_by("-created_at", "-pk")
    if source.run is not None:
        later = later.filter(created_at__gte=source.run.created_at)
    latest = later.first()
    if latest is not None and latest.status in ACTIVE_STATUSES:
        source.pending = latest
    elif latest is not None and latest.status == RunStatus.FAILED:
        source.failed = latest
    if source.run is not None:
        source.stale = is_stale(source.run, changed)
        source.linkable = viewer_scope.covers(source.run.scope_sites)
    wanted = source.run is None or source.stale
    retry_failed = source.failed is None or (
        source.failed.finished_at is not None
        and timezone.now() - source.failed.finished_at > RETRY_FAILED_AFTER
    )
    if ask and wanted and source.pending is None and retry_failed:
        # Queued now, or a moment ago by another view (debounced): recomputing either way.
        dashboard_run_queue(
            cohort=source.cohort,
            analysis=source.analysis,
            parameters=source.parameters,
            scope=source.scope,
            user=user,
        )
        source.requested = True
    return source
