"""One service per user action: composite writes all or nothing, duplicates as a field-level
message with a link to the existing record, replays of the same idempotency token, and the
small defects of issue 7 (NUL in the path, implausible heights)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from registry import services
from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Fracture,
    IdempotencyKey,
    Patient,
    Procedure,
    RadiographicMeasurement,
    Technique,
)
from registry.services import (
    AlreadyWithdrawnError,
    ConflictError,
    DuplicateError,
    PartError,
)
from tests.registry.web_cases import full_case, patient_for, signed_in

pytestmark = pytest.mark.django_db


def film(level, anterior="15.0", above="25.0", below="27.0"):
    return {
        "treated_level": level,
        "anterior_height_mm": Decimal(anterior),
        "above_anterior_height_mm": Decimal(above),
        "below_anterior_height_mm": Decimal(below),
    }


def one_year(procedure, surgeon, **extra):
    return services.visit_record(
        user=surgeon,
        procedure=procedure,
        timepoint="1y",
        visit_date=procedure.date + timedelta(days=365),
        vas=Decimal("2.0"),
        **extra,
    )


# --- services -----------------------------------------------------------------------------


def test_fractures_record_saves_every_vertebra_or_none(site_a, surgeon_a):
    patient = patient_for(site_a, surgeon_a)
    with pytest.raises(PartError) as caught:
        services.fractures_record(
            user=surgeon_a,
            patient=patient,
            fractures=[{"level": "T12", "genant_grade": 2}, {"level": "L1", "genant_grade": 7}],
        )
    assert (caught.value.part, caught.value.index) == ("fractures", 1)
    assert "genant_grade" in caught.value.message_dict
    assert not Fracture.objects.exists()
    saved = services.fractures_record(
        user=surgeon_a,
        patient=patient,
        fractures=[{"level": "L1", "genant_grade": 3}, {"level": "T12", "genant_grade": 2}],
        idempotency_key="frac-1",
    )
    assert sorted(f.level for f in saved) == ["L1", "T12"]
    again = services.fractures_record(
        user=surgeon_a,
        patient=patient,
        fractures=[{"level": "L1", "genant_grade": 3}, {"level": "T12", "genant_grade": 2}],
        idempotency_key="frac-1",
    )
    assert {f.pk for f in again} == {f.pk for f in saved} and again[0].replayed
    with pytest.raises(PartError) as caught:
        services.fractures_record(
            user=surgeon_a, patient=patient, fractures=[{"level": "L1", "genant_grade": 3}]
        )
    assert "A fracture of L1 is already recorded" in caught.value.message_dict["level"][0]
    assert isinstance(caught.value.error, DuplicateError)


def test_a_treated_fracture_cannot_be_treated_again(site_a, surgeon_a):
    patient, procedure, _ = full_case(site_a, surgeon_a, levels=("L1",), baseline=False)
    fracture = patient.fractures.get()
    with pytest.raises(DuplicateError) as caught:
        services.procedure_record(
            user=surgeon_a,
            patient=patient,
            technique=Technique.objects.get(code="PVP"),
            date=procedure.date,
            approach="unipedicular",
            anaesthesia="local",
            levels=[{"fracture": fracture}],
        )
    assert caught.value.existing == procedure
    assert "L1 is already treated by the PKP" in caught.value.message_dict["levels"][0]
    assert Procedure.objects.count() == 1


def test_the_same_procedure_token_gives_the_first_procedure(site_a, surgeon_a):
    patient = patient_for(site_a, surgeon_a)
    fracture = services.fracture_create(user=surgeon_a, patient=patient, level="L1", genant_grade=2)
    arguments = dict(
        user=surgeon_a,
        patient=patient,
        technique=Technique.objects.get(code="PKP"),
        date=timezone.localdate() - timedelta(days=3),
        approach="bipedicular",
        anaesthesia="local",
        levels=[{"fracture": fracture, "devices_used": 2}],
        idempotency_key="proc-1",
    )
    first = services.procedure_record(**arguments)
    second = services.procedure_record(**arguments)
    assert second.pk == first.pk and second.replayed and not first.replayed
    assert Procedure.objects.count() == 1
    assert IdempotencyKey.objects.get().action == "procedure_record"


def test_a_visit_is_recorded_with_its_films_and_event_or_not_at_all(site_a, surgeon_a):
    _, procedure, _ = full_case(site_a, surgeon_a)
    levels = list(procedure.treated_levels.order_by("pk"))
    event = {
        "event_type": "adjacent_fracture",
        "onset_date": procedure.date + timedelta(days=300),
        "clavien_dindo": "II",
    }
    with pytest.raises(PartError) as caught:
        one_year(
            procedure,
            surgeon_a,
            radiographs=[film(levels[0]), film(levels[1], anterior="80", above="8", below="8")],
            adverse_event=event,
        )
    assert (caught.value.part, caught.value.index) == ("radiographs", 1)
    assert "relative height of 1000 %" in caught.value.message_dict["anterior_height_mm"][0]
    assert not FollowUpVisit.objects.filter(timepoint="1y").exists()
    assert not AdverseEvent.objects.exists()
    with pytest.raises(PartError) as caught:
        one_year(
            procedure,
            surgeon_a,
            radiographs=[film(levels[0])],
            adverse_event={**event, "onset_date": procedure.date - timedelta(days=1)},
        )
    assert caught.value.part == "adverse_event"
    assert not FollowUpVisit.objects.filter(timepoint="1y").exists()
    visit = one_year(procedure, surgeon_a, radiographs=[film(levels[0])], adverse_event=event)
    assert visit.radiographs.get().rfvh_percent == Decimal("57.69")
    assert AdverseEvent.objects.get().procedure == procedure


def test_a_second_one_year_visit_is_a_duplicate_naming_the_first(site_a, surgeon_a):
    _, procedure, _ = full_case(site_a, surgeon_a)
    first = one_year(procedure, surgeon_a)
    with pytest.raises(DuplicateError) as caught:
        one_year(procedure, surgeon_a)
    assert caught.value.existing == first
    assert caught.value.message_dict == {
        "timepoint": ["A 1-year visit is already recorded for this procedure."]
    }


def test_visit_update_refuses_a_stale_film_and_writes_nothing(site_a, surgeon_a):
    _, _, visit = full_case(site_a, surgeon_a)
    films = list(visit.radiographs.order_by("pk"))
    services.clinical_update(
        user=surgeon_a, instance=films[1], expected_version=1, data={"lka_degrees": Decimal(5)}
    )
    with pytest.raises(ConflictError) as caught:
        services.visit_update(
            user=surgeon_a,
            visit=visit,
            expected_version=visit.version,
            data={"vas": Decimal("7.0")},
            radiographs=[
                {"instance": films[0], "expected_version": 1, "data": {"lka_degrees": 10}},
                {"instance": films[1], "expected_version": 1, "data": {"lka_degrees": 11}},
            ],
        )
    assert (caught.value.part, caught.value.index) == ("radiographs", 1)
    visit.refresh_from_db()
    films[0].refresh_from_db()
    assert visit.vas == Decimal("8.5") and films[0].lka_degrees == Decimal("20.0")


def test_a_second_withdrawal_is_already_withdrawn(site_a, surgeon_a, site_admin_a):
    patient = patient_for(site_a, surgeon_a)
    services.patient_withdraw(user=site_admin_a, patient=patient, reason="Consent withdrawn.")
    with pytest.raises(AlreadyWithdrawnError) as caught:
        services.patient_withdraw(user=site_admin_a, patient=patient, reason="Again.")
    assert caught.value.existing.pk == patient.pk
    assert Patient.objects.get().withdrawal_reason == "Consent withdrawn."
    assert patient.history.count() == 2


def test_implausible_heights_are_field_errors_never_a_digits_error(site_a, surgeon_a):
    _, procedure, _ = full_case(site_a, surgeon_a, levels=("L1",))
    level = procedure.treated_levels.get()
    film_row = RadiographicMeasurement(
        visit=one_year(procedure, surgeon_a), **film(level, anterior="80", above="8", below="8")
    )
    with pytest.raises(ValidationError) as caught:
        film_row.full_clean()
    errors = caught.value.message_dict
    assert set(errors) == {
        "anterior_height_mm",
        "above_anterior_height_mm",
        "below_anterior_height_mm",
    }
    assert "80 mm against neighbours of 8 and 8 mm" in errors["anterior_height_mm"][0]
    assert not any("digits" in m for messages in errors.values() for m in messages)
    film_row.refresh_derived()
    assert film_row.rfvh_percent is None  # never a value the column cannot hold


# --- pages --------------------------------------------------------------------------------


def token_of(html: str) -> str:
    return html.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]


def test_every_create_form_carries_a_token(site_a, surgeon_a):
    patient, procedure, _ = full_case(site_a, surgeon_a, levels=("L1",), baseline=False)
    client = signed_in(surgeon_a)
    services.fracture_create(user=surgeon_a, patient=patient, level="T12", genant_grade=2)
    rid = patient.registry_id
    pages = [
        reverse("patient_create"),
        reverse("fractures_create", args=[rid]),
        reverse("procedure_create", args=[rid]),
        reverse("visit_create", args=[rid, procedure.pk]),
        reverse("adverse_event_create", args=[rid, procedure.pk]),
        reverse("outcomes:cohort_create"),
    ]
    tokens = {token_of(client.get(url).content.decode()) for url in pages}
    assert len(tokens) == len(pages)  # a fresh one per form


def test_a_double_submitted_procedure_shows_the_first(site_a, surgeon_a):
    patient = patient_for(site_a, surgeon_a)
    services.fracture_create(user=surgeon_a, patient=patient, level="L1", genant_grade=2)
    client = signed_in(surgeon_a)
    url = reverse("procedure_create", args=[patient.registry_id])
    token = token_of(client.get(url).content.decode())
    fracture = patient.fractures.get()
    data = {
        "idempotency_key": token,
        "date": (timezone.localdate() - timedelta(days=2)).isoformat(),
        "technique": Technique.objects.get(code="PVP").pk,
        "approach": "unipedicular",
        "route": "transpedicular",
        "anaesthesia": "local",
        f"level-{fracture.pk}-treated": "on",
        f"level-{fracture.pk}-leakage": "none",
        f"level-{fracture.pk}-devices_used": "0",
        f"level-{fracture.pk}-devices_ruptured": "0",
    }
    first = client.post(url, data)
    assert first.status_code == 302
    # Every fracture is treated now: the page itself would send the user back to the
    # fractures step; the repeated POST is answered with the record the first one made.
    again = client.post(url, data, follow=True)
    assert Procedure.objects.count() == 1
    assert again.redirect_chain == [(reverse("patient_detail", args=[patient.registry_id]), 302)]
    assert "This form was submitted already" in again.content.decode()


def test_a_duplicate_visit_message_links_to_the_visit(site_a, surgeon_a):
    patient, procedure, _ = full_case(site_a, surgeon_a, levels=("L1",))
    first = one_year(procedure, surgeon_a)
    response = signed_in(surgeon_a).post(
        reverse("visit_create", args=[patient.registry_id, procedure.pk]),
        {
            "timepoint": "1y",
            "visit_date": (procedure.date + timedelta(days=366)).isoformat(),
            "vas": "3",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    url = reverse("visit_edit", args=[patient.registry_id, first.pk])
    assert (
        f'A 1-year visit is already recorded for this procedure. <a href="{url}">Open it</a>.'
        in html
    )
    assert FollowUpVisit.objects.filter(timepoint="1y").count() == 1


def test_implausible_heights_are_shown_on_the_height_fields(site_a, surgeon_a):
    patient, procedure, _ = full_case(site_a, surgeon_a, levels=("L1",))
    level = procedure.treated_levels.get()
    response = signed_in(surgeon_a).post(
        reverse("visit_create", args=[patient.registry_id, procedure.pk]),
        {
            "timepoint": "12w",
            "visit_date": (procedure.date + timedelta(days=84)).isoformat(),
            f"rad-{level.pk}-film_position": "standing",
            f"rad-{level.pk}-anterior_height_mm": "80",
            f"rad-{level.pk}-above_anterior_height_mm": "8",
            f"rad-{level.pk}-below_anterior_height_mm": "8",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_rad-{level.pk}-anterior_height_mm_error"' in html
    assert "80 mm against neighbours of 8 and 8 mm" in html
    assert "digits" not in html
    assert not FollowUpVisit.objects.filter(timepoint="12w").exists()


def test_fracture_page_heights_that_disagree_are_refused_on_the_fields(site_a, surgeon_a):
    patient = patient_for(site_a, surgeon_a)
    response = signed_in(surgeon_a).post(
        reverse("fractures_create", args=[patient.registry_id]),
        {
            "levels": ["L1"],
            "L1-genant_grade": "2",
            "L1-aetiology": "osteoporotic",
            "L1-anterior_height_mm": "80",
            "L1-above_anterior_height_mm": "8",
            "L1-below_anterior_height_mm": "8",
        },
    )
    assert "relative height of 1000 %" in response.content.decode()
    assert not Fracture.objects.exists()


def test_a_withdrawal_posted_twice_says_already_withdrawn(site_a, surgeon_a, site_admin_a):
    patient = patient_for(site_a, surgeon_a)
    client = signed_in(site_admin_a)
    url = reverse("patient_withdraw", args=[patient.registry_id])
    assert client.post(url, {"reason": "Consent withdrawn."}).status_code == 302
    again = client.post(url, {"reason": "Consent withdrawn."}, follow=True)
    assert again.status_code == 200
    assert "already withdrawn" in again.content.decode()
    assert patient.history.count() == 2


@pytest.mark.parametrize("path", ["%00", "OV-1%00", "a%0Ab", "x" * 40, "%E2%80%AE"])
def test_invalid_characters_in_a_registry_id_are_not_found(site_a, surgeon_a, path):
    client = signed_in(surgeon_a)
    for suffix in ("", "edit/", "withdraw/", "fractures/new/"):
        assert client.get(f"/patients/{path}/{suffix}").status_code == 404


def test_procedure_update_refuses_a_stale_level_and_writes_nothing(site_a, surgeon_a):
    _, procedure, _ = full_case(site_a, surgeon_a, baseline=False)
    levels = list(procedure.treated_levels.order_by("pk"))
    services.clinical_update(
        user=surgeon_a, instance=levels[1], expected_version=1, data={"devices_used": 1}
    )
    with pytest.raises(ConflictError) as caught:
        services.procedure_update(
            user=surgeon_a,
            procedure=procedure,
            expected_version=1,
            data={"operation_time_min": 90},
            levels=[
                {"instance": levels[0], "expected_version": 1, "data": {"devices_used": 3}},
                {"instance": levels[1], "expected_version": 1, "data": {"devices_used": 4}},
            ],
        )
    assert (caught.value.part, caught.value.index) == ("levels", 1)
    procedure.refresh_from_db()
    levels[0].refresh_from_db()
    assert procedure.operation_time_min is None and levels[0].devices_used == 2


def test_nul_in_a_query_string_is_ignored_not_a_500(site_a, surgeon_a):
    patient_for(site_a, surgeon_a)
    client = signed_in(surgeon_a)
    assert client.get("/patients/", {"q": "Do\x00e"}).status_code == 200
    assert client.get("/worklist/", {"site": "\x00", "tab": "\x00"}).status_code == 200
