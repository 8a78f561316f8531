"""A small clinical case per site for the API tests (patient, fracture, procedure with a
treated level, baseline and 12-week visits with films, an adverse event)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Patient,
    Procedure,
    Technique,
    TreatedLevel,
)
from tests.factories import (
    FractureFactory,
    PatientFactory,
    ProcedureFactory,
    RadiographFactory,
    TreatedLevelFactory,
    VisitFactory,
)


@dataclass
class Case:
    patient: Patient
    procedure: Procedure
    level: TreatedLevel
    baseline: FollowUpVisit
    followup: FollowUpVisit
    event: AdverseEvent


def make_case(site, *, technique="PKP", record_number=None) -> Case:
    extra = {"hospital_record_number": record_number} if record_number else {}
    patient = PatientFactory(site=site, **extra)
    procedure = ProcedureFactory(patient=patient, technique=Technique.objects.get(code=technique))
    level = TreatedLevelFactory(procedure=procedure, fracture=FractureFactory(patient=patient))
    baseline = VisitFactory(procedure=procedure, timepoint="baseline")
    RadiographFactory(visit=baseline, treated_level=level)
    followup = VisitFactory(
        procedure=procedure, timepoint="12w", visit_date=date(2024, 4, 8), vas="2.0"
    )
    RadiographFactory(visit=followup, treated_level=level, anterior_height_mm="24.0")
    event = AdverseEvent.objects.create(
        procedure=procedure,
        event_type="other",
        onset_date=date(2024, 1, 20),
        clavien_dindo="I",
        description="Transient nausea",
    )
    return Case(patient, procedure, level, baseline, followup, event)
