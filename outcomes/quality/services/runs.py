"""Data-quality runs: request (a site or all the user's sites), claim, execute, store.

A run is a job row: the task claims it with a conditional UPDATE (pending -> running), so a
redelivered message does nothing. Executing reads every rule's flagged rows (set-based
finders), marks the findings a still-valid review covers, computes completeness, and
writes everything in one transaction: findings by COPY on PostgreSQL, a SiteResult per
site with its data version. Older findings of those sites are then deleted: the latest
done run of a site is its current state.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from outcomes.quality import completeness
from outcomes.quality.models import (
    ACTIVE_STATUSES,
    SEVERITY_ORDER,
    Finding,
    FindingStatus,
    QualityRun,
    Review,
    RunStatus,
    RunTrigger,
    SiteResult,
)
from outcomes.quality.rules import CATALOGUE_VERSION, FINDING_COLUMNS, RULES, Context, Rule
from outcomes.quality.versions import data_versions
from outcomes.selectors import Scope, scope_for
from registry.models import Site

logger = logging.getLogger(__name__)

RUN_TASK = "quality.run_checks"
REDISPATCH_AFTER = timedelta(minutes=2)
KEY = ["rule", "record_type", "record_id", "item"]
_STORED = [
    "site_id",
    "patient_id",
    *KEY,
    "severity",
    "severity_rank",
    "edit_pk",
    "value",
    "detail",
    "status",
]


@dataclass(frozen=True)
class RunRequest:
    run: QualityRun
    created: bool


def scope_of_request(*, user: AbstractBaseUser, site: Site | None = None) -> Scope:
    """The user's sites (through the registry's visibility rule), or the one asked for."""
    scope = scope_for(user=user)
    if site is None:
        return scope
    if site.pk not in scope.site_ids:
        raise PermissionDenied("You may not see this site's patients.")
    return Scope.of([site.pk])


def request_run(
    *,
    scope: Scope,
    requested_by: AbstractBaseUser | None,
    trigger: str = RunTrigger.USER,
) -> RunRequest:
    """Queue a run over `scope`, or return the one already pending or running for it."""
    fail_abandoned()
    active = QualityRun.objects.filter(scope_key=scope.key, status__in=ACTIVE_STATUSES).first()
    if active is not None:
        return RunRequest(active, False)
    try:
        with transaction.atomic():
            run = QualityRun.objects.create(
                scope_sites=list(scope.site_ids),
                scope_key=scope.key,
                requested_by=requested_by,
                trigger=trigger,
                as_of=timezone.localdate(),
            )
    except IntegrityError:  # a concurrent request made it first
        run = QualityRun.objects.get(scope_key=scope.key, status__in=ACTIVE_STATUSES)
        return RunRequest(run, False)
    transaction.on_commit(lambda: dispatch(run.pk))
    return RunRequest(run, True)


def dispatch(run_id: int) -> bool:
    """Send the run's task (by name: tasks import services, never the reverse). A broker
    that is down never fails the request: the run stays pending and `dispatch_pending`
    (beat, every minute) sends it again; the claim makes a duplicate harmless."""
    try:
        current_app.tasks[RUN_TASK].apply_async(args=[run_id], retry=False)
    except (KombuOperationalError, OSError) as error:
        logger.warning("data-quality run %s not dispatched (%s); it stays pending", run_id, error)
        return False
    return True


def dispatch_pending(*, now=None) -> int:
    """The outbox sweep: pending runs older than REDISPATCH_AFTER go to the broker again."""
    now = now or timezone.now()
    waiting = QualityRun.objects.filter(
        status=RunStatus.PENDING, created_at__lt=now - REDISPATCH_AFTER
    ).values_list("pk", flat=True)
    sent = 0
    for run_id in list(waiting):
        if not dispatch(run_id):
            break  # the broker is down: the next sweep tries again
        sent += 1
    return sent


def fail_abandoned(now=None) -> int:
    """A run still active past the task's hard time limit lost its worker or its message:
    mark it failed, so that it no longer holds its scope's one active slot."""
    now = now or timezone.now()
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    return QualityRun.objects.filter(status__in=ACTIVE_STATUSES, created_at__lt=now - limit).update(
        status=RunStatus.FAILED,
        error="abandoned: no worker finished it within the task time limit",
        finished_at=now,
    )


def run_request(*, user: AbstractBaseUser, site: Site | None = None) -> RunRequest:
    scope = scope_of_request(user=user, site=site)
    if not scope.site_ids:
        raise PermissionDenied("You have no site whose data could be checked.")
    return request_run(scope=scope, requested_by=user)


def nightly_request() -> RunRequest | None:
    """Every site with patients, in one run (the set-based finders cover them at once)."""
    from registry.models import Patient

    site_ids = Patient.objects.order_by().values_list("site_id", flat=True).distinct()
    scope = Scope.of(site_ids)
    if not scope.site_ids:
        return None
    return request_run(scope=scope, requested_by=None, trigger=RunTrigger.NIGHTLY)


