"""Editing any clinical record: permission, optimistic concurrency, announcement.

`clinical_update` is the one edit service (forms, patient_update, later the API);
`base.update_record` below it only checks the version and is not exported.
"""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    TreatedLevel,
)
from registry.services.base import announce_change, require_clinical_edit, update_record

# How to reach the patient from each clinical record.
_PATIENT_PATH: dict[type[models.Model], str] = {
    Fracture: "patient",
    Procedure: "patient",
    TreatedLevel: "procedure.patient",
    AdverseEvent: "procedure.patient",
    FollowUpVisit: "procedure.patient",
    RadiographicMeasurement: "visit.procedure.patient",
}


def patient_of(instance: models.Model) -> Patient:
    if isinstance(instance, Patient):
        return instance
    target: Any = instance
    for attribute in _PATIENT_PATH[type(instance)].split("."):
        target = getattr(target, attribute)
    return target


def clinical_update(
    *,
    user: AbstractBaseUser,
    instance: models.Model,
    expected_version: int,
    data: Mapping[str, Any],
    part: str | None = None,
    index: int | None = None,
) -> models.Model:
    """Edit a clinical record if the user may edit its site and nobody saved it meanwhile.

    Raises PermissionDenied, ValidationError (field-level) or ConflictError; nothing is
    written on any of them. `part`/`index` label the ConflictError of a composite edit.
    """
    patient = patient_of(instance)
    require_clinical_edit(user=user, site=patient.site)
    if patient.withdrawn_at is not None:
        raise PermissionDenied("This patient withdrew consent: the record is read-only.")
    if "site" in data or "site_id" in data:
        raise ValidationError({"site": "A patient cannot be moved to another site here."})
    updated = update_record(
        instance,
        user=user,
        expected_version=expected_version,
        data=data,
        part=part,
        index=index,
    )
    announce_change(site_id=patient.site_id, user=user)
    return updated
