"""Editing any record: the version travels in a hidden field; a stale save is refused with
what changed, nothing is overwritten, and the form comes back merged for a deliberate retry."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from registry import services
from registry.models import AdverseEvent, FollowUpVisit, Patient, RadiographicMeasurement
from tests.registry.web_cases import full_case, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(site_a, surgeon_a):
    patient, procedure, visit = full_case(
        site_a, surgeon_a, procedure_date=timezone.localdate() - timedelta(days=30)
    )
    return patient, procedure, visit


def form_data(response) -> dict:
    """What the browser would post back: every field's current value in the rendered form."""
    form = response.context["form"]
    data = {}
    forms_ = [
        form,
        *response.context.get("level_forms", []),
        *response.context.get("radiograph_forms", []),
    ]
    for f in forms_:
        for bound in f:
            value = bound.value()
            if value is None:
                continue
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            data[bound.html_name] = "" if value is None else str(value)
    return data


def patient_url(patient, name="patient_edit") -> str:
    return reverse(name, args=[patient.registry_id])


# --- the patient ------------------------------------------------------------------------------


def test_a_surgeon_edits_a_patient_and_the_version_moves_on(case, surgeon_a):
    patient, _, _ = case
    client = signed_in(surgeon_a)
    page = client.get(patient_url(patient))
    assert 'name="version" value="1"' in page.content.decode()
    data = {**form_data(page), "weight_kg": "58.5"}
    response = client.post(patient_url(patient), data)
    assert response["Location"] == patient_url(patient, "patient_detail")
    patient.refresh_from_db()
    assert (patient.version, patient.weight_kg) == (2, Decimal("58.5"))


