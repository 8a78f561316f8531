"""The stored runs a dashboard draws from, and whether each is current.

A source is (cohort, analysis, parameters, scope). The page shows the latest done run of
it, even when stale, with a "recomputing" indicator while a fresher one is computed. It is
stale when the software changed or a site of its scope changed after the run read its data
(`SiteDataStamp`; a check that found the data unchanged moves `checked_at`). Missing or
stale, and nothing under way, the page queues a run request: it never computes, and it
never fingerprints the data itself (that is the worker's job).

A run's result is written once, when the run is done, so its parsed JSON (and what a viewer
may see of it, after suppression) is kept in a small per-process cache keyed by the run's
id, data version and finish time: a page view loads the run rows without their result
(`defer`), and reads a result from the database only the first time it is drawn.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from django.urls import reverse
from django.utils import timezone

from outcomes.analyses import get_analysis, parameters_hash
from outcomes.dashboards import results
from outcomes.models import ACTIVE_STATUSES, Cohort, RunStatus, SiteDataStamp, StatisticsRun
from outcomes.selectors import Scope
from outcomes.services import dashboard_run_queue
from outcomes.suppression import minimum_cell_count
from outcomes.version import software_version

RETRY_FAILED_AFTER = timedelta(minutes=10)
DATED_LOOKBACK_DAYS = 31  # an "as of today" page shows a run as of one of these last days
CACHED_RESULTS = 24  # parsed results (and their suppressed copies) kept per process


class _ResultCache:
    """A small LRU of read-only parsed results; nothing may change what it hands out."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple, Mapping[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, build: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


result_cache = _ResultCache(CACHED_RESULTS)


def _run_key(run: StatisticsRun) -> tuple:
    return (run.pk, run.data_version, run.finished_at)


def _stored_result(run: StatisticsRun) -> Mapping[str, Any]:
    if "result" in run.get_deferred_fields():
        return StatisticsRun.objects.values_list("result", flat=True).get(pk=run.pk)
    return run.result


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
    dated: bool = False  # asks for the data as of today (the as_of default)
    stamp: str = ""  # its stamp as the page prints it under every chart drawn from it

    @property
    def result(self) -> Mapping[str, Any] | None:
        """The run's stored result as computed (read-only, cached): for the viewer's own
        sites only; anything drawn goes through `shown`."""
        if self.run is None:
            return None
        run = self.run
        return result_cache.get(_run_key(run), lambda: _stored_result(run))

    def shown(
        self, visible_sites: Collection[int] = (), *, suppressed: bool = False
    ) -> Mapping[str, Any] | None:
        """What a viewer who may see `visible_sites` may see of the result: suppressed
        when the source includes patients outside them (`results.shown`), or when the
        caller asks (`suppressed`: publication tables suppress by default)."""
        result = self.result
        if result is None or not (self.registry_wide or suppressed):
            return result
        k = minimum_cell_count()
        sites = frozenset(visible_sites) if self.analysis == "benchmarking" else frozenset()
        return result_cache.get(
            (*_run_key(self.run), "shown", k, sites),
            lambda: results.shown(result, registry_wide=True, visible_sites=sites, k=k),
        )

    @property
    def recomputing(self) -> bool:
        return self.pending is not None or self.requested

    @property
    def progress(self) -> int:
        return self.pending.progress if self.pending is not None else 0

    @cached_property
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
    # A page asks "as of today" (the default): at midnight that is a new request, and
    # until it is computed the last days' run is the one shown (stale, see `is_stale`).
    source.dated = "as_of" in spec.parameters and not source.parameters.get("as_of")
    source.parameters = spec.normalise(source.parameters)
    hashes = [parameters_hash(source.parameters)]
    if source.dated:
        today = date.fromisoformat(source.parameters["as_of"])
        hashes += [
            parameters_hash({**source.parameters, "as_of": (today - timedelta(days)).isoformat()})
            for days in range(1, DATED_LOOKBACK_DAYS + 1)
        ]
    return StatisticsRun.objects.filter(
        cohort=source.cohort,
        cohort_hash=source.cohort.definition_hash,
        analysis=spec.name,
        parameters_hash__in=hashes,
        scope_key=source.scope.key,
    )


def stamps() -> dict[int, datetime]:
    return dict(SiteDataStamp.objects.values_list("site_id", "changed_at"))


def is_stale(
    run: StatisticsRun, changed: Mapping[int, datetime], *, as_of: date | None = None
) -> bool:
    """Stale: other software, a site of its scope changed since it read its data, or
    (`as_of`: the page wants the data as of that day) an earlier as-of date."""
    if run.software_version != software_version():
        return True
    if as_of is not None and run.as_of is not None and run.as_of < as_of:
        return True
    read_at = max(t for t in (run.started_at, run.checked_at, run.created_at) if t is not None)
    return any(changed.get(site, read_at) > read_at for site in run.scope_sites)


def load(
    source: Source,
    *,
    user,
    changed: Mapping[int, datetime],
    viewer_scope: Scope,
    ask: bool = True,
) -> Source:
    """Fill in the source's runs (two queries) and, when needed, queue a fresh one."""
    runs = _runs(source)
    done = runs.filter(status=RunStatus.DONE).order_by("-finished_at", "-pk")
    # The result is read when drawn, from the cache when it has been drawn before.
    source.run = done.defer("result").first()
    later = runs.exclude(status=RunStatus.DONE).defer("result").order_by("-created_at", "-pk")
    if source.run is not None:
        later = later.filter(created_at__gte=source.run.created_at)
    latest = later.first()
    if latest is not None and latest.status in ACTIVE_STATUSES:
        source.pending = latest
    elif latest is not None and latest.status == RunStatus.FAILED:
        source.failed = latest
    if source.run is not None:
        wanted_as_of = date.fromisoformat(source.parameters["as_of"]) if source.dated else None
        source.stale = is_stale(source.run, changed, as_of=wanted_as_of)
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
