from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from registry.models import FollowUpVisit, Procedure, RadiographicMeasurement
from registry.services.base import announce_change, require_clinical_edit, save_validated


def visit_record(
    *,
    user: AbstractBaseUser,
    procedure: Procedure,
    timepoint: str,
    visit_date: date,
    radiographs: Iterable[Mapping[str, Any]] = (),
    **answers: Any,
) -> FollowUpVisit:
    """Record a visit (VAS, ODI answers, ...) and its radiographs per treated vertebra.

    The ODI % is derived on save; an out-of-window date is kept and flagged, not refused.
    """
    require_clinical_edit(user=user, site=procedure.patient.site)
    with transaction.atomic():
        visit = FollowUpVisit(
            procedure=procedure, timepoint=timepoint, visit_date=visit_date, **answers
        )
        save_validated(visit, user=user)
        for measurement in radiographs:
            save_validated(RadiographicMeasurement(visit=visit, **measurement), user=user)
        announce_change(site_id=procedure.patient.site_id, user=user)
    return visit


def radiograph_record(
    *, user: AbstractBaseUser, visit: FollowUpVisit, **measurements: Any
) -> RadiographicMeasurement:
    require_clinical_edit(user=user, site=visit.procedure.patient.site)
    with transaction.atomic():
        radiograph = RadiographicMeasurement(visit=visit, **measurements)
        save_validated(radiograph, user=user)
        announce_change(site_id=visit.procedure.patient.site_id, user=user)
    return radiograph
