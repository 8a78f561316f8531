"""Form-level rules of case entry (before any service runs)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.forms import (
    AdverseEventForm,
    FractureForm,
    LevelPickerForm,
    RadiographForm,
    TreatedLevelForm,
    VisitForm,
)
from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Fracture,
    RadiographicMeasurement,
    TreatedLevel,
)
from tests.factories import PatientFactory, ProcedureFactory, VisitFactory

pytestmark = pytest.mark.django_db


def fracture_form(data, patient=None):
    patient = patient or PatientFactory()
    return FractureForm(
        data, prefix="L1", instance=Fracture(patient=patient, level="L1"), with_level=False
    )


@pytest.mark.parametrize(
    "anterior, grade",
    [("22", 0), ("20", 1), ("18", 2), ("14", 3)],  # reference mean 26 mm
)
def test_the_heights_suggest_a_genant_grade(anterior, grade):
    form = fracture_form(
        {
            "L1-genant_grade": "2",
            "L1-aetiology": "osteoporotic",
            "L1-anterior_height_mm": anterior,
            "L1-above_anterior_height_mm": "25",
            "L1-below_anterior_height_mm": "27",
        }
    )
    assert form.is_valid(), form.errors
    assert form.suggested_grade == grade
    assert form.grade_mismatch is (grade != 2)


def test_without_heights_there_is_no_suggestion_and_no_mismatch():
    form = fracture_form({"L1-genant_grade": "3", "L1-aetiology": "osteoporotic"})
    assert form.is_valid()
    assert form.suggested_grade is None and not form.grade_mismatch
    assert "anterior_height_mm" not in form.model_data()


def test_a_genant_grade_outside_1_to_3_is_refused():
    form = fracture_form({"L1-genant_grade": "4", "L1-aetiology": "osteoporotic"})
    assert "genant_grade" in form.errors


def test_an_onset_before_birth_is_refused_on_the_onset():
    patient = PatientFactory()
    before = (patient.date_of_birth - timedelta(days=1)).isoformat()
    form = fracture_form(
        {"L1-genant_grade": "2", "L1-aetiology": "osteoporotic", "L1-onset_date": before},
        patient,
    )
    assert "cannot precede the date of birth" in form.errors["onset_date"][0]


def test_the_level_picker_sorts_levels_and_refuses_recorded_ones():
    picker = LevelPickerForm({"levels": ["L1", "T12", "T9"]})
    assert picker.is_valid()
    assert picker.cleaned_data["levels"] == ["T9", "T12", "L1"]
    refused = LevelPickerForm({"levels": ["L1"]}, recorded={"L1"})
    assert "Already recorded" in refused.errors["levels"][0]
    assert not LevelPickerForm({"levels": ["X9"]}).is_valid()


def level_form(data):
    fracture = Fracture(level="T12", genant_grade=2)
    return TreatedLevelForm(
        data, prefix="lv", instance=TreatedLevel(fracture=fracture), choosable=True
    )


def test_an_untreated_vertebra_is_not_validated():
    form = level_form({"lv-cement_volume_ml": "abc"})
    assert not form.is_treated and form.is_valid()


def test_treated_level_rules():
    form = level_form(
        {
            "lv-treated": "on",
            "lv-leakage": "none",
            "lv-leakage_seen_on": "ct",
            "lv-devices_used": "1",
            "lv-devices_ruptured": "2",
        }
    )
    assert not form.is_valid()
    assert "leakage_seen_on" in form.errors
    assert "devices_ruptured" in form.errors
    ok = level_form(
        {
            "lv-treated": "on",
            "lv-leakage": "C",
            "lv-leakage_location": "epidural",
            "lv-leakage_symptomatic": "on",
            "lv-devices_used": "2",
            "lv-devices_ruptured": "1",
            "lv-cement_volume_ml": "3.5",
        }
    )
    assert ok.is_valid(), ok.errors
    assert "treated" not in ok.model_data()


def visit_form(data, procedure=None):
    procedure = procedure or ProcedureFactory()
    return VisitForm(data, instance=FollowUpVisit(procedure=procedure))


def test_the_odi_preview_follows_the_8_of_10_rule():
    answers = {f"odi_{n}": "2" for n in range(1, 9)}
    assert visit_form(answers).odi_preview() == 40.0
    del answers["odi_8"]
    assert visit_form(answers).odi_preview() is None
    assert visit_form({**answers, "odi_8": "9"}).odi_preview() is None  # 9 is not an answer


def test_an_odi_answer_of_6_is_refused_on_its_section():
    form = visit_form(
        {"timepoint": "2w", "visit_date": timezone.localdate().isoformat(), "odi_4": "6"}
    )
    assert list(form.errors) == ["odi_4"]


def test_a_timepoint_already_recorded_is_left_to_the_service():
    """The form does not check it (the service does, race-safe, with a link to the visit)."""
    visit = VisitFactory()
    form = visit_form(
        {"timepoint": "baseline", "visit_date": visit.visit_date.isoformat()}, visit.procedure
    )
    assert "timepoint" not in form.errors
    again = visit_form(
        {"timepoint": "unscheduled", "visit_date": timezone.localdate().isoformat()},
        visit.procedure,
    )
    assert again.is_valid(), again.errors


def test_weight_bearing_date_needs_weight_bearing():
    form = visit_form(
        {
            "timepoint": "2w",
            "visit_date": timezone.localdate().isoformat(),
            "weight_bearing_resumed": "false",
            "weight_bearing_date": timezone.localdate().isoformat(),
        }
    )
    assert "weight_bearing_date" in form.errors


def test_an_empty_radiograph_form_means_not_measured():
    level = TreatedLevel(fracture=Fracture(level="L1", genant_grade=2))
    blank = RadiographForm(
        {"r-film_position": "standing"},
        prefix="r",
        instance=RadiographicMeasurement(treated_level=level),
    )
    assert blank.is_blank() and blank.is_valid()
    filled = RadiographForm(
        {"r-film_position": "standing", "r-anterior_height_mm": "90"},
        prefix="r",
        instance=RadiographicMeasurement(treated_level=level),
    )
    assert not filled.is_blank()
    assert "anterior_height_mm" in filled.errors


def test_the_rfvh_preview_mirrors_the_server():
    level = TreatedLevel(fracture=Fracture(level="L1", genant_grade=2))
    form = RadiographForm(
        {
            "r-anterior_height_mm": "15",
            "r-above_anterior_height_mm": "25",
            "r-below_anterior_height_mm": "27",
        },
        prefix="r",
        instance=RadiographicMeasurement(treated_level=level),
    )
    assert form.rfvh_preview() == 57.69


def test_an_optional_adverse_event_form_is_empty_or_complete():
    procedure = ProcedureFactory()

    def ae(data):
        return AdverseEventForm(
            data, prefix="ae", instance=AdverseEvent(procedure=procedure), optional=True
        )

    assert ae({"ae-resolved": "unknown"}).is_blank()
    partial = ae({"ae-event_type": "infection"})
    assert not partial.is_valid()
    assert set(partial.errors) == {"onset_date", "clavien_dindo"}
    full = ae(
        {
            "ae-event_type": "infection",
            "ae-onset_date": procedure.date.isoformat(),
            "ae-clavien_dindo": "I",
        }
    )
    assert full.is_valid(), full.errors
