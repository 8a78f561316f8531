"""Statistics runs: request (reusing a current result), claim, compute, finish or fail.

The life of a run: `run_request` creates it pending, unless a done run of the same
cohort definition, analysis, parameters, scope, data version and software version exists,
and dispatches the task once the transaction commits. The task calls `run_execute`, which
claims the row with a conditional UPDATE (pending -> running), so a redelivered message
finds nothing to do. A Celery retry after a transient database error may take back its own
claim (same task id, higher retry count). A failure is written on the row with its reason.

Jobs vs the broker (a transactional outbox): the run row, committed with the request, is the
truth; the broker message is a hint. Dispatching never fails the request: with the broker
unreachable the run stays pending with `dispatch_error` set (the job page says statistics
are delayed), and `runs_dispatch_pending` (a beat task every DISPATCH_EVERY seconds, and on
every worker start) sends every pending run not dispatched yet, or dispatched so long ago
that its message must have been lost. Messages are acknowledged late and rejected back to
the queue when a worker process dies (`reject_on_worker_lost`); the claim makes a second
delivery harmless, so a run is computed once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as OperationalError_

from outcomes.analyses import Analysis, Progress, get_analysis, no_progress, parameters_hash
from outcomes.contract import SCHEMA_VERSION
from outcomes.models import Cohort, RunStatus, RunTrigger, StatisticsRun
from outcomes.routers import replica_reads
from outcomes.selectors import CohortData, Scope, cohort_visible_to, scope_for
from outcomes.services.collection import cyclic_gc_paused
from outcomes.statistics import jsonable
from outcomes.version import software_version
from registry import permissions

logger = logging.getLogger(__name__)

# Progress milestones (percent) around the analysis' own 0..1 progress.
CLAIMED, READING, READ, COMPUTED = 1, 5, 35, 99
MAX_ERROR_LENGTH = 4000
# A dispatched run still pending after this long lost its message (e.g. a broker restart
# without persistence): send it again (the claim makes a duplicate harmless).
REDISPATCH_AFTER = timedelta(minutes=5)
DISPATCH_EVERY = 30.0  # seconds, the beat schedule of `outcomes.dispatch_pending_runs`
RUN_TASK = "outcomes.run_statistics"
QUEUE_UNREACHABLE = "The job queue is unreachable"
# Worth a retry: the database went away or refused a connection for a moment.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class RunRequest:
    run: StatisticsRun
    reused: bool


def run_request(
    *,
    user: AbstractBaseUser,
    cohort: Cohort,
    analysis: str,
    parameters: Mapping[str, Any] | None = None,
) -> RunRequest:
    """A user asks for an analysis of a cohort over the patients they may see."""
    if not permissions.can_run_statistics(user):
        raise PermissionDenied("Your roles do not include running statistics.")
    if not cohort_visible_to(user=user, cohort=cohort):
        raise PermissionDenied("You may not use this cohort.")
    return request_run(
        cohort=cohort,
        analysis=analysis,
        parameters=parameters,
        scope=scope_for(user=user),
        requested_by=user,
        trigger=RunTrigger.USER,
    )


def request_run(
    *,
    cohort: Cohort,
    analysis: str,
    parameters: Mapping[str, Any] | None,
    scope: Scope,
    requested_by: AbstractBaseUser | None,
    trigger: str,
) -> RunRequest:
    spec = get_analysis(analysis)
    params = spec.normalise(parameters)
    data = CohortData(filters=cohort.filters, rules=cohort.rules, scope=scope)
    key = {
        "cohort": cohort,
        "cohort_hash": cohort.definition_hash,
        "analysis": spec.name,
        "parameters_hash": parameters_hash(params),
        "scope_key": scope.key,
        "data_version": data.version(),
        "software_version": software_version(),
    }
    current = _current_run(key)
    if current is not None:
        return RunRequest(current, reused=True)
    try:
        with transaction.atomic():
            run = StatisticsRun.objects.create(
                **key,
                parameters=params,
                as_of=params.get("as_of"),  # the day follow-up windows are judged on
                scope_sites=list(scope.site_ids),
                requested_by=requested_by,
                trigger=trigger,
            )
            transaction.on_commit(lambda: dispatch_run(run.pk))
    except IntegrityError:
        # Someone queued the same request a moment ago: share their run.
        current = _current_run(key)
        if current is None:
            raise
        return RunRequest(current, reused=True)
    return RunRequest(run, reused=False)


def _current_run(key: Mapping[str, Any]) -> StatisticsRun | None:
    """A done run for exactly this request, else one pending or running."""
    runs = StatisticsRun.objects.filter(**key).defer("result")
    done = runs.filter(status=RunStatus.DONE).order_by("-finished_at").first()
    return done or runs.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).first()


def dispatch_run(run_id: int) -> bool:
    """Hand the run's task to the broker and note it on the row. Never raises for a broker
    that is down: the run stays pending, marked delayed, and the dispatcher sends it later."""
    try:
        # By name: tasks import services, never the reverse (an import-linter contract).
        # No publish retries: a request must not hang on a dead broker; the outbox retries.
        current_app.tasks[RUN_TASK].apply_async(args=[run_id], retry=False)
    except (OperationalError_, OSError) as error:  # kombu's OperationalError: broker down
        logger.warning("statistics run %s not dispatched (%s); it stays pending", run_id, error)
        StatisticsRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
            dispatch_error=f"{QUEUE_UNREACHABLE} ({type(error).__name__})."[:300]
        )
        return False
    StatisticsRun.objects.filter(pk=run_id).update(dispatched_at=timezone.now(), dispatch_error="")
    return True


def queue_run(run_id: int) -> None:
    """Kept for callers of the earlier name: dispatch through the outbox."""
    dispatch_run(run_id)


def runs_dispatch_pending(*, now=None, limit: int = 500) -> dict[str, int]:
    """The outbox sweep: send every pending run that has no message in the broker (never
    dispatched, or dispatched more than REDISPATCH_AFTER ago). Oldest first."""
    now = now or timezone.now()
    waiting = (
        StatisticsRun.objects.filter(status=RunStatus.PENDING)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - REDISPATCH_AFTER))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = failed = 0
    for run_id in list(waiting):
        if dispatch_run(run_id):
            sent += 1
        else:
            failed += 1
            break  # the broker is down: the next sweep tries again
    return {"sent": sent, "failed_to_send": failed}


# ------------------------------------------------------------------ the task's side


def takeover_after() -> timedelta:
    """A run still running this long after its claim has lost its worker: no live worker
    runs past the hard time limit (Celery kills it there)."""
    limit = settings.CELERY_TASK_TIME_LIMIT
    return timedelta(seconds=limit + max(5, limit // 10))


def busy_retry_after(*, run_id: int, task_id: str) -> float:
    """Seconds until a "busy" delivery should ask again: soon when the run was claimed by
    the same message (a redelivery after its worker died: the retry takes it back), else
    when the claim would be stale."""
    run = StatisticsRun.objects.filter(pk=run_id).values("task_id", "started_at").first()
    if run is None or run["task_id"] == task_id or run["started_at"] is None:
        return 1.0
    stale_at = run["started_at"] + takeover_after()
    return max(1.0, (stale_at - timezone.now()).total_seconds() + 1)


def run_claim(*, run_id: int, task_id: str = "", retries: int = 0) -> bool:
    """pending -> running, in one conditional UPDATE. A Celery retry of the same task may
    take back the run it claimed before (`claim_retries` < retries): after a transient
    error, or after its worker died (the redelivered message's "busy" retry); a plain
    redelivered copy (same retries) may not. Any delivery takes over a claim older than
    `takeover_after()` (its worker is gone). The finish is conditional on the claim's task
    id, so of two holders only the last claim writes the result."""
    mine = Q(status=RunStatus.PENDING) | Q(
        status=RunStatus.RUNNING, started_at__lt=timezone.now() - takeover_after()
    )
    if task_id:
        mine |= Q(status=RunStatus.RUNNING, task_id=task_id, claim_retries__lt=retries)
    claimed = StatisticsRun.objects.filter(mine, pk=run_id).update(
        status=RunStatus.RUNNING,
        task_id=task_id,
        claim_retries=retries,
        attempts=F("attempts") + 1,
        started_at=timezone.now(),
        finished_at=None,
        progress=CLAIMED,
        error="",
    )
    return claimed == 1


def run_execute(*, run_id: int, task_id: str = "", retries: int = 0) -> str:
    """Claim and compute one run; returns what happened ("done", "failed", "skipped").

    Transient database errors propagate (the task retries them); any other error is
    written on the row as the failure reason, with the traceback in the log.
    """
    if not run_claim(run_id=run_id, task_id=task_id, retries=retries):
        if StatisticsRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).exists():
            # Another delivery holds it: maybe alive, maybe a worker killed mid-run whose
            # message came back. The task asks again later (see `busy_retry_after`).
            logger.info("statistics run %s: running under another claim", run_id)
            return "busy"
        logger.info("statistics run %s: not pending (already claimed or finished)", run_id)
        return "skipped"
    run = StatisticsRun.objects.select_related("cohort").get(pk=run_id)
    try:
        result, version = compute_run(run, progress=_progress_writer(run_id))
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:
        logger.exception("statistics run %s failed", run_id)
        run_fail(run_id=run_id, reason=failure_reason(error))
        return "failed"
    finished = StatisticsRun.objects.filter(
        pk=run_id, status=RunStatus.RUNNING, task_id=task_id
    ).update(
        status=RunStatus.DONE,
        progress=100,
        result=result,
        data_version=version,
        finished_at=timezone.now(),
    )
    return "done" if finished else "skipped"


def compute_run(run: StatisticsRun, *, progress: Progress = no_progress) -> tuple[dict, str]:
    cohort = run.cohort
    data = CohortData(filters=cohort.filters, rules=cohort.rules, scope=Scope.of(run.scope_sites))
    result, version = compute(get_analysis(run.analysis), data, run.parameters, progress=progress)
    result["cohort"].update({"id": cohort.pk, "name": cohort.name, "definition": cohort.describe()})
    return result, version


def compute(
    analysis: Analysis,
    data: CohortData,
    parameters: Mapping[str, Any],
    *,
    progress: Progress = no_progress,
) -> tuple[dict[str, Any], str]:
    """Read the analysis' frames in one snapshot, compute, and return the JSON-safe result
    with the data version of the rows read. This is the whole job, minus the bookkeeping:
    the benchmark times exactly this."""
    parameters = analysis.normalise(parameters)  # once: "today" is fixed for the whole run
    progress(READING / 100)
    # a statistics job reads from the replica when there is one
    with replica_reads(), cyclic_gc_paused():
        analysis.load(data)
        progress(READ / 100)
        span = (COMPUTED - READ) / 100
        body = analysis.run(data, parameters, lambda f: progress(READ / 100 + span * f))
        version = data.version()
        techniques = data.patients_per_technique
    result = {
        "analysis": analysis.name,
        "label": analysis.label,
        "schema_version": SCHEMA_VERSION,
        "parameters": parameters,
        "as_of": parameters.get("as_of"),
        "cohort": {
            "n_patients": int(techniques.sum()),
            "techniques": [[str(t), int(n)] for t, n in techniques.items()],
            "unit_of_analysis": "patient (index procedure)",
        },
        "data_version": version,
        "software_version": software_version(),
        "body": body,
    }
    # NaN/inf would make invalid JSON (PostgreSQL refuses it): jsonable turns them into
    # null, and allow_nan=False proves none is left.
    return json.loads(json.dumps(jsonable(result), allow_nan=False)), version


def _progress_writer(run_id: int) -> Progress:
    last = {"percent": CLAIMED}

    def write(fraction: float) -> None:
        percent = max(CLAIMED, min(COMPUTED, int(fraction * 100)))
        if percent - last["percent"] >= 2:
            last["percent"] = percent
            StatisticsRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
                progress=percent
            )

    return write


def run_fail(*, run_id: int, reason: str) -> bool:
    failed = (
        StatisticsRun.objects.filter(pk=run_id)
        .exclude(status=RunStatus.DONE)
        .update(
            status=RunStatus.FAILED,
            error=(reason or "failed")[:MAX_ERROR_LENGTH],
            finished_at=timezone.now(),
        )
    )
    return failed == 1


def failure_reason(error: BaseException) -> str:
    if isinstance(error, SoftTimeLimitExceeded):
        return (
            f"Stopped: the analysis ran past the soft time limit of "
            f"{settings.CELERY_TASK_SOFT_TIME_LIMIT} s."
        )
    if isinstance(error, TimeLimitExceeded):
        return (
            f"Killed: the analysis ran past the hard time limit of "
            f"{settings.CELERY_TASK_TIME_LIMIT} s."
        )
    return f"{type(error).__name__}: {error}"


def runs_sweep(*, now=None) -> dict[str, int]:
    """Housekeeping for runs a worker lost: fail those running for twice the hard time
    limit (the worker died and no redelivery took the run back meanwhile). Pending runs are
    the outbox's (`runs_dispatch_pending`)."""
    now = now or timezone.now()
    limit = 2 * takeover_after()
    stale = StatisticsRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=now - limit)
    failed = 0
    for run_id in stale.values_list("pk", flat=True):
        failed += run_fail(
            run_id=run_id,
            reason="The worker stopped before finishing (no result within the time limit).",
        )
    return {"failed": failed, **runs_dispatch_pending(now=now)}
