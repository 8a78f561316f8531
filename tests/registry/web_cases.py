"""Builders for the view tests: whole cases written through the services (history included)."""

from datetime import date, timedelta
from decimal import Decimal

from django.test import Client

from registry import services
from registry.models import ODI_FIELDS, Technique
from tests.factories import PASSWORD


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def patient_for(site, surgeon, **extra):
    data = dict(
        hospital_record_number=extra.pop("hospital_record_number", "HRN-1"),
        family_name=extra.pop("family_name", "Doe"),
        given_name=extra.pop("given_name", "Jane"),
        date_of_birth=date(1950, 3, 2),
        sex="F",
        consent_given=True,
        consent_date=date(2024, 1, 2),
    )
    data.update(extra)
    return services.patient_create(user=surgeon, site=site, **data)


def full_case(
    site,
    surgeon,
    *,
    procedure_date: date | None = None,
    levels=("T12", "L1"),
    baseline: bool = True,
    **patient_fields,
):
    """Patient, fractures, a PKP on every level, and (by default) the baseline visit."""
    patient = patient_for(site, surgeon, **patient_fields)
    fractures = [
        services.fracture_create(user=surgeon, patient=patient, level=level, genant_grade=2)
        for level in levels
    ]
    when = procedure_date or date(2024, 3, 1)
    procedure = services.procedure_record(
        user=surgeon,
        patient=patient,
        technique=Technique.objects.get(code="PKP"),
        date=when,
        approach="bipedicular",
        anaesthesia="local",
        levels=[
            {"fracture": f, "cement_volume_ml": Decimal("4.5"), "devices_used": 2}
            for f in fractures
        ],
    )
    visit = None
    if baseline:
        levels_treated = list(procedure.treated_levels.all())
        visit = services.visit_record(
            user=surgeon,
            procedure=procedure,
            timepoint="baseline",
            visit_date=when - timedelta(days=1),
            vas=Decimal("8.5"),
            **dict.fromkeys(ODI_FIELDS, 3),
            radiographs=[
                {
                    "treated_level": tl,
                    "anterior_height_mm": Decimal("15.0"),
                    "above_anterior_height_mm": Decimal("25.0"),
                    "below_anterior_height_mm": Decimal("27.0"),
                    "lka_degrees": Decimal("20.0"),
                }
                for tl in levels_treated
            ],
        )
    return patient, procedure, visit


def record_visit(surgeon, procedure, timepoint: str, *, days: int, **answers):
    """A follow-up visit `days` after the procedure."""
    return services.visit_record(
        user=surgeon,
        procedure=procedure,
        timepoint=timepoint,
        visit_date=procedure.date + timedelta(days=days),
        **answers,
    )
