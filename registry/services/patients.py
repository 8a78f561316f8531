"""Patients: register (once per idempotency key, one per record number and site), edit,
withdraw (once, even when several requests arrive together)."""

from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from registry import permissions
from registry.models import Patient, Site
from registry.services.base import (
    announce_change,
    insert_unique,
    require_clinical_edit,
    update_record,
)
from registry.services.edits import clinical_update
from registry.services.errors import AlreadyWithdrawnError, DuplicateError
from registry.services.idempotency import record_once


def _same_record_number(site: Site, number: str) -> DuplicateError | None:
    existing = Patient.objects.filter(site=site, hospital_record_number=number).first()
    if existing is None:
        return None
    return DuplicateError(
        f"A patient with this hospital record number is already registered at this site "
        f"({existing.registry_id}).",
        existing=existing,
        field="hospital_record_number",
    )


def patient_create(
    *,
    user: AbstractBaseUser,
    site: Site,
    hospital_record_number: str,
    family_name: str,
    given_name: str,
    date_of_birth: date,
    sex: str,
    idempotency_key: str | None = None,
    **details: Any,
) -> Patient:
    """Register a patient. Raises DuplicateError (field hospital_record_number) when the
    site has the number already, also when a concurrent request registered it a moment ago."""
    require_clinical_edit(user=user, site=site)

    def create() -> Patient:
        patient = Patient(
            site=site,
            hospital_record_number=hospital_record_number,
            family_name=family_name,
            given_name=given_name,
            date_of_birth=date_of_birth,
            sex=sex,
            **details,
        )
        insert_unique(
            patient,
            user=user,
            duplicate=lambda: _same_record_number(site, hospital_record_number),
        )
        announce_change(site_id=site.pk, user=user)
        return patient

    with transaction.atomic():
        return record_once(user=user, key=idempotency_key, action="patient_create", create=create)


def patient_update(
    *, user: AbstractBaseUser, patient: Patient, expected_version: int, data: dict[str, Any]
) -> Patient:
    return clinical_update(
        user=user, instance=patient, expected_version=expected_version, data=data
    )


def patient_withdraw(*, user: AbstractBaseUser, patient: Patient, reason: str) -> Patient:
    """Consent withdrawn: the record and its history stay; statistics and exports drop it.

    The row is locked first, so of several withdrawals sent at once one withdraws and the
    others raise AlreadyWithdrawnError (a DuplicateError carrying the patient).
    """
    if not reason.strip():
        raise ValidationError({"withdrawal_reason": "Give the reason for the withdrawal."})
    with transaction.atomic():
        locked = Patient.objects.select_for_update().select_related("site").get(pk=patient.pk)
        if not permissions.can_withdraw_at_site(user, locked.site_id):
            raise PermissionDenied("Only a site administrator can withdraw a patient.")
        if locked.is_withdrawn:
            raise AlreadyWithdrawnError(locked)
        withdrawn = update_record(
            locked,
            user=user,
            expected_version=locked.version,
            data={"withdrawn_at": timezone.now(), "withdrawal_reason": reason.strip()},
        )
        # Statistics drop withdrawn patients: cached results over this site are now stale.
        announce_change(site_id=locked.site_id, user=user)
    return withdrawn
