from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry import services
from registry.models import FollowUpVisit, Patient, Procedure, TreatedLevel
from registry.signals import clinical_data_changed
from tests.factories import FractureFactory, PatientFactory, technique

pytestmark = pytest.mark.django_db

PATIENT = dict(
    hospital_record_number="HRN-77",
    family_name="Doe",
    given_name="Jane",
    date_of_birth=date(1955, 3, 2),
    sex="F",
    consent_given=True,
    consent_date=date(2024, 1, 2),
)


def test_it_creates_a_patient_with_history_attributed_to_the_user(site_a, surgeon_a):
    patient = services.patient_create(user=surgeon_a, site=site_a, **PATIENT)
    record = patient.history.get()
    assert record.history_type == "+"
    assert record.history_user == surgeon_a


def test_an_update_bumps_the_version_and_records_who_changed_what(site_a, surgeon_a):
    patient = services.patient_create(user=surgeon_a, site=site_a, **PATIENT)
    updated = services.patient_update(
        user=surgeon_a, patient=patient, expected_version=1, data={"weight_kg": Decimal("61.5")}
    )
    assert updated.version == 2
    latest, first = patient.history.order_by("-history_date")[:2]
    delta = latest.diff_against(first)
    assert [(c.field, c.old, c.new) for c in delta.changes if c.field == "weight_kg"] == [
        ("weight_kg", None, Decimal("61.5"))
    ]
    assert latest.history_user == surgeon_a


def test_a_stale_edit_is_refused_and_names_what_changed(site_a, surgeon_a, site_admin_a):
    patient = services.patient_create(user=surgeon_a, site=site_a, **PATIENT)
    services.patient_update(
        user=site_admin_a, patient=patient, expected_version=1, data={"weight_kg": 70}
    )
    with pytest.raises(services.ConflictError) as caught:
        services.patient_update(
            user=surgeon_a, patient=patient, expected_version=1, data={"weight_kg": 55}
        )
    assert ("weight_kg", None, Decimal("70.0")) in caught.value.changes
    assert "changed by someone else" in str(caught.value)
    patient.refresh_from_db()
    assert patient.weight_kg == Decimal("70.0")


def test_an_invalid_update_changes_nothing(site_a, surgeon_a):
    patient = services.patient_create(user=surgeon_a, site=site_a, **PATIENT)
    with pytest.raises(ValidationError) as caught:
        services.patient_update(
            user=surgeon_a, patient=patient, expected_version=1, data={"height_cm": 20}
        )
    assert "height_cm" in caught.value.message_dict
    patient.refresh_from_db()
    assert (patient.version, patient.height_cm) == (1, None)


def test_a_coordinator_cannot_write_clinical_records(site_a, coordinator):
    with pytest.raises(PermissionDenied):
        services.patient_create(user=coordinator, site=site_a, **PATIENT)
    assert not Patient.objects.exists()


def test_a_surgeon_cannot_write_at_another_site(site_b, surgeon_a):
    with pytest.raises(PermissionDenied):
        services.patient_create(user=surgeon_a, site=site_b, **PATIENT)


def test_a_procedure_is_saved_with_all_its_levels_or_not_at_all(site_a, surgeon_a):
    patient = PatientFactory(site=site_a)
    t12 = FractureFactory(patient=patient, level="T12")
    l1 = FractureFactory(patient=patient, level="L1")
    with pytest.raises(ValidationError) as caught:
        services.procedure_record(
            user=surgeon_a,
            patient=patient,
            technique=technique("PKP"),
            date=date(2024, 2, 1),
            approach="bipedicular",
            anaesthesia="local",
            levels=[
                {"fracture": t12, "cement_volume_ml": Decimal("4.0"), "devices_used": 2},
                {
                    "fracture": l1,
                    "cement_volume_ml": Decimal("4.0"),
                    "devices_used": 2,
                    "devices_ruptured": 3,
                },
            ],
        )
    assert "devices_ruptured" in caught.value.message_dict
    assert not Procedure.objects.exists()
    assert not TreatedLevel.objects.exists()


def test_a_procedure_cannot_treat_another_patients_fracture(site_a, surgeon_a):
    patient = PatientFactory(site=site_a)
    other = FractureFactory(patient=PatientFactory(site=site_a))
    with pytest.raises(ValidationError) as caught:
        services.procedure_record(
            user=surgeon_a,
            patient=patient,
            technique=technique("PVP"),
            date=date(2024, 2, 1),
            approach="unipedicular",
            anaesthesia="local",
            levels=[{"fracture": other}],
        )
    assert caught.value.message_dict == {"fracture": ["This fracture belongs to another patient."]}