def test_a_stale_patient_save_is_refused_and_shows_what_changed(case, surgeon_a, site_admin_a):
    patient, _, _ = case
    client = signed_in(surgeon_a)
    page = client.get(patient_url(patient))
    services.patient_update(
        user=site_admin_a, patient=patient, expected_version=1, data={"weight_kg": Decimal("70.0")}
    )
    response = client.post(patient_url(patient), {**form_data(page), "height_cm": "161"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not saved: someone else changed this" in html
    assert "admin-a" in html
    assert "<td>Weight (kg)</td><td>—</td><td>70.0</td>" in html
    patient.refresh_from_db()
    assert (patient.weight_kg, patient.height_cm, patient.version) == (Decimal("70.0"), None, 2)
    # The form now carries their weight, my height and the current version: saving again
    # is a deliberate choice and overwrites nothing of theirs.
    again = form_data(response)
    assert (again["weight_kg"], again["height_cm"], again["version"]) == ("70.0", "161", "2")
    assert client.post(patient_url(patient), again).status_code == 302
    patient.refresh_from_db()
    assert (patient.weight_kg, patient.height_cm, patient.version) == (
        Decimal("70.0"),
        Decimal("161.0"),
        3,
    )


def test_a_field_both_people_changed_keeps_mine_and_says_what_they_saved(
    case, surgeon_a, site_admin_a
):
    patient, _, _ = case
    client = signed_in(surgeon_a)
    page = client.get(patient_url(patient))
    services.patient_update(
        user=site_admin_a, patient=patient, expected_version=1, data={"weight_kg": Decimal("70.0")}
    )
    response = client.post(patient_url(patient), {**form_data(page), "weight_kg": "55"})
    assert form_data(response)["weight_kg"] == "55"
    assert "Also changed by admin-a: they saved “70.0”" in response.content.decode()
    patient.refresh_from_db()
    assert patient.weight_kg == Decimal("70.0")


def test_patient_edit_access_and_bad_input(case, surgeon_a, surgeon_b, coordinator):
    patient, _, _ = case
    url = patient_url(patient)
    assert signed_in(surgeon_b).get(url).status_code == 404
    assert signed_in(surgeon_b).post(url, {}).status_code == 404
    assert signed_in(coordinator).get(url).status_code == 403
    assert signed_in(coordinator).post(url, {}).status_code == 403
    client = signed_in(surgeon_a)
    data = {**form_data(client.get(url)), "asa_class": "9", "family_name": ""}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "id_family_name_error" in response.content.decode()
    assert "id_asa_class_error" in response.content.decode()
    assert Patient.objects.get().version == 1


# --- fractures, procedure and treated levels ----------------------------------------------


def test_a_fracture_is_edited_with_conflict_detection(case, surgeon_a, site_admin_a, coordinator):
    patient, _, _ = case
    fracture = patient.fractures.get(level="L1")
    url = reverse("fracture_edit", args=[patient.registry_id, fracture.pk])
    assert signed_in(coordinator).post(url, {}).status_code == 403
    client = signed_in(surgeon_a)
    page = client.get(url)
    services.clinical_update(
        instance=fracture, user=site_admin_a, expected_version=1, data={"morphology": "crush"}
    )
    response = client.post(url, {**form_data(page), "genant_grade": "3"})
    assert "<td>Morphology</td><td>—</td><td>Crush</td>" in response.content.decode()
    fracture.refresh_from_db()
    assert (fracture.genant_grade, fracture.morphology) == (2, "crush")


def test_a_procedure_and_its_levels_are_edited_together(case, surgeon_a, surgeon_b):
    patient, procedure, _ = case
    url = reverse("procedure_edit", args=[patient.registry_id, procedure.pk])
    assert signed_in(surgeon_b).get(url).status_code == 404
    client = signed_in(surgeon_a)
    page = client.get(url)
    level = procedure.treated_levels.get(fracture__level="L1")
    data = {
        **form_data(page),
        "operation_time_min": "50",
        f"tl-{level.pk}-leakage": "S",
        f"tl-{level.pk}-leakage_seen_on": "ct",
    }
    assert client.post(url, data).status_code == 302
    level.refresh_from_db()
    procedure.refresh_from_db()
    assert (procedure.operation_time_min, level.leakage, level.version) == (50, "S", 2)


def test_a_conflict_on_one_level_saves_nothing_of_the_procedure(case, surgeon_a, site_admin_a):
    patient, procedure, _ = case
    url = reverse("procedure_edit", args=[patient.registry_id, procedure.pk])
    client = signed_in(surgeon_a)
    page = client.get(url)
    level = procedure.treated_levels.get(fracture__level="T12")
    services.clinical_update(
        instance=level, user=site_admin_a, expected_version=1, data={"devices_ruptured": 1}
    )
    data = {**form_data(page), "operation_time_min": "50", f"tl-{level.pk}-cement_volume_ml": "5.0"}
    response = client.post(url, data)
    assert "Devices ruptured" in response.content.decode()
    procedure.refresh_from_db()
    level.refresh_from_db()
    assert procedure.operation_time_min == 45 or procedure.operation_time_min is None
    assert procedure.version == 1
    assert (level.cement_volume_ml, level.devices_ruptured) == (Decimal("4.5"), 1)


def test_bad_level_input_on_edit_is_shown_by_the_field(case, surgeon_a):
    patient, procedure, _ = case
    url = reverse("procedure_edit", args=[patient.registry_id, procedure.pk])
    client = signed_in(surgeon_a)
    level = procedure.treated_levels.first()
    data = {**form_data(client.get(url)), f"tl-{level.pk}-devices_ruptured": "4"}
    response = client.post(url, data)
    assert f'id="id_tl-{level.pk}-devices_ruptured_error"' in response.content.decode()


# --- visits and radiographs ----------------------------------------------------------------


def test_a_visit_edit_updates_answers_and_adds_a_missing_film(case, surgeon_a):
    patient, procedure, visit = case
    visit.radiographs.filter(treated_level__fracture__level="T12").delete()
    url = reverse("visit_edit", args=[patient.registry_id, visit.pk])
    client = signed_in(surgeon_a)
    page = client.get(url)
    t12 = procedure.treated_levels.get(fracture__level="T12")
    data = {
        **form_data(page),
        "odi_1": "5",
        f"rad-{t12.pk}-anterior_height_mm": "16",
        f"rad-{t12.pk}-above_anterior_height_mm": "25",
        f"rad-{t12.pk}-below_anterior_height_mm": "27",
    }
    assert client.post(url, data).status_code == 302
    visit.refresh_from_db()
    assert visit.odi_1 == 5 and visit.version == 2
    assert float(visit.odi_percent) == 64.0
    assert RadiographicMeasurement.objects.get(visit=visit, treated_level=t12).rfvh_percent


def test_a_stale_visit_save_is_refused(case, surgeon_a, site_admin_a, coordinator, surgeon_b):
    patient, _, visit = case
    url = reverse("visit_edit", args=[patient.registry_id, visit.pk])
    assert signed_in(coordinator).get(url).status_code == 403
    assert signed_in(surgeon_b).post(url, {}).status_code == 404
    client = signed_in(surgeon_a)
    page = client.get(url)
    services.clinical_update(
        instance=visit, user=site_admin_a, expected_version=1, data={"vas": Decimal("7.0")}
    )
    response = client.post(url, {**form_data(page), "odi_2": "0"})
    assert "Not saved" in response.content.decode()
    visit.refresh_from_db()
    assert (visit.vas, visit.odi_2, visit.version) == (Decimal("7.0"), 3, 2)


def test_a_vas_of_11_on_edit_is_refused_by_the_field(case, surgeon_a):
    patient, _, visit = case
    url = reverse("visit_edit", args=[patient.registry_id, visit.pk])
    client = signed_in(surgeon_a)
    response = client.post(url, {**form_data(client.get(url)), "vas": "11"})
    assert 'id="id_vas_error"' in response.content.decode()
    assert FollowUpVisit.objects.get().vas == Decimal("8.5")


def test_a_follow_up_from_the_worklist_returns_there(case, surgeon_a):
    patient, procedure, _ = case
    next_url = reverse("worklist") + "?tab=overdue"
    url = reverse("visit_create", args=[patient.registry_id, procedure.pk])
    response = signed_in(surgeon_a).post(
        url + "?timepoint=2w",
        {
            "timepoint": "2w",
            "visit_date": timezone.localdate().isoformat(),
            "vas": "3",
            "next": next_url,
        },
    )
    assert response["Location"] == next_url
    assert "unsafe" not in response["Location"]


def test_an_outside_next_url_is_ignored(case, surgeon_a):
    patient, procedure, _ = case
    url = reverse("visit_create", args=[patient.registry_id, procedure.pk])
    response = signed_in(surgeon_a).post(
        url,
        {
            "timepoint": "2w",
            "visit_date": timezone.localdate().isoformat(),
            "next": "https://evil.example/",
        },
    )
    assert response["Location"].startswith(reverse("patient_detail", args=[patient.registry_id]))


def test_a_second_visit_at_the_same_timepoint_is_refused_on_the_timepoint(case, surgeon_a):
    patient, procedure, _ = case
    url = reverse("visit_create", args=[patient.registry_id, procedure.pk])
    response = signed_in(surgeon_a).post(
        url, {"timepoint": "baseline", "visit_date": procedure.date.isoformat()}
    )
    assert "already recorded for this procedure" in response.content.decode()
    assert FollowUpVisit.objects.count() == 1


def test_an_adverse_event_with_the_visit_is_saved_with_it_or_not_at_all(case, surgeon_a):
    patient, procedure, _ = case
    url = reverse("visit_create", args=[patient.registry_id, procedure.pk])
    client = signed_in(surgeon_a)
    today = timezone.localdate().isoformat()
    half = client.post(url, {"timepoint": "2w", "visit_date": today, "ae-event_type": "other"})
    assert 'id="id_ae-onset_date_error"' in half.content.decode()
    assert not FollowUpVisit.objects.filter(timepoint="2w").exists()
    client.post(
        url,
        {
            "timepoint": "2w",
            "visit_date": today,
            "ae-event_type": "infection",
            "ae-onset_date": today,
            "ae-clavien_dindo": "II",
        },
    )
    assert FollowUpVisit.objects.filter(timepoint="2w").exists()
    assert AdverseEvent.objects.get().event_type == "infection"


# --- adverse events --------------------------------------------------------------------------


def test_adverse_events_are_recorded_and_edited(case, surgeon_a, coordinator, surgeon_b):
    patient, procedure, _ = case
    create = reverse("adverse_event_create", args=[patient.registry_id, procedure.pk])
    assert signed_in(coordinator).post(create, {}).status_code == 403
    assert signed_in(surgeon_b).get(create).status_code == 404
    client = signed_in(surgeon_a)
    early = (procedure.date - timedelta(days=3)).isoformat()
    bad = client.post(create, {"event_type": "bleeding", "onset_date": early, "clavien_dindo": "I"})
    assert "cannot start before the procedure" in bad.content.decode()
    assert not AdverseEvent.objects.exists()
    client.post(
        create,
        {"event_type": "bleeding", "onset_date": procedure.date.isoformat(), "clavien_dindo": "I"},
    )
    event = AdverseEvent.objects.get()
    edit = reverse("adverse_event_edit", args=[patient.registry_id, event.pk])
    page = client.get(edit)
    assert client.post(edit, {**form_data(page), "resolved": "true"}).status_code == 302
    event.refresh_from_db()
    assert (event.resolved, event.version) == (True, 2)


def test_nothing_can_be_deleted_from_the_browser(case, surgeon_a):
    patient, _, _ = case
    client = signed_in(surgeon_a)
    html = client.get(reverse("patient_detail", args=[patient.registry_id])).content.decode()
    assert "Delete" not in html and "delete" not in html
    assert client.get("/admin/").status_code == 302  # not staff: no admin either
