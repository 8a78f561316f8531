"""Writes of exports: request (validated, recorded, queued), build (claimed once), expire,
and the download record."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, Q
from django.http import FileResponse, HttpRequest
from django.utils import timezone

from outcomes import cohorts
from outcomes.dictionary import TABLES, Level
from outcomes.exports import access
from outcomes.exports.models import Export, ExportFormat, ExportStatus, ExportSubject
from outcomes.exports.package import build_package, export_software_version, one_snapshot
from outcomes.exports.subjects import subjects_create, subjects_delete
from outcomes.models import Cohort
from outcomes.selectors import cohort_cases, cohort_visible_to
from outcomes.selectors.access import Scope
from outcomes.selectors.fingerprint import data_version, standalone_figures
from registry.audit import record_access
from registry.models import AccessAction, Site, Technique

logger = logging.getLogger("outcomes.exports")
MIN_REASON_CHARS = 10


def export_root() -> Path:
    root = Path(settings.EXPORT_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def export_request(
    *,
    user: AbstractBaseUser,
    format: str,
    level: str = Level.DEIDENTIFIED,
    cohort: Cohort | None = None,
    filters: Mapping[str, Any] | None = None,
    rules: Mapping[str, bool] | None = None,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Export:
    """Record an export request (the export row, and the access log: who, from where, which
    cohort, format, level and, for identified data, the reason) and queue its job; errors
    name the field they concern. `request`, when there is one, gives the log the address."""
    if not access.may_export(user):
        raise PermissionDenied("Only research coordinators and site administrators export.")
    if level == Level.IDENTIFIED and not access.export_scope(user=user, level=level).site_ids:
        raise PermissionDenied("Identified exports are for site administrators only.")
    errors: dict[str, str] = {}
    if format not in ExportFormat.values:
        errors["format"] = f"Choose one of: {', '.join(ExportFormat.values)}."
    if level not in Level.__members__.values():
        errors["level"] = f"Choose one of: {', '.join(Level)}."
    reason = (reason or "").strip()
    if level == Level.IDENTIFIED and len(reason) < MIN_REASON_CHARS:
        errors["reason"] = "Say why identified data is needed (at least 10 characters)."
    if cohort is not None:
        if not cohort_visible_to(user=user, cohort=cohort):
            raise PermissionDenied("You may not use this cohort.")
        filters, rules = cohort.filters, cohort.rules
    try:
        filters = cohorts.normalise_filters(
            filters,
            technique_codes=Technique.objects.values_list("code", flat=True),
            site_codes=Site.objects.values_list("code", flat=True),
        )
        rules = cohorts.normalise_rules(rules)
    except ValidationError as error:
        errors.update({key: " ".join(value) for key, value in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    scope = access.export_scope(user=user, level=level)
    if level == Level.IDENTIFIED:
        outside = sorted(set(filters["sites"]) - set(access.site_codes(scope)))
        if outside:
            raise ValidationError(
                {
                    "level": f"You do not administer {', '.join(outside)}: identified data "
                    "is exported only for sites you administer."
                }
            )
    with transaction.atomic():
        export = Export.objects.create(
            owner=user,
            cohort=cohort,
            cohort_name=cohort.name if cohort else "",
            filters=filters,
            rules=rules,
            cohort_hash=cohorts.definition_hash(filters, rules),
            scope_sites=list(scope.site_ids),
            format=format,
            level=level,
            reason=reason if level == Level.IDENTIFIED else "",
        )
        _log_access(export, request or user, event="requested", reason=export.reason)
        if level == Level.IDENTIFIED:
            logger.warning(
                "identified export %s requested by user %s for sites %s: %s",
                export.pk,
                user.pk,
                export.scope_sites,
                reason,
            )
        transaction.on_commit(lambda: queue_export(export.pk))
    return export


BUILD_TASK = "outcomes.build_export"


def queue_export(export_id: int) -> None:
    """Queue the build by the task's name: tasks call services, never the reverse."""
    current_app.tasks[BUILD_TASK].delay(export_id)


def export_claim(*, export_id: int, task_id: str) -> bool:
    """Take a pending export; a second delivery of the same message finds nothing to do."""
    claimed = Export.objects.filter(pk=export_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.RUNNING, started_at=timezone.now(), task_id=task_id, progress=1
    )
    return bool(claimed)


def export_build(*, export_id: int, task_id: str = "") -> str:
    if not export_claim(export_id=export_id, task_id=task_id):
        return "not pending"
    export = Export.objects.get(pk=export_id)
    path = export_root() / f"export-{export.pk}-{secrets.token_hex(8)}.zip"
    try:
        counts = _build(export, path)
    except Exception as error:
        path.unlink(missing_ok=True)
        logger.exception("export %s failed", export_id)
        export_fail(export_id=export_id, reason=f"{type(error).__name__}: {error}")
        return "failed"
    finally:
        subjects_delete(export=export)
    finished = timezone.now()
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.DONE,
        progress=100,
        row_counts=counts,
        file_name=path.name,
        file_size=path.stat().st_size,
        finished_at=finished,
        expires_at=finished + timedelta(hours=settings.EXPORT_EXPIRY_HOURS),
    )
    return "done"