def test_a_visit_with_radiographs_stores_derived_values_and_history(site_a, surgeon_a):
    patient = PatientFactory(site=site_a)
    fracture = FractureFactory(patient=patient, level="L1")
    procedure = services.procedure_record(
        user=surgeon_a,
        patient=patient,
        technique=technique("PKP"),
        date=date(2024, 2, 1),
        approach="bipedicular",
        anaesthesia="local",
        levels=[{"fracture": fracture, "cement_volume_ml": Decimal("4.5"), "devices_used": 2}],
    )
    level = procedure.treated_levels.get()
    visit = services.visit_record(
        user=surgeon_a,
        procedure=procedure,
        timepoint="12w",
        visit_date=date(2024, 4, 25),
        vas=Decimal("2.0"),
        **{f"odi_{n}": 1 for n in range(1, 11)},
        radiographs=[
            {
                "treated_level": level,
                "anterior_height_mm": 24,
                "above_anterior_height_mm": 28,
                "below_anterior_height_mm": 32,
            }
        ],
    )
    assert visit.odi_percent == 20.0
    assert visit.radiographs.get().rfvh_percent == 80.0
    assert visit.history.get().history_user == surgeon_a
    assert visit.radiographs.get().history.get().history_user == surgeon_a


def test_a_visit_with_a_bad_radiograph_saves_nothing(site_a, surgeon_a):
    patient = PatientFactory(site=site_a)
    fracture = FractureFactory(patient=patient)
    procedure = services.procedure_record(
        user=surgeon_a,
        patient=patient,
        technique=technique("PVP"),
        date=date(2024, 2, 1),
        approach="unipedicular",
        anaesthesia="local",
        levels=[{"fracture": fracture}],
    )
    with pytest.raises(ValidationError):
        services.visit_record(
            user=surgeon_a,
            procedure=procedure,
            timepoint="2w",
            visit_date=date(2024, 2, 15),
            vas=Decimal("3.0"),
            radiographs=[
                {"treated_level": procedure.treated_levels.get(), "anterior_height_mm": -1}
            ],
        )
    assert not FollowUpVisit.objects.exists()


def test_only_a_site_administrator_withdraws_and_the_record_stays(site_a, surgeon_a, site_admin_a):
    patient = PatientFactory(site=site_a)
    with pytest.raises(PermissionDenied):
        services.patient_withdraw(user=surgeon_a, patient=patient, reason="Consent withdrawn")
    with pytest.raises(ValidationError):
        services.patient_withdraw(user=site_admin_a, patient=patient, reason=" ")
    services.patient_withdraw(user=site_admin_a, patient=patient, reason="Consent withdrawn")
    patient.refresh_from_db()
    assert patient.is_withdrawn
    assert patient.history.latest().history_user == site_admin_a
    assert patient not in Patient.objects.active()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_writes_announce_the_change_after_commit(
    site_a, surgeon_a, django_capture_on_commit_callbacks
):
    received = []

    def receiver(**kwargs):
        received.append(kwargs["site_id"])

    clinical_data_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.patient_create(user=surgeon_a, site=site_a, **PATIENT)
    finally:
        clinical_data_changed.disconnect(receiver)
    assert received == [site_a.pk]


def test_a_withdrawal_announces_the_change_so_statistics_refresh(
    site_a, site_admin_a, django_capture_on_commit_callbacks
):
    patient = PatientFactory(site=site_a)
    received = []

    def receiver(**kwargs):
        received.append(kwargs["site_id"])

    clinical_data_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.patient_withdraw(
                user=site_admin_a, patient=patient, reason="Consent withdrawn"
            )
    finally:
        clinical_data_changed.disconnect(receiver)
    assert received == [site_a.pk]


def test_edits_refuse_a_withdrawn_patient(site_a, site_admin_a):
    patient = PatientFactory(site=site_a)
    services.patient_withdraw(user=site_admin_a, patient=patient, reason="Consent withdrawn")
    patient.refresh_from_db()
    with pytest.raises(PermissionDenied, match="read-only"):
        services.patient_update(
            user=site_admin_a,
            patient=patient,
            expected_version=patient.version,
            data={"weight_kg": 60},
        )