def claim(run_id: int, task_id: str) -> bool:
    return bool(
        QualityRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
            status=RunStatus.RUNNING, started_at=timezone.now(), task_id=task_id[:64]
        )
    )


def run_execute(*, run_id: int, task_id: str = "") -> str:
    if not claim(run_id, task_id):
        return "not pending"
    run = QualityRun.objects.get(pk=run_id)
    try:
        store(run, *evaluate(run.scope_sites, run.as_of))
    except Exception as error:
        logger.exception("data-quality run %s failed", run_id)
        run_fail(run_id=run_id, reason=f"{type(error).__name__}: {error}")
        raise
    return "done"


def run_fail(*, run_id: int, reason: str) -> None:
    QualityRun.objects.filter(pk=run_id, status__in=ACTIVE_STATUSES).update(
        status=RunStatus.FAILED, error=reason or "failed", finished_at=timezone.now()
    )


# ---------------------------------------------------------------- computing


def run_rules(ctx: Context, rules: Iterable[Rule] = RULES) -> pd.DataFrame:
    """Every rule's flagged rows, labelled with the rule, one row per key."""
    frames = []
    for rule in rules:
        found = rule.find(ctx)
        if found.empty:
            continue
        frames.append(
            found.assign(
                rule=rule.code,
                severity=str(rule.severity),
                severity_rank=SEVERITY_ORDER[rule.severity],
                record_type=rule.record_type,
            )
        )
    if not frames:
        return pd.DataFrame(
            columns=[*FINDING_COLUMNS, "rule", "severity", "severity_rank", "record_type"]
        )
    findings = pd.concat(frames, ignore_index=True)
    return findings.drop_duplicates(KEY).reset_index(drop=True)


def apply_reviews(findings: pd.DataFrame, site_ids: Iterable[int]) -> pd.DataFrame:
    """status: a review's decision while the record still shows the reviewed value."""
    reviews = pd.DataFrame.from_records(
        list(
            Review.objects.filter(site_id__in=list(site_ids)).values_list(*KEY, "value", "decision")
        ),
        columns=[*KEY, "reviewed_value", "decision"],
    )
    if findings.empty or reviews.empty:
        return findings.assign(status=FindingStatus.OPEN.value)
    findings = findings.astype({"record_id": "int64"})
    reviews = reviews.astype({"record_id": "int64"})
    merged = findings.merge(reviews, on=KEY, how="left")
    holds = merged["decision"].notna() & (merged["reviewed_value"] == merged["value"])
    merged["status"] = merged["decision"].where(holds, FindingStatus.OPEN.value)
    return merged.drop(columns=["reviewed_value", "decision"])


def evaluate(site_ids: list[int], as_of) -> tuple[pd.DataFrame, dict, dict, dict]:
    ctx = Context(tuple(site_ids), as_of)
    findings = apply_reviews(run_rules(ctx), site_ids)
    by_site, prom = completeness.compute(site_ids, as_of)
    return findings, by_site, prom, data_versions(site_ids, as_of)


def store(run: QualityRun, findings: pd.DataFrame, by_site: dict, prom: dict, versions: dict):
    from outcomes.version import software_version

    counts = _counts(findings)
    with transaction.atomic():
        _write_findings(run.pk, findings)
        SiteResult.objects.bulk_create(
            SiteResult(
                run=run,
                site_id=site_id,
                as_of=run.as_of,
                data_version=versions[site_id],
                completeness=by_site.get(site_id, {}),
                prom=prom.get(site_id, {}),
                n_findings=sum(n for per in counts.get(site_id, {}).values() for n in per.values()),
                counts=counts.get(site_id, {}),
            )
            for site_id in run.scope_sites
        )
        Finding.objects.filter(site_id__in=run.scope_sites, run_id__lt=run.pk).delete()
        QualityRun.objects.filter(pk=run.pk).update(
            status=RunStatus.DONE,
            finished_at=timezone.now(),
            n_findings=len(findings),
            software_version=f"rules {CATALOGUE_VERSION}; {software_version()}",
        )


def _counts(findings: pd.DataFrame) -> dict[int, dict[str, dict[str, int]]]:
    """{site_id: {rule: {status: n}}}"""
    counts: dict[int, dict[str, dict[str, int]]] = {}
    if findings.empty:
        return counts
    for (site_id, rule, status), n in (
        findings.groupby(["site_id", "rule", "status"]).size().items()
    ):
        counts.setdefault(int(site_id), {}).setdefault(rule, {})[status] = int(n)
    return counts


def _write_findings(run_id: int, findings: pd.DataFrame) -> None:
    if findings.empty:
        return
    rows = findings[_STORED].assign(run_id=run_id)
    columns = ["run_id", *_STORED]
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        rows[columns].to_csv(buffer, header=False, index=False)
        table = Finding._meta.db_table
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            copy.write(buffer.getvalue())
        return
    Finding.objects.bulk_create(
        (Finding(**row) for row in rows[columns].to_dict("records")), batch_size=500
    )
