"""Model validation: bad input gets a field-level message and nothing is saved."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.models import FollowUpVisit, Fracture, Patient, TreatedLevel
from tests.factories import (
    FractureFactory,
    PatientFactory,
    ProcedureFactory,
    RadiographFactory,
    TreatedLevelFactory,
    VisitFactory,
)


def errors_of(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return caught.value.message_dict


pytestmark = pytest.mark.django_db


class TestFieldRanges:
    @pytest.mark.parametrize("vas", [Decimal("-0.1"), Decimal("10.1"), Decimal("11")])
    def test_vas_outside_0_to_10_is_refused_on_the_field(self, vas):
        visit = VisitFactory.build(procedure=ProcedureFactory(), vas=vas)
        assert "vas" in errors_of(visit)

    def test_vas_with_one_decimal_is_accepted(self):
        visit = VisitFactory(vas=Decimal("7.5"))
        visit.full_clean()

    def test_odi_section_above_5_is_refused_on_that_section(self):
        visit = VisitFactory.build(procedure=ProcedureFactory(), odi_4=6)
        assert list(errors_of(visit)) == ["odi_4"]

    def test_height_must_be_positive(self):
        radiograph = RadiographFactory.build(
            visit=VisitFactory(), treated_level=TreatedLevelFactory(), anterior_height_mm=0
        )
        assert "anterior_height_mm" in errors_of(radiograph)

    def test_genant_grade_is_1_to_3(self):
        assert "genant_grade" in errors_of(
            FractureFactory.build(patient=PatientFactory(), genant_grade=4)
        )


class TestDatabaseConstraints:
    """The database refuses what bypasses validation (bulk writes, other clients)."""

    def test_vas_range(self):
        visit = VisitFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            FollowUpVisit.objects.filter(pk=visit.pk).update(vas=Decimal("11"))

    def test_odi_section_range(self):
        visit = VisitFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            FollowUpVisit.objects.filter(pk=visit.pk).update(odi_10=6)

    def test_one_visit_per_procedure_per_scheduled_timepoint(self):
        visit = VisitFactory(timepoint="12w", visit_date=date(2024, 4, 10))
        with pytest.raises(IntegrityError), transaction.atomic():
            FollowUpVisit.objects.create(
                procedure=visit.procedure, timepoint="12w", visit_date=date(2024, 4, 12)
            )

    def test_unscheduled_visits_may_repeat(self):
        visit = VisitFactory(timepoint="unscheduled", visit_date=date(2024, 2, 10))
        FollowUpVisit.objects.create(
            procedure=visit.procedure, timepoint="unscheduled", visit_date=date(2024, 2, 20)
        )
        assert visit.procedure.visits.count() == 2

    def test_one_fracture_per_patient_per_level_per_episode(self):
        fracture = FractureFactory(level="T12")
        with pytest.raises(IntegrityError), transaction.atomic():
            Fracture.objects.create(patient=fracture.patient, level="T12", genant_grade=2)
        Fracture.objects.create(patient=fracture.patient, level="T12", episode=2, genant_grade=2)

    def test_a_second_unique_fracture_is_the_services_duplicate_error(self, site_a, surgeon_a):
        """Model validation leaves uniqueness to the services (their DuplicateError names the
        existing record, also after a lost race); the database still enforces it."""
        from registry.services import DuplicateError, fracture_create

        fracture = FractureFactory(level="T12", patient__site=site_a)
        Fracture(patient=fracture.patient, level="T12", genant_grade=2).full_clean()
        with pytest.raises(DuplicateError) as caught:
            fracture_create(user=surgeon_a, patient=fracture.patient, level="T12", genant_grade=2)
        assert caught.value.existing == fracture
        assert "already recorded" in caught.value.message_dict["level"][0]

    def test_heights_positive(self):
        radiograph = RadiographFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            type(radiograph).objects.filter(pk=radiograph.pk).update(posterior_height_mm=0)

    def test_ruptured_devices_cannot_exceed_devices_used(self):
        level = TreatedLevelFactory(devices_used=2)
        with pytest.raises(IntegrityError), transaction.atomic():
            TreatedLevel.objects.filter(pk=level.pk).update(devices_ruptured=3)

    def test_registry_id_is_unique(self):
        first = PatientFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            PatientFactory(registry_id=first.registry_id, site=first.site)


class TestCrossFieldRules:
    def test_a_follow_up_visit_must_be_after_the_procedure(self):
        procedure = ProcedureFactory(date=date(2024, 1, 15))
        visit = FollowUpVisit(procedure=procedure, timepoint="2w", visit_date=date(2024, 1, 15))
        assert errors_of(visit) == {
            "visit_date": ["A follow-up visit must be after the procedure date."]
        }

    def test_the_baseline_visit_may_be_on_the_procedure_day_but_not_after(self):
        procedure = ProcedureFactory(date=date(2024, 1, 15))
        FollowUpVisit(
            procedure=procedure, timepoint="baseline", visit_date=date(2024, 1, 15)
        ).full_clean()
        late = FollowUpVisit(
            procedure=procedure, timepoint="baseline", visit_date=date(2024, 1, 16)
        )
        assert "visit_date" in errors_of(late)

    def test_a_treated_fracture_must_belong_to_the_procedures_patient(self):
        procedure = ProcedureFactory()
        someone_elses = FractureFactory()
        level = TreatedLevel(procedure=procedure, fracture=someone_elses, devices_used=2)
        assert errors_of(level) == {"fracture": ["This fracture belongs to another patient."]}

    def test_a_radiograph_must_be_of_a_vertebra_treated_in_the_visits_procedure(self):
        visit = VisitFactory()
        other_level = TreatedLevelFactory()
        radiograph = RadiographFactory.build(visit=visit, treated_level=other_level)
        assert "treated_level" in errors_of(radiograph)

    @pytest.mark.parametrize("field", ["date_of_birth", "consent_date"])
    def test_patient_dates_cannot_be_in_the_future(self, field):
        patient = PatientFactory.build(site=PatientFactory().site)
        setattr(patient, field, timezone.localdate() + timedelta(days=1))
        assert errors_of(patient)[field] == ["This date is in the future."]

    def test_a_future_procedure_date_is_refused(self):
        procedure = ProcedureFactory.build(
            patient=PatientFactory(), date=timezone.localdate() + timedelta(days=3)
        )
        assert "date" in errors_of(procedure)

    def test_consent_needs_a_date(self):
        patient = PatientFactory.build(site=PatientFactory().site, consent_date=None)
        assert "consent_date" in errors_of(patient)

    def test_type_c_leakage_needs_a_location(self):
        level = TreatedLevelFactory.build(
            procedure=ProcedureFactory(), fracture=FractureFactory(), leakage="C"
        )
        level.fracture.patient = level.procedure.patient
        level.fracture.save()
        assert errors_of(level) == {
            "leakage_location": ["Say where a type C (cortical) leak went."]
        }

    def test_adverse_event_cannot_precede_the_procedure(self):
        from registry.models import AdverseEvent

        procedure = ProcedureFactory(date=date(2024, 1, 15))
        event = AdverseEvent(
            procedure=procedure,
            event_type="infection",
            onset_date=date(2024, 1, 1),
            clavien_dindo="II",
        )
        assert "onset_date" in errors_of(event)


class TestDerivedColumns:
    def test_odi_percent_is_stored_on_save(self):
        visit = VisitFactory(**{f"odi_{n}": 2 for n in range(1, 11)})
        visit.refresh_from_db()
        assert visit.odi_percent == Decimal("40.0")
        assert visit.odi_band == "moderate"

    def test_rfvh_is_stored_on_save_and_restated_on_change(self):
        radiograph = RadiographFactory(
            anterior_height_mm=15, above_anterior_height_mm=28, below_anterior_height_mm=32
        )
        radiograph.refresh_from_db()
        assert radiograph.rfvh_percent == Decimal("50.00")
        assert radiograph.height_loss == 50.0
        assert radiograph.suggested_genant_grade == 3
        radiograph.anterior_height_mm = 27
        radiograph.save()
        radiograph.refresh_from_db()
        assert radiograph.rfvh_percent == Decimal("90.00")

    def test_genant_mismatch_compares_with_the_surgeons_grade(self):
        radiograph = RadiographFactory(
            anterior_height_mm=15, above_anterior_height_mm=28, below_anterior_height_mm=32
        )
        radiograph.treated_level.fracture.genant_grade = 1
        assert radiograph.genant_mismatch is True
        radiograph.treated_level.fracture.genant_grade = 3
        assert radiograph.genant_mismatch is False

    def test_patient_bmi_and_age(self):
        patient = PatientFactory(date_of_birth=date(1950, 5, 17), height_cm=160, weight_kg=64)
        assert patient.bmi == 25.0
        assert patient.age_on(date(2024, 5, 16)) == 73

    def test_visit_window_uses_the_procedure_date(self):
        visit = VisitFactory(timepoint="12w", visit_date=date(2024, 8, 1))
        assert visit.window.status == "late"

    def test_patients_get_a_pseudonym_that_is_not_their_record_number(self):
        patient = PatientFactory(hospital_record_number="HRN-1")
        assert patient.registry_id.startswith("OV-")
        assert "HRN" not in patient.registry_id
        assert Patient.IDENTIFIERS == (
            "hospital_record_number",
            "family_name",
            "given_name",
            "date_of_birth",
        )


def test_a_non_round_derived_value_passes_validation():
    """RFVH 57.69 % must validate as the Decimal the column stores, not as a float."""
    radiograph = RadiographFactory.build(
        visit=VisitFactory(),
        treated_level=TreatedLevelFactory(),
        anterior_height_mm=Decimal("15.0"),
        above_anterior_height_mm=Decimal("26.0"),
        below_anterior_height_mm=Decimal("26.0"),
    )
    radiograph.treated_level.fracture.patient = radiograph.visit.procedure.patient
    radiograph.treated_level.procedure = radiograph.visit.procedure
    radiograph.treated_level.fracture.save()
    radiograph.treated_level.save()
    radiograph.refresh_derived()
    radiograph.full_clean()
    assert radiograph.rfvh_percent == Decimal("57.69")
    visit = VisitFactory.build(
        procedure=ProcedureFactory(),
        odi_1=1,
        odi_2=1,
        odi_3=1,
        odi_4=1,
        odi_5=1,
        odi_6=1,
        odi_7=2,
        odi_8=2,
        odi_9=3,
        odi_10=None,
    )
    visit.refresh_derived()
    visit.full_clean()
    assert visit.odi_percent == Decimal("28.9")  # 13 / 45 x 100
