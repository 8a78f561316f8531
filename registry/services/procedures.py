from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from registry.models import AdverseEvent, Fracture, Patient, Procedure, Technique, TreatedLevel
from registry.services.base import announce_change, require_clinical_edit, save_validated


def fracture_create(*, user: AbstractBaseUser, patient: Patient, **fields: Any) -> Fracture:
    require_clinical_edit(user=user, site=patient.site)
    fracture = Fracture(patient=patient, **fields)
    with transaction.atomic():
        save_validated(fracture, user=user)
        announce_change(site_id=patient.site_id, user=user)
    return fracture


def procedure_record(
    *,
    user: AbstractBaseUser,
    patient: Patient,
    technique: Technique,
    date: date,
    approach: str,
    anaesthesia: str,
    levels: Iterable[Mapping[str, Any]],
    **details: Any,
) -> Procedure:
    """Record a procedure and the vertebrae it treated, all or nothing.

    `levels` holds one mapping per treated vertebra: `fracture` plus the per-level items
    (cement_volume_ml, leakage, leakage_location, devices_used, devices_ruptured, ...).
    """
    require_clinical_edit(user=user, site=patient.site)
    levels = list(levels)
    if not levels:
        raise ValidationError({"levels": "Choose at least one treated vertebra."})
    fracture_ids = [level["fracture"].pk for level in levels]
    if len(set(fracture_ids)) != len(fracture_ids):
        raise ValidationError({"levels": "Each vertebra can be treated only once per procedure."})
    with transaction.atomic():
        procedure = Procedure(
            patient=patient,
            technique=technique,
            date=date,
            approach=approach,
            anaesthesia=anaesthesia,
            **details,
        )
        save_validated(procedure, user=user)
        for level in levels:
            save_validated(TreatedLevel(procedure=procedure, **level), user=user)
        announce_change(site_id=patient.site_id, user=user)
    return procedure


def adverse_event_record(
    *, user: AbstractBaseUser, procedure: Procedure, **fields: Any
) -> AdverseEvent:
    require_clinical_edit(user=user, site=procedure.patient.site)
    event = AdverseEvent(procedure=procedure, **fields)
    with transaction.atomic():
        save_validated(event, user=user)
        announce_change(site_id=procedure.patient.site_id, user=user)
    return event
