"""Serving aggregates from stored statistics runs, never computing inside the request.

`stored_run` finds the latest done run of exactly this request (cohort definition,
analysis, parameters, the caller's scope, software version). It is served while no site of
the scope has changed since the run started (the sites' data stamps: one small query,
whatever the cohort's size). Otherwise the request goes to `run_request`, which compares
data versions: unchanged data reuse the done run (200), changed data start a run (202).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from outcomes.analyses import get_analysis, parameters_hash
from outcomes.api.aggregates import tests_named
from outcomes.models import ACTIVE_STATUSES, Cohort, RunStatus, SiteDataStamp, StatisticsRun
from outcomes.selectors import Scope, scope_for
from outcomes.services import run_request
from outcomes.version import software_version

VERIFIED_FOR = 24 * 3600  # seconds a "data unchanged" check of a done run is remembered


@dataclass(frozen=True)
class Stored:
    run: StatisticsRun  # `result` deferred: load it only when the answer is not a 304
    ready: bool


def stored_run(
    *,
    user: AbstractBaseUser,
    cohort: Cohort,
    analysis: str,
    parameters: Mapping[str, Any] | None = None,
) -> Stored:
    spec = get_analysis(analysis)
    params = spec.normalise(parameters)
    scope = scope_for(user=user)
    runs = StatisticsRun.objects.filter(
        cohort=cohort,
        cohort_hash=cohort.definition_hash,
        analysis=spec.name,
        parameters_hash=parameters_hash(params),
        scope_key=scope.key,
        software_version=software_version(),
    ).defer("result")
    done = runs.filter(status=RunStatus.DONE).order_by("-finished_at", "-id").first()
    if done is not None and not _stale(done, scope):
        return Stored(done, ready=True)
    active = runs.filter(status__in=ACTIVE_STATUSES).order_by("-created_at").first()
    if active is not None and (done is None or active.created_at >= done.started_at):
        return Stored(active, ready=False)
    asked = run_request(user=user, cohort=cohort, analysis=spec.name, parameters=params)
    if asked.run.status == RunStatus.DONE:
        cache.set(_verified_key(asked.run), _now_iso(), VERIFIED_FOR)
        return Stored(asked.run, ready=True)
    return Stored(asked.run, ready=False)


def _stale(run: StatisticsRun, scope: Scope) -> bool:
    changed = SiteDataStamp.objects.filter(site_id__in=scope.site_ids).aggregate(
        latest=Max("changed_at")
    )["latest"]
    if changed is None:
        return False
    since = run.started_at or run.created_at
    verified = cache.get(_verified_key(run))
    if verified is not None:
        since = max(since, _parse_iso(verified))
    return changed > since


def _verified_key(run: StatisticsRun) -> str:
    return f"outcomes:api:verified:{run.pk}"


def _now_iso() -> str:
    return timezone.now().isoformat()


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


def result_of(run: StatisticsRun) -> dict[str, Any]:
    return StatisticsRun.objects.values_list("result", flat=True).get(pk=run.pk)


def aggregate_etag(run: StatisticsRun, *parts: Any) -> str:
    """Names the stored result and the question asked of it: a new run, another query or
    another suppression setting is another tag."""
    text = "|".join(str(part) for part in (run.pk, run.finished_at, *parts))
    return '"agg-' + hashlib.sha256(text.encode()).hexdigest()[:24] + '"'


def envelope(
    run: StatisticsRun, shown: dict[str, Any], *, query: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An aggregate response: the (narrowed, suppressed) contract result `shown`, plus what
    every aggregate carries beside its numbers (outcomes.api.openapi.ENVELOPE)."""
    cohort = shown.get("cohort") or {}
    return {
        **shown,
        "cohort": {
            **cohort,
            "id": run.cohort_id,
            "name": run.cohort.name,
            "definition": cohort.get("definition", []),
        },
        "cohort_hash": run.cohort_hash,
        "data_version": run.data_version,
        "computed_at": run.finished_at,
        "software_version": run.software_version,
        "run": run.pk,
        "tests": tests_named(shown.get("body")),
        "query": {key: _jsonable(value) for key, value in (query or {}).items()},
        "suppression": {**(shown.get("suppression") or {}), "applied": True},
    }


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