def _build(export: Export, path: Path) -> dict[str, int]:
    scope = Scope.of(export.scope_sites)
    cases = cohort_cases(filters=export.filters, rules=export.rules, scope=scope)
    with transaction.atomic():
        subjects_create(export=export, cases=cases.order_by().values_list("pk", "patient_id"))
    # (committed: the tables below are read in their own statements, see package.py)
    subjects = ExportSubject.objects.filter(export=export).values("procedure_id")
    done_tables: list[str] = []
    progress = _ProgressWriter(export.pk)

    def step(table: str, rows: int) -> None:
        if table not in done_tables:
            done_tables.append(table)
            progress.write(5 + 90 * (len(done_tables) - 1) // len(TABLES))

    try:
        with one_snapshot():  # the data version and every table: one snapshot
            export.data_version = data_version(
                standalone_figures(lambda path: Q(**{f"{path}__in": subjects}))
            )
            export.software_version = export_software_version()
            progress.write(5)
            counts = build_package(export, path, step)
    finally:
        progress.close()
    export.save(update_fields=["data_version", "software_version"])
    return counts


class _ProgressWriter:
    """The progress bar's writes. On PostgreSQL they go through a connection of their own,
    committed at once: the build's connection is inside its read-only snapshot (and busy
    with a COPY while a table streams)."""

    def __init__(self, export_id: int):
        self.export_id = export_id
        self._side: Any = None

    def write(self, percent: int) -> None:
        percent = min(max(percent, 1), 99)
        if connection.vendor != "postgresql":
            _progress(self.export_id, percent)
            return
        if self._side is None:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
        table = Export._meta.db_table
        with self._side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET progress = %s WHERE id = %s AND status = %s",  # noqa: S608
                [percent, self.export_id, ExportStatus.RUNNING],
            )

    def close(self) -> None:
        if self._side is not None:
            self._side.close()


def _progress(export_id: int, percent: int) -> None:
    Export.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(
        progress=min(max(percent, 1), 99)
    )


def export_fail(*, export_id: int, reason: str) -> None:
    Export.objects.filter(pk=export_id).exclude(status=ExportStatus.DONE).update(
        status=ExportStatus.FAILED, error=reason[:2000] or "failed", finished_at=timezone.now()
    )


def export_file(export: Export) -> Path:
    return export_root() / export.file_name


def _log_access(export: Export, request_or_user: Any, *, event: str, **detail: Any) -> None:
    """One access-log event about an export; the site is set when the export has one (site
    administrators see their sites' events), every site is in the detail."""
    sites = list(export.scope_sites)
    record_access(
        request_or_user=request_or_user,
        action=AccessAction.EXPORT,
        obj=export,
        site=sites[0] if len(sites) == 1 else None,
        event=event,
        format=export.format,
        level=export.level,
        identified=export.level == Level.IDENTIFIED,
        cohort=export.cohort_id,
        cohort_hash=export.cohort_hash,
        sites=sites,
        **{key: value for key, value in detail.items() if value not in ("", None)},
    )


def export_downloaded(*, export: Export, request: HttpRequest | None = None) -> None:
    """The record of a download (how many, the latest; and the access log: who, from where,
    how many rows)."""
    _log_access(
        export,
        request or export.owner,
        event="downloaded",
        rows=export.row_counts,
        reason=export.reason,
    )
    Export.objects.filter(pk=export.pk).update(
        download_count=F("download_count") + 1, last_downloaded_at=timezone.now()
    )
    logger.info("export %s downloaded by user %s", export.pk, export.owner_id)


def exports_expire(*, now=None) -> int:
    """Delete the files of exports past their expiry; the record of each export stays.
    A build a dead worker left running past the task time limit is marked failed."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    Export.objects.filter(status=ExportStatus.RUNNING, started_at__lt=stale).update(
        status=ExportStatus.FAILED, error="The export job stopped (worker lost).", finished_at=now
    )
    expired = 0
    for export in Export.objects.filter(status=ExportStatus.DONE, expires_at__lte=now):
        if export.file_name:
            export_file(export).unlink(missing_ok=True)
        expired += Export.objects.filter(pk=export.pk, status=ExportStatus.DONE).update(
            status=ExportStatus.EXPIRED, deleted_at=now
        )
    return expired


def export_download(*, export: Export, request: HttpRequest) -> FileResponse | None:
    """The zip of an export the caller may download (the caller checked `download_refusal`),
    recorded as downloaded; None when its file is gone. Pages and the API both answer with it."""
    path = export_file(export)
    if not path.exists():
        return None
    export_downloaded(export=export, request=request)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"ovcf-export-{export.pk}-{export.format}.zip",
        content_type="application/zip",
    )
