"""Fractures, procedures (with their treated levels) and adverse events."""

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from registry import vertebrae
from registry.models import AdverseEvent, Fracture, Patient, Procedure, Technique, TreatedLevel
from registry.services.base import (
    announce_change,
    insert_unique,
    require_clinical_edit,
    save_validated,
)
from registry.services.edits import clinical_update
from registry.services.errors import DuplicateError, PartError
from registry.services.idempotency import record_once


def _fracture_recorded(patient: Patient, level: str, episode: int) -> DuplicateError | None:
    existing = Fracture.objects.filter(patient=patient, level=level, episode=episode).first()
    if existing is None:
        return None
    return DuplicateError(
        f"A fracture of {level} is already recorded for this patient: edit it instead.",
        existing=existing,
        field="level",
    )


def _fracture_insert(*, user: AbstractBaseUser, patient: Patient, fields: Mapping[str, Any]):
    fracture = Fracture(patient=patient, **fields)
    return insert_unique(
        fracture,
        user=user,
        duplicate=lambda: _fracture_recorded(patient, fracture.level, fracture.episode),
    )


def fracture_create(
    *,
    user: AbstractBaseUser,
    patient: Patient,
    idempotency_key: str | None = None,
    **fields: Any,
) -> Fracture:
    """One fractured vertebra (the API's create). DuplicateError (field `level`) when the
    patient has this level and episode already."""
    require_clinical_edit(user=user, site=patient.site)

    def create() -> Fracture:
        fracture = _fracture_insert(user=user, patient=patient, fields=fields)
        announce_change(site_id=patient.site_id, user=user)
        return fracture

    with transaction.atomic():
        return record_once(user=user, key=idempotency_key, action="fracture_create", create=create)


def fractures_record(
    *,
    user: AbstractBaseUser,
    patient: Patient,
    fractures: Iterable[Mapping[str, Any]],
    idempotency_key: str | None = None,
) -> list[Fracture]:
    """Several fractured vertebrae of one patient, all or none (the fractures page).

    Each mapping holds the Fracture fields, `level` included. An error in one of them is a
    PartError("fractures", index). A repeated idempotency key returns the fractures the
    first call recorded (the key points at the first of them; the rest were recorded in the
    same transaction with higher ids).
    """
    require_clinical_edit(user=user, site=patient.site)
    fractures = [dict(f) for f in fractures]
    if not fractures:
        raise ValidationError({"levels": "Choose at least one fractured vertebra."})
    levels = [f.get("level") for f in fractures]
    if len(set(levels)) != len(levels):
        raise ValidationError({"levels": "Each vertebra can be recorded only once."})
    order = sorted(range(len(fractures)), key=lambda i: vertebrae.level_index(levels[i]))

    def create() -> Fracture:
        saved: list[Fracture] = [None] * len(fractures)  # type: ignore[list-item]
        for index in order:
            try:
                saved[index] = _fracture_insert(user=user, patient=patient, fields=fractures[index])
            except ValidationError as error:
                raise PartError("fractures", index, error) from None
        announce_change(site_id=patient.site_id, user=user)
        return saved[order[0]]

    with transaction.atomic():
        first = record_once(
            user=user, key=idempotency_key, action="fractures_record", create=create
        )
    recorded = list(
        Fracture.objects.filter(patient=patient, pk__gte=first.pk).order_by("pk")[: len(fractures)]
    )
    for fracture in recorded:
        fracture.replayed = first.replayed
    return recorded


def _already_treated(fracture_ids: list[int]) -> DuplicateError | None:
    treated = (
        TreatedLevel.objects.filter(fracture_id__in=fracture_ids)
        .select_related("procedure__technique", "fracture")
        .order_by("procedure_id")
        .first()
    )
    if treated is None:
        return None
    procedure = treated.procedure
    return DuplicateError(
        f"{treated.fracture.level} is already treated by the {procedure.technique.code} of "
        f"{procedure.date:%d %b %Y}.",
        existing=procedure,
        field="levels",
    )


