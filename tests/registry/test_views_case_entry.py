"""Case entry in four pages: patient, fractures, procedure, baseline visit.

Every step: the surgeon of the site saves; the other site's surgeon gets 404; the coordinator
reads but is refused (403) on GET and POST; bad input keeps every value, puts the message next
to the field and saves nothing.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.models import (
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    Technique,
    TreatedLevel,
)
from tests.registry.web_cases import patient_for, signed_in

pytestmark = pytest.mark.django_db

PATIENT = {
    "hospital_record_number": "HRN-9",
    "family_name": "Doe",
    "given_name": "Jane",
    "date_of_birth": "1950-01-02",
    "sex": "F",
    "height_cm": "158",
    "weight_kg": "61",
    "corticosteroid_use": "unknown",
    "consent_given": "on",
    "consent_date": "2024-01-01",
}


def field_error(response, field_id: str) -> str:
    """The message rendered next to a field (id="<field id>_error")."""
    html = response.content.decode()
    marker = f'id="{field_id}_error">'
    assert marker in html, f"no error next to {field_id}"
    return html.split(marker, 1)[1].split("</div>", 1)[0]


# --- step 1: the patient ---------------------------------------------------------------------


def test_a_surgeon_registers_a_patient_and_goes_on_to_the_fractures(site_a, surgeon_a):
    response = signed_in(surgeon_a).post(reverse("patient_create"), {"site": site_a.pk, **PATIENT})
    patient = Patient.objects.get()
    assert response["Location"] == reverse("fractures_create", args=[patient.registry_id])
    assert patient.history.get().history_user == surgeon_a
    assert patient.registry_id.startswith("OV-")


def test_the_new_patient_form_offers_only_sites_the_user_edits(site_a, site_b, surgeon_a):
    client = signed_in(surgeon_a)
    html = client.get(reverse("patient_create")).content.decode()
    assert "Hospital A" in html and "Hospital B" not in html
    response = client.post(reverse("patient_create"), {"site": site_b.pk, **PATIENT})
    assert response.status_code == 200
    assert "Select a valid choice" in field_error(response, "id_site")
    assert not Patient.objects.exists()


def test_a_coordinator_cannot_register_a_patient(site_a, coordinator):
    client = signed_in(coordinator)
    assert client.get(reverse("patient_create")).status_code == 403
    assert client.post(reverse("patient_create"), {"site": site_a.pk, **PATIENT}).status_code == 403
    assert not Patient.objects.exists()


def test_bad_patient_input_keeps_the_values_and_saves_nothing(site_a, surgeon_a):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = signed_in(surgeon_a).post(
        reverse("patient_create"),
        {
            "site": site_a.pk,
            **PATIENT,
            "height_cm": "20",
            "date_of_birth": future,
            "consent_date": "",
        },
    )
    assert response.status_code == 200
    assert "greater than or equal to 100" in field_error(response, "id_height_cm")
    assert "future" in field_error(response, "id_date_of_birth")
    html = response.content.decode()
    assert 'value="20"' in html and 'value="Doe"' in html and 'value="HRN-9"' in html
    assert "Nothing was saved" in html
    assert not Patient.objects.exists()


def test_a_consent_without_its_date_is_refused_on_the_date(site_a, surgeon_a):
    response = signed_in(surgeon_a).post(
        reverse("patient_create"), {"site": site_a.pk, **PATIENT, "consent_date": ""}
    )
    assert "date consent was given" in field_error(response, "id_consent_date")


def test_the_same_record_number_twice_at_a_site_is_refused(site_a, surgeon_a):
    patient_for(site_a, surgeon_a, hospital_record_number="HRN-9")
    response = signed_in(surgeon_a).post(reverse("patient_create"), {"site": site_a.pk, **PATIENT})
    assert response.status_code == 200
    existing = Patient.objects.get(hospital_record_number="HRN-9")
    error = field_error(response, "id_hospital_record_number")
    assert "already registered at this site" in error
    assert f'href="/patients/{existing.registry_id}/"' in error
    assert Patient.objects.count() == 1


# --- step 2: fractures, several on one page -------------------------------------------------


@pytest.fixture
def patient(site_a, surgeon_a):
    return patient_for(site_a, surgeon_a)


def fractures_url(patient) -> str:
    return reverse("fractures_create", args=[patient.registry_id])


TWO_FRACTURES = {
    "levels": ["T12", "L1"],
    "T12-genant_grade": "2",
    "T12-aetiology": "osteoporotic",
    "T12-imaging": "mri",
    "L1-genant_grade": "3",
    "L1-aetiology": "osteoporotic",
    "L1-morphology": "wedge",
}


def test_a_surgeon_records_two_fractures_on_one_page(patient, surgeon_a):
    client = signed_in(surgeon_a)
    page = client.get(fractures_url(patient)).content.decode()
    for level in ("T1", "T12", "L1", "L5"):
        assert f'id="level-{level}"' in page
    response = client.post(fractures_url(patient), TWO_FRACTURES)
    assert response["Location"] == reverse("procedure_create", args=[patient.registry_id])
    assert {f.level: f.genant_grade for f in patient.fractures.all()} == {"T12": 2, "L1": 3}


def test_one_bad_fracture_saves_none_of_them(patient, surgeon_a):
    response = signed_in(surgeon_a).post(
        fractures_url(patient), {**TWO_FRACTURES, "L1-genant_grade": "", "T12-onset_date": "x"}
    )
    assert response.status_code == 200
    assert "required" in field_error(response, "id_L1-genant_grade")
    assert "valid date" in field_error(response, "id_T12-onset_date")
    html = response.content.decode()
    assert 'value="x"' in html  # what was typed stays
    assert 'id="level-T12" autocomplete="off" checked' in html
    assert not Fracture.objects.exists()


def test_a_level_must_be_chosen(patient, surgeon_a):
    response = signed_in(surgeon_a).post(fractures_url(patient), {})
    assert "at least one fractured vertebra" in response.content.decode()
    assert not Fracture.objects.exists()


def test_heights_suggest_the_grade_warn_on_a_mismatch_and_prefill_the_baseline(patient, surgeon_a):
    client = signed_in(surgeon_a)
    response = client.post(
        fractures_url(patient),
        {
            **TWO_FRACTURES,
            "L1-genant_grade": "1",  # heights say 46 % loss: grade 3
            "L1-anterior_height_mm": "14",
            "L1-above_anterior_height_mm": "26",
            "L1-below_anterior_height_mm": "26",
        },
        follow=True,
    )
    assert "heights suggest Genant grade 3" in response.content.decode()
    assert patient.fractures.get(level="L1").genant_grade == 1  # the surgeon's grade is kept
    # The heights travel in the address to the procedure page, not in the session.
    assert "heights=L1%3A14%2F26%2F26" in response.redirect_chain[-1][0]
    assert 'name="heights" value="L1:14/26/26"' in response.content.decode()
    assert not any("height" in key for key, _ in client.session.items())


def test_fracture_entry_access(patient, surgeon_b, coordinator):
    assert signed_in(surgeon_b).get(fractures_url(patient)).status_code == 404
    assert signed_in(surgeon_b).post(fractures_url(patient), TWO_FRACTURES).status_code == 404
    assert signed_in(coordinator).get(fractures_url(patient)).status_code == 403
    assert signed_in(coordinator).post(fractures_url(patient), TWO_FRACTURES).status_code == 403
    assert not Fracture.objects.exists()


def test_an_already_recorded_level_cannot_be_entered_twice(patient, surgeon_a):
    client = signed_in(surgeon_a)
    client.post(fractures_url(patient), TWO_FRACTURES)
    html = client.get(fractures_url(patient)).content.decode()
    assert 'id="level-L1" autocomplete="off" disabled' in html
    response = client.post(fractures_url(patient), TWO_FRACTURES)
    assert "Already recorded for this patient: T12, L1" in response.content.decode()
    assert Fracture.objects.count() == 2


# --- step 3: the procedure ---------------------------------------------------------------------


@pytest.fixture
def fractured(patient, surgeon_a):
    signed_in(surgeon_a).post(fractures_url(patient), TWO_FRACTURES)
    return patient


def procedure_data(patient, **levels_override) -> dict:
    data = {
        "date": (timezone.localdate() - timedelta(days=2)).isoformat(),
        "technique": Technique.objects.get(code="PKP").pk,
        "approach": "bipedicular",
        "route": "transpedicular",
        "anaesthesia": "local",
        "operation_time_min": "45",
    }
    for fracture in patient.fractures.all():
        prefix = f"level-{fracture.pk}"
        data.update(
            {
                f"{prefix}-treated": "on",
                f"{prefix}-cement_volume_ml": "4.5",
                f"{prefix}-leakage": "none",
                f"{prefix}-devices_used": "2",
                f"{prefix}-devices_ruptured": "0",
            }
        )
    data.update(levels_override)
    return data


def procedure_url(patient) -> str:
    return reverse("procedure_create", args=[patient.registry_id])


def test_a_surgeon_records_pkp_on_both_levels(fractured, surgeon_a):
    response = signed_in(surgeon_a).post(procedure_url(fractured), procedure_data(fractured))
    procedure = Procedure.objects.get()
    assert response["Location"].endswith(
        reverse("visit_create", args=[fractured.registry_id, procedure.pk]) + "?timepoint=baseline"
    )
    assert sorted(tl.fracture.level for tl in procedure.treated_levels.all()) == ["L1", "T12"]
    assert procedure.technique.code == "PKP"


def test_an_unticked_vertebra_is_not_treated(fractured, surgeon_a):
    t12 = fractured.fractures.get(level="T12")
    data = procedure_data(fractured)
    del data[f"level-{t12.pk}-treated"]
    data[f"level-{t12.pk}-cement_volume_ml"] = "999"  # ignored: not treated
    signed_in(surgeon_a).post(procedure_url(fractured), data)
    assert [tl.fracture.level for tl in TreatedLevel.objects.all()] == ["L1"]


def test_bad_level_input_saves_no_procedure(fractured, surgeon_a):
    l1 = fractured.fractures.get(level="L1")
    response = signed_in(surgeon_a).post(
        procedure_url(fractured),
        procedure_data(
            fractured,
            **{
                f"level-{l1.pk}-devices_ruptured": "3",
                f"level-{l1.pk}-leakage": "C",
                f"level-{l1.pk}-cement_volume_ml": "25",
            },
        ),
    )
    assert response.status_code == 200
    assert "More devices ruptured" in field_error(response, f"id_level-{l1.pk}-devices_ruptured")
    assert "type C" in field_error(response, f"id_level-{l1.pk}-leakage_location")
    assert "less than or equal to 20" in field_error(response, f"id_level-{l1.pk}-cement_volume_ml")
    assert 'value="25"' in response.content.decode()
    assert not Procedure.objects.exists()


def test_no_treated_vertebra_is_refused(fractured, surgeon_a):
    data = {k: v for k, v in procedure_data(fractured).items() if not k.endswith("-treated")}
    response = signed_in(surgeon_a).post(procedure_url(fractured), data)
    assert "Tick at least one treated vertebra" in response.content.decode()
    assert not Procedure.objects.exists()


def test_a_procedure_in_the_future_is_refused_next_to_the_date(fractured, surgeon_a):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = signed_in(surgeon_a).post(
        procedure_url(fractured), procedure_data(fractured, date=tomorrow)
    )
    assert "future" in field_error(response, "id_date")


def test_procedure_entry_access(fractured, surgeon_b, coordinator):
    data = procedure_data(fractured)
    assert signed_in(surgeon_b).get(procedure_url(fractured)).status_code == 404
    assert signed_in(surgeon_b).post(procedure_url(fractured), data).status_code == 404
    assert signed_in(coordinator).get(procedure_url(fractured)).status_code == 403
    assert signed_in(coordinator).post(procedure_url(fractured), data).status_code == 403
    assert not Procedure.objects.exists()


def test_without_a_fracture_the_procedure_step_sends_back_to_the_fractures(patient, surgeon_a):
    response = signed_in(surgeon_a).get(procedure_url(patient))
    assert response["Location"] == fractures_url(patient)


# --- step 4: the baseline visit -------------------------------------------------------------


@pytest.fixture
def operated(fractured, surgeon_a):
    signed_in(surgeon_a).post(procedure_url(fractured), procedure_data(fractured))
    return Procedure.objects.get()


def visit_url(procedure) -> str:
    return reverse("visit_create", args=[procedure.patient.registry_id, procedure.pk])


def baseline_data(procedure, **override) -> dict:
    data = {
        "timepoint": "baseline",
        "visit_date": (procedure.date - timedelta(days=1)).isoformat(),
        "vas": "8.5",
        **{f"odi_{n}": "3" for n in range(1, 10)},
        "odi_10": "",
    }
    for level in procedure.treated_levels.all():
        prefix = f"rad-{level.pk}"
        data.update(
            {
                f"{prefix}-film_position": "standing",
                f"{prefix}-anterior_height_mm": "15",
                f"{prefix}-above_anterior_height_mm": "25",
                f"{prefix}-below_anterior_height_mm": "27",
                f"{prefix}-lka_degrees": "20",
            }
        )
    data.update(override)
    return data


def test_the_baseline_visit_saves_odi_and_radiographs_per_treated_vertebra(operated, surgeon_a):
    client = signed_in(surgeon_a)
    page = client.get(visit_url(operated) + "?timepoint=baseline").content.decode()
    assert "step 4 of 4" in page
    response = client.post(visit_url(operated), baseline_data(operated), follow=True)
    visit = FollowUpVisit.objects.get()
    assert float(visit.odi_percent) == 60.0  # 27 / (5 x 9 answered) x 100
    assert visit.radiographs.count() == 2
    assert {float(r.rfvh_percent) for r in visit.radiographs.all()} == {57.69}
    assert "ODI 60.0 %" in response.content.decode()


def test_a_vas_of_11_is_refused_next_to_the_field_and_nothing_is_saved(operated, surgeon_a):
    response = signed_in(surgeon_a).post(visit_url(operated), baseline_data(operated, vas="11"))
    assert response.status_code == 200
    assert "less than or equal to 10" in field_error(response, "id_vas")
    html = response.content.decode()
    assert 'value="11"' in html
    assert 'max="10"' in html and 'min="0"' in html and 'step="0.1"' in html
    assert "ODI 60.0 %" in html  # the server's score of what was typed is shown again
    assert not FollowUpVisit.objects.exists()
    assert not RadiographicMeasurement.objects.exists()


def test_a_bad_radiograph_saves_no_visit(operated, surgeon_a):
    level = operated.treated_levels.first()
    response = signed_in(surgeon_a).post(
        visit_url(operated), baseline_data(operated, **{f"rad-{level.pk}-anterior_height_mm": "0"})
    )
    assert "greater than or equal to 0.1" in field_error(
        response, f"id_rad-{level.pk}-anterior_height_mm"
    )
    assert not FollowUpVisit.objects.exists()


def test_a_baseline_after_the_procedure_is_refused_on_the_date(operated, surgeon_a):
    response = signed_in(surgeon_a).post(
        visit_url(operated),
        baseline_data(operated, visit_date=(operated.date + timedelta(days=1)).isoformat()),
    )
    assert "on or before the procedure date" in field_error(response, "id_visit_date")
    assert not FollowUpVisit.objects.exists()


def test_heights_typed_with_the_fractures_prefill_the_baseline_films(fractured, surgeon_a):
    client = signed_in(surgeon_a)
    response = client.post(
        procedure_url(fractured), {**procedure_data(fractured), "heights": "L1:14.5/26/27"}
    )
    procedure = Procedure.objects.get()
    assert "heights=L1%3A14.5%2F26%2F27" in response.url
    html = client.get(response.url).content.decode()
    assert 'value="14.5"' in html and 'value="27"' in html
    # Garbage in the address prefills nothing and breaks nothing.
    html = client.get(visit_url(procedure) + "?timepoint=baseline&heights=L1:x/%00;Q9:1").content
    assert b'value="14.5"' not in html


def test_baseline_entry_access(operated, surgeon_b, coordinator):
    data = baseline_data(operated)
    assert signed_in(surgeon_b).get(visit_url(operated)).status_code == 404
    assert signed_in(surgeon_b).post(visit_url(operated), data).status_code == 404
    assert signed_in(coordinator).get(visit_url(operated)).status_code == 403
    assert signed_in(coordinator).post(visit_url(operated), data).status_code == 403
    assert not FollowUpVisit.objects.exists()


def test_the_stepper_resumes_a_stopped_case(fractured, surgeon_a):
    html = signed_in(surgeon_a).get(procedure_url(fractured)).content.decode()
    assert 'aria-label="Case entry steps"' in html
    assert 'aria-current="step">Procedure' in html
