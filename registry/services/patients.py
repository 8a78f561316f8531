from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from registry.models import Patient, Site
from registry.selectors import can_withdraw
from registry.services.base import (
    announce_change,
    require_clinical_edit,
    save_validated,
    update_record,
)
from registry.services.edits import clinical_update


def patient_create(
    *,
    user: AbstractBaseUser,
    site: Site,
    hospital_record_number: str,
    family_name: str,
    given_name: str,
    date_of_birth: date,
    sex: str,
    **details: Any,
) -> Patient:
    require_clinical_edit(user=user, site=site)
    patient = Patient(
        site=site,
        hospital_record_number=hospital_record_number,
        family_name=family_name,
        given_name=given_name,
        date_of_birth=date_of_birth,
        sex=sex,
        **details,
    )
    with transaction.atomic():
        save_validated(patient, user=user)
        announce_change(site_id=site.pk, user=user)
    return patient


def patient_update(
    *, user: AbstractBaseUser, patient: Patient, expected_version: int, data: dict[str, Any]
) -> Patient:
    return clinical_update(
        user=user, instance=patient, expected_version=expected_version, data=data
    )


def patient_withdraw(*, user: AbstractBaseUser, patient: Patient, reason: str) -> Patient:
    """Consent withdrawn: the record and its history stay; statistics and exports drop it."""
    if not can_withdraw(user=user, site=patient.site):
        raise PermissionDenied("Only a site administrator can withdraw a patient.")
    if not reason.strip():
        raise ValidationError({"withdrawal_reason": "Give the reason for the withdrawal."})
    if patient.withdrawn_at is not None:
        raise ValidationError({"withdrawal_reason": "This patient is already withdrawn."})
    withdrawn = update_record(
        patient,
        user=user,
        expected_version=patient.version,
        data={"withdrawn_at": timezone.now(), "withdrawal_reason": reason.strip()},
    )
    # Statistics drop withdrawn patients: cached results over this site are now stale.
    announce_change(site_id=patient.site_id, user=user)
    return withdrawn
