"""Where a patient's case entry stands (patient, fractures, procedure, baseline visit): the
one rule `next_step`, used by the patient list, the worklist's incomplete cases, the case-entry
stepper and the resume links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Subquery

from registry.models import FollowUpVisit, Fracture, Patient, Procedure, Site, TimepointChoice
from registry.selectors.followups import FollowUpItem, pending_follow_ups, visible_site_ids

INCOMPLETE_LOOKBACK_DAYS = 365
FRACTURES, PROCEDURE, BASELINE = "fractures", "procedure", "baseline"
STILL_MISSING = {
    FRACTURES: "fractures, procedure, baseline visit",
    PROCEDURE: "procedure, baseline visit",
    BASELINE: "baseline visit",
}


def next_step(*, has_fracture: bool, has_procedure: bool, missing_baseline: bool) -> str | None:
    """The first case-entry step not done: FRACTURES, PROCEDURE, BASELINE, or None."""
    if not has_fracture:
        return FRACTURES
    if not has_procedure:
        return PROCEDURE
    if missing_baseline:
        return BASELINE
    return None


def incomplete_cases(
    *, user: AbstractBaseUser, site: Site | None, today: date
) -> QuerySet[Patient]:
    """Patients whose case entry stopped early: no procedure yet (no fracture either, or
    fractures only), or a procedure of the last INCOMPLETE_LOOKBACK_DAYS days without its
    baseline visit. Each row carries what is missing (annotations), newest registration first.

    Both conditions are sets computed once (hashed by PostgreSQL) rather than probed patient
    by patient: recent procedures come from the date index.
    """
    site_ids = visible_site_ids(user=user, site=site)
    no_baseline = FollowUpVisit.objects.filter(
        procedure=OuterRef("pk"), timepoint=TimepointChoice.BASELINE
    )
    recent_without_baseline = (
        Procedure.objects.filter(
            date__gte=today - timedelta(days=INCOMPLETE_LOOKBACK_DAYS),
            patient__site_id__in=site_ids,
        )
        .exclude(Exists(no_baseline))
        .values("patient_id")
    )
    first_without_baseline = (
        Procedure.objects.filter(
            patient=OuterRef("pk"), date__gte=today - timedelta(days=INCOMPLETE_LOOKBACK_DAYS)
        )
        .exclude(Exists(no_baseline))
        .order_by("date", "pk")
        .values("pk")[:1]
    )
    return (
        Patient.objects.filter(site_id__in=site_ids, withdrawn_at__isnull=True)
        .filter(
            ~Q(pk__in=Procedure.objects.values("patient_id")) | Q(pk__in=recent_without_baseline)
        )
        .annotate(
            has_fracture=Exists(Fracture.objects.filter(patient=OuterRef("pk"))),
            has_procedure=Exists(Procedure.objects.filter(patient=OuterRef("pk"))),
            procedure_without_baseline=Subquery(
                first_without_baseline, output_field=IntegerField()
            ),
        )
        .select_related("site")
        .order_by("-pk")
    )


@dataclass(frozen=True)
class CaseStatus:
    """Where a patient's case entry stands, from prefetched rows (no query)."""

    next_step: str | None  # "fractures", "procedure", "baseline" or None when complete
    procedure: Procedure | None
    follow_ups: list[FollowUpItem]


def case_status(patient: Patient, today: date) -> CaseStatus:
    fractures = list(patient.fractures.all())
    procedures = sorted(patient.procedures.all(), key=lambda p: (p.date, p.pk))
    follow_ups: list[FollowUpItem] = []
    withdrawn_on = patient.withdrawn_at.date() if patient.withdrawn_at else None
    if not patient.is_withdrawn:
        for procedure in procedures:
            recorded = [v.timepoint for v in procedure.visits.all()]
            follow_ups += [
                FollowUpItem(
                    i.timepoint, i.status, i.window_start, i.target_date, i.window_end, procedure
                )
                for i in pending_follow_ups(procedure.date, recorded, today, withdrawn_on)
            ]
    without_baseline = next(
        (
            p
            for p in procedures
            if not any(v.timepoint == TimepointChoice.BASELINE for v in p.visits.all())
        ),
        None,
    )
    step = next_step(
        has_fracture=bool(fractures),
        has_procedure=bool(procedures),
        missing_baseline=without_baseline is not None,
    )
    if step == BASELINE:
        return CaseStatus(step, without_baseline, follow_ups)
    return CaseStatus(step, procedures[-1] if procedures and step is None else None, follow_ups)