def procedure_record(
    *,
    user: AbstractBaseUser,
    patient: Patient,
    technique: Technique,
    date: date,
    approach: str,
    anaesthesia: str,
    levels: Iterable[Mapping[str, Any]],
    idempotency_key: str | None = None,
    **details: Any,
) -> Procedure:
    """Record a procedure and the vertebrae it treated, all or nothing.

    `levels` holds one mapping per treated vertebra: `fracture` plus the per-level items
    (cement_volume_ml, leakage, leakage_location, devices_used, devices_ruptured, ...).
    An error in a level is a PartError("levels", index). A fracture is treated by one
    procedure (a later fracture of the same vertebra is a new episode): the fractures are
    locked first, so two identical submits give one procedure and a DuplicateError (field
    `levels`, existing = the first procedure), or with the same idempotency key, the first
    procedure twice.
    """
    require_clinical_edit(user=user, site=patient.site)
    levels = [dict(level) for level in levels]
    if not levels:
        raise ValidationError({"levels": "Choose at least one treated vertebra."})
    fracture_ids = [level["fracture"].pk for level in levels]
    if len(set(fracture_ids)) != len(fracture_ids):
        raise ValidationError({"levels": "Each vertebra can be treated only once per procedure."})

    def create() -> Procedure:
        # Lock the fractures: a concurrent identical submit waits here, then finds them treated.
        list(Fracture.objects.select_for_update().filter(pk__in=fracture_ids).values("pk"))
        clash = _already_treated(fracture_ids)
        if clash is not None:
            raise clash
        procedure = Procedure(
            patient=patient,
            technique=technique,
            date=date,
            approach=approach,
            anaesthesia=anaesthesia,
            **details,
        )
        save_validated(procedure, user=user)
        for index, level in enumerate(levels):
            try:
                save_validated(TreatedLevel(procedure=procedure, **level), user=user)
            except ValidationError as error:
                raise PartError("levels", index, error) from None
        announce_change(site_id=patient.site_id, user=user)
        return procedure

    with transaction.atomic():
        return record_once(user=user, key=idempotency_key, action="procedure_record", create=create)


def adverse_event_insert(
    *, user: AbstractBaseUser, procedure: Procedure, fields: Mapping[str, Any]
) -> AdverseEvent:
    return save_validated(AdverseEvent(procedure=procedure, **fields), user=user)


def adverse_event_record(
    *,
    user: AbstractBaseUser,
    procedure: Procedure,
    idempotency_key: str | None = None,
    **fields: Any,
) -> AdverseEvent:
    require_clinical_edit(user=user, site=procedure.patient.site)

    def create() -> AdverseEvent:
        event = adverse_event_insert(user=user, procedure=procedure, fields=fields)
        announce_change(site_id=procedure.patient.site_id, user=user)
        return event

    with transaction.atomic():
        return record_once(
            user=user, key=idempotency_key, action="adverse_event_record", create=create
        )


def procedure_update(
    *,
    user: AbstractBaseUser,
    procedure: Procedure,
    expected_version: int,
    data: Mapping[str, Any],
    levels: Iterable[Mapping[str, Any]] = (),
) -> Procedure:
    """Edit a procedure and its treated levels in one transaction (the procedure page).

    `data` holds the procedure's changed fields (may be empty); each level item is
    {"instance": treated_level, "expected_version": v, "data": {...changed fields}}. A stale
    version raises ConflictError (part "levels" and its index, or None for the procedure);
    a field error of a level is PartError("levels", index). Nothing is written on any.
    """
    require_clinical_edit(user=user, site=procedure.patient.site)
    with transaction.atomic():
        if data:
            procedure = clinical_update(
                user=user, instance=procedure, expected_version=expected_version, data=data
            )
        for index, item in enumerate(levels):
            if not item["data"]:
                continue
            try:
                clinical_update(
                    user=user,
                    instance=item["instance"],
                    expected_version=item["expected_version"],
                    data=item["data"],
                    part="levels",
                    index=index,
                )
            except ValidationError as error:
                raise PartError("levels", index, error) from None
    return procedure
