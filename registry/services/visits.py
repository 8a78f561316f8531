"""Follow-up visits with their radiographs per treated vertebra (and, after the operation,
the adverse event seen at the visit): one service to record, one to edit."""

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from registry.models import FollowUpVisit, Procedure, RadiographicMeasurement, TimepointChoice
from registry.services.base import announce_change, insert_unique, require_clinical_edit
from registry.services.edits import clinical_update
from registry.services.errors import DuplicateError, PartError
from registry.services.idempotency import record_once
from registry.services.procedures import adverse_event_insert

# How a timepoint reads inside a sentence ("A 1-year visit is already recorded ...").
TIMEPOINT_IN_SENTENCE = {
    TimepointChoice.BASELINE: "baseline",
    TimepointChoice.WEEK_2: "2-week",
    TimepointChoice.WEEK_12: "12-week",
    TimepointChoice.YEAR_1: "1-year",
}


def visit_taken(
    procedure: Procedure, timepoint: str, *, exclude_pk: int | None = None
) -> DuplicateError | None:
    """The error for a scheduled timepoint this procedure has a visit for already."""
    if timepoint not in TIMEPOINT_IN_SENTENCE:
        return None  # unscheduled visits may repeat
    existing = (
        FollowUpVisit.objects.filter(procedure=procedure, timepoint=timepoint)
        .exclude(pk=exclude_pk)
        .first()
    )
    if existing is None:
        return None
    return DuplicateError(
        f"A {TIMEPOINT_IN_SENTENCE[timepoint]} visit is already recorded for this procedure.",
        existing=existing,
        field="timepoint",
    )


def _radiograph_taken(visit: FollowUpVisit, treated_level) -> DuplicateError | None:
    existing = RadiographicMeasurement.objects.filter(
        visit=visit, treated_level=treated_level
    ).first()
    if existing is None:
        return None
    return DuplicateError(
        "This vertebra's radiograph is already recorded for this visit.",
        existing=existing,
        field="treated_level",
    )


def _radiograph_insert(*, user, visit: FollowUpVisit, fields: Mapping[str, Any]):
    film = RadiographicMeasurement(visit=visit, **fields)
    return insert_unique(
        film, user=user, duplicate=lambda: _radiograph_taken(visit, film.treated_level)
    )


def visit_record(
    *,
    user: AbstractBaseUser,
    procedure: Procedure,
    timepoint: str,
    visit_date: date,
    radiographs: Iterable[Mapping[str, Any]] = (),
    adverse_event: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
    **answers: Any,
) -> FollowUpVisit:
    """Record a visit (VAS, ODI answers, ...) with its radiographs per treated vertebra
    (`treated_level` plus the measurements) and, optionally, an adverse event, all or none.

    The ODI % is derived on save; an out-of-window date is kept and flagged, not refused.
    A scheduled timepoint is recorded once per procedure: DuplicateError (field
    `timepoint`, existing = that visit), also when a concurrent request won the race.
    Errors of a radiograph are PartError("radiographs", index), of the event
    PartError("adverse_event", None).
    """
    require_clinical_edit(user=user, site=procedure.patient.site)
    radiographs = [dict(r) for r in radiographs]

    def create() -> FollowUpVisit:
        visit = FollowUpVisit(
            procedure=procedure, timepoint=timepoint, visit_date=visit_date, **answers
        )
        insert_unique(visit, user=user, duplicate=lambda: visit_taken(procedure, timepoint))
        for index, fields in enumerate(radiographs):
            try:
                _radiograph_insert(user=user, visit=visit, fields=fields)
            except ValidationError as error:
                raise PartError("radiographs", index, error) from None
        if adverse_event:
            try:
                adverse_event_insert(user=user, procedure=procedure, fields=adverse_event)
            except ValidationError as error:
                raise PartError("adverse_event", None, error) from None
        announce_change(site_id=procedure.patient.site_id, user=user)
        return visit

    with transaction.atomic():
        return record_once(user=user, key=idempotency_key, action="visit_record", create=create)


def visit_update(
    *,
    user: AbstractBaseUser,
    visit: FollowUpVisit,
    expected_version: int,
    data: Mapping[str, Any],
    radiographs: Iterable[Mapping[str, Any]] = (),
) -> FollowUpVisit:
    """Edit a visit and its radiographs in one transaction.

    `data` holds the visit's changed fields (may be empty). Each radiograph item is either
    {"instance": film, "expected_version": v, "data": {...changed fields}} for a film
    recorded before, or {"data": {"treated_level": tl, ...}} for a new one. A stale version
    raises ConflictError (part "radiographs" and its index, or None for the visit); a
    field error of a film is PartError("radiographs", index). Nothing is written on any.
    """
    procedure = visit.procedure
    require_clinical_edit(user=user, site=procedure.patient.site)
    with transaction.atomic():
        if data:
            if "timepoint" in data:
                clash = visit_taken(procedure, data["timepoint"], exclude_pk=visit.pk)
                if clash is not None:
                    raise clash
            visit = clinical_update(
                user=user, instance=visit, expected_version=expected_version, data=data
            )
        for index, item in enumerate(radiographs):
            instance = item.get("instance")
            try:
                if instance is not None:
                    if item["data"]:
                        clinical_update(
                            user=user,
                            instance=instance,
                            expected_version=item["expected_version"],
                            data=item["data"],
                            part="radiographs",
                            index=index,
                        )
                else:
                    _radiograph_insert(user=user, visit=visit, fields=item["data"])
                    announce_change(site_id=procedure.patient.site_id, user=user)
            except ValidationError as error:
                raise PartError("radiographs", index, error) from None
    return visit


def radiograph_record(
    *,
    user: AbstractBaseUser,
    visit: FollowUpVisit,
    idempotency_key: str | None = None,
    **measurements: Any,
) -> RadiographicMeasurement:
    """One radiograph of a recorded visit (the API's create)."""
    require_clinical_edit(user=user, site=visit.procedure.patient.site)

    def create() -> RadiographicMeasurement:
        film = _radiograph_insert(user=user, visit=visit, fields=measurements)
        announce_change(site_id=visit.procedure.patient.site_id, user=user)
        return film

    with transaction.atomic():
        return record_once(
            user=user, key=idempotency_key, action="radiograph_record", create=create
        )
