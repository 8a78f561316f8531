"""The browser enforces the ranges the server enforces: attributes come from the model."""

import pytest
from django.utils import timezone

from registry.forms import (
    AdverseEventForm,
    FractureForm,
    PatientForm,
    ProcedureForm,
    RadiographForm,
    TreatedLevelForm,
    VisitForm,
)
from registry.forms.base import unit_for
from registry.models import AdverseEvent, FollowUpVisit, Fracture, RadiographicMeasurement

pytestmark = pytest.mark.django_db


def attrs(form, name) -> dict:
    return form.fields[name].widget.attrs


@pytest.mark.parametrize(
    "form_class, name, expected",
    [
        (VisitForm, "vas", {"min": "0", "max": "10"}),
        (PatientForm, "height_cm", {"min": "100", "max": "230"}),
        (PatientForm, "weight_kg", {"min": "25", "max": "250"}),
        (PatientForm, "bmd_t_score", {"min": "-8", "max": "4"}),
        (RadiographForm, "anterior_height_mm", {"min": "0.1", "max": "80"}),
        (RadiographForm, "lka_degrees", {"min": "-45", "max": "90"}),
        (TreatedLevelForm, "cement_volume_ml", {"min": "0.1", "max": "20"}),
        (TreatedLevelForm, "devices_used", {"min": "0", "max": "4"}),
        (ProcedureForm, "operation_time_min", {"min": "1", "max": "600"}),
        (ProcedureForm, "fluoroscopy_shots", {"min": "0", "max": "2000"}),
    ],
)
def test_min_and_max_come_from_the_model_validators(form_class, name, expected):
    form = _form(form_class)
    assert {k: str(attrs(form, name)[k]) for k in expected} == expected


def _form(form_class):
    if form_class is VisitForm:
        return VisitForm(instance=FollowUpVisit())
    if form_class is RadiographForm:
        return RadiographForm(instance=RadiographicMeasurement())
    if form_class is TreatedLevelForm:
        from registry.models import TreatedLevel

        return TreatedLevelForm(instance=TreatedLevel(fracture=Fracture(level="L1")))
    if form_class is ProcedureForm:
        return ProcedureForm()
    return form_class()


def test_decimals_step_by_their_places_and_show_units():
    form = VisitForm(instance=FollowUpVisit())
    assert str(form["vas"]).count('step="0.1"') == 1
    assert 'step="0.1"' in str(_form(RadiographForm)["anterior_height_mm"])
    assert unit_for("anterior_height_mm") == "mm"
    assert unit_for("cement_volume_ml") == "ml"
    assert unit_for("lka_degrees") == "°"
    assert unit_for("vas") == ""


def test_dates_use_the_date_picker_and_cannot_be_in_the_future():
    html = str(PatientForm()["date_of_birth"])
    assert 'type="date"' in html
    assert f'max="{timezone.localdate().isoformat()}"' in html
    assert f'max="{timezone.localdate().isoformat()}"' in str(
        AdverseEventForm(instance=AdverseEvent(procedure=_procedure()))["onset_date"]
    )


def _procedure():
    from tests.factories import ProcedureFactory

    return ProcedureFactory()


def test_odi_sections_are_radio_groups_0_to_5_with_a_not_answered_choice():
    form = VisitForm(instance=FollowUpVisit())
    values = [choice.data["value"] for choice in form["odi_3"]]
    assert values == ["", 0, 1, 2, 3, 4, 5]
    assert form.fields["odi_3"].label == "Lifting"


def test_an_edit_form_carries_the_version_and_a_new_one_does_not(db):
    from tests.factories import FractureFactory

    fracture = FractureFactory()
    assert "version" not in FractureForm(instance=Fracture(patient=fracture.patient)).fields
    edit = FractureForm(instance=fracture)
    assert edit["version"].value() == 1
    assert 'type="hidden"' in str(edit["version"])


def test_required_fields_are_marked_required_in_the_browser():
    html = str(PatientForm()["family_name"])
    assert "required" in html
    assert "required" not in str(PatientForm()["height_cm"])
