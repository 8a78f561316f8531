"""Record endpoints: who sees and changes what, through the services the pages call."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.identifiers import PATIENT_IDENTIFIERS
from registry.models import AdverseEvent, FollowUpVisit, Patient, Procedure, TokenScope
from tests.api.cases import make_case
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "patients": lambda case: case.patient,
    "fractures": lambda case: case.level.fracture,
    "procedures": lambda case: case.procedure,
    "treated-levels": lambda case: case.level,
    "visits": lambda case: case.followup,
    "radiographs": lambda case: case.followup.radiographs.first(),
    "adverse-events": lambda case: case.event,
}


@pytest.fixture
def cases(site_a, site_b):
    return make_case(site_a), make_case(site_b, technique="VBS")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_each_endpoint_answers_each_actor(
    endpoint, cases, anonymous, api_surgeon_a, api_surgeon_b, api_coordinator, api_site_admin_a
):
    case_a, case_b = cases
    record_a = ENDPOINTS[endpoint](case_a)
    url = f"/api/v1/{endpoint}/"
    detail = f"{url}{record_a.pk}/"

    assert anonymous.get(url).status_code == 401
    assert anonymous.get(url)["WWW-Authenticate"] == "Token"

    record_b = ENDPOINTS[endpoint](case_b)
    listed = [row["id"] for row in api_surgeon_a.get(url).json()["results"]]
    assert record_a.pk in listed and record_b.pk not in listed
    assert api_surgeon_a.get(detail).status_code == 200
    assert api_surgeon_a.get(f"{url}{record_b.pk}/").status_code == 404
    assert api_site_admin_a.get(detail).status_code == 200

    # Another site's record does not exist for surgeon B, in the list or by id.
    assert record_a.pk not in [row["id"] for row in api_surgeon_b.get(url).json()["results"]]
    assert api_surgeon_b.get(detail).status_code == 404

    # The coordinator reads both sites, de-identified.
    rows = api_coordinator.get(url).json()["results"]
    assert {record_a.pk, record_b.pk} <= {row["id"] for row in rows}
    for row in rows:
        assert not set(PATIENT_IDENTIFIERS) & row.keys()
        assert "notes" not in row and "description" not in row


def test_identified_token_carries_identifiers_and_deidentified_never(surgeon_a, cases):
    identified = token_client(surgeon_a, deidentified=False)
    row = identified.get(f"/api/v1/patients/{cases[0].patient.pk}/").json()
    assert row["family_name"] == cases[0].patient.family_name
    deidentified = token_client(surgeon_a, deidentified=True)
    row = deidentified.get(f"/api/v1/patients/{cases[0].patient.pk}/").json()
    assert not set(PATIENT_IDENTIFIERS) & row.keys()
    assert row["registry_id"] == cases[0].patient.registry_id


def _new_patient(site, **extra):
    return {
        "site": site.code,
        "hospital_record_number": "H-77",
        "family_name": "Doe",
        "given_name": "Jane",
        "date_of_birth": "1948-03-02",
        "sex": "F",
        **extra,
    }


def test_create_goes_through_the_service_with_history(api_surgeon_a, surgeon_a, site_a):
    response = api_surgeon_a.post("/api/v1/patients/", _new_patient(site_a), format="json")
    assert response.status_code == 201, response.json()
    patient = Patient.objects.get(pk=response.json()["id"])
    assert patient.history.get().history_user == surgeon_a
    assert response["Location"] == f"/api/v1/patients/{patient.pk}/"
    assert response["ETag"] == f'"patient-{patient.pk}-v1"'


def test_bad_input_is_400_per_field(api_surgeon_a, site_a):
    body = _new_patient(site_a, date_of_birth="2999-01-01", height_cm=20, sex="X")
    response = api_surgeon_a.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert {"height_cm", "sex"} <= errors.keys()
    # Model rules the service checks (future date) also come back per field.
    body = _new_patient(site_a, date_of_birth="2999-01-01")
    errors = api_surgeon_a.post("/api/v1/patients/", body, format="json").json()
    assert errors == {"date_of_birth": ["This date is in the future."]}


def test_other_sites_and_coordinators_cannot_create(
    api_surgeon_b, api_coordinator, api_read_only_a, site_a, coordinator
):
    body = _new_patient(site_a)
    # Surgeon B names a site they do not belong to: it does not exist for them.
    assert api_surgeon_b.post("/api/v1/patients/", body, format="json").status_code == 400
    write_coordinator = token_client(coordinator, scope=TokenScope.READ)
    assert write_coordinator.post("/api/v1/patients/", body, format="json").status_code == 403
    assert api_read_only_a.post("/api/v1/patients/", body, format="json").status_code == 403
    assert not Patient.objects.filter(hospital_record_number="H-77").exists()


def test_duplicate_is_409_and_idempotency_key_replays(api_surgeon_a, site_a):
    body = _new_patient(site_a)
    first = api_surgeon_a.post("/api/v1/patients/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = api_surgeon_a.post("/api/v1/patients/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Patient.objects.filter(hospital_record_number="H-77").count() == 1
    duplicate = api_surgeon_a.post("/api/v1/patients/", body, format="json")
    assert duplicate.status_code == 409
    assert "hospital_record_number" in str(duplicate.json()) or duplicate.json()


def test_procedure_with_levels_and_visit_with_radiographs(api_surgeon_a, cases, surgeon_a):
    case = cases[0]
    from tests.factories import FractureFactory

    second = FractureFactory(patient=case.patient, level="L2")
    body = {
        "patient": case.patient.pk,
        "date": "2024-06-01",
        "technique": "PVP",
        "approach": "unipedicular",
        "anaesthesia": "local",
        "levels": [
            {"fracture": second.pk, "cement_volume_ml": 3.5, "leakage": "B"},
        ],
    }
    response = api_surgeon_a.post("/api/v1/procedures/", body, format="json")
    assert response.status_code == 201, response.json()
    procedure = Procedure.objects.get(pk=response.json()["id"])
    assert [lvl.fracture_id for lvl in procedure.treated_levels.all()] == [second.pk]
    assert response.json()["levels"][0]["level"] == "L2"
    level_id = response.json()["levels"][0]["id"]

    visit = {
        "procedure": procedure.pk,
        "timepoint": "2w",
        "visit_date": "2024-06-15",
        "vas": 3.5,
        **{f"odi_{n}": 2 for n in range(1, 11)},
        "radiographs": [
            {
                "treated_level": level_id,
                "anterior_height_mm": 20,
                "above_anterior_height_mm": 25,
                "below_anterior_height_mm": 27,
            }
        ],
    }
    response = api_surgeon_a.post("/api/v1/visits/", visit, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["odi_percent"] == 40.0
    assert response.json()["radiographs"][0]["rfvh_percent"] == pytest.approx(76.92)
    # A second 2-week visit of the same procedure: a duplicate, naming the first.
    again = api_surgeon_a.post("/api/v1/visits/", {**visit, "radiographs": []}, format="json")
    assert again.status_code == 409
    assert again.json()["existing"] == {"type": "followupvisit", "id": response.json()["id"]}
    assert FollowUpVisit.objects.filter(procedure=procedure, timepoint="2w").count() == 1
    # A fracture of another patient is not accepted as a treated level.
    foreign = cases[1].level.fracture.pk
    body["levels"] = [{"fracture": foreign}]
    assert api_surgeon_a.post("/api/v1/procedures/", body, format="json").status_code == 400


def test_adverse_event_and_fracture_creates(api_surgeon_a, cases):
    case = cases[0]
    event = {
        "procedure": case.procedure.pk,
        "event_type": "infection",
        "onset_date": "2024-01-10",  # before the procedure: the model refuses
        "clavien_dindo": "II",
    }
    response = api_surgeon_a.post("/api/v1/adverse-events/", event, format="json")
    assert response.status_code == 400 and "onset_date" in response.json()
    event["onset_date"] = "2024-02-01"
    response = api_surgeon_a.post("/api/v1/adverse-events/", event, format="json")
    assert response.status_code == 201
    assert AdverseEvent.objects.filter(procedure=case.procedure, event_type="infection").exists()
    fracture = {"patient": case.patient.pk, "level": "T12", "genant_grade": 3}
    assert api_surgeon_a.post("/api/v1/fractures/", fracture, format="json").status_code == 201
    # The same vertebra and episode again: a duplicate, 409 with the message.
    duplicate = api_surgeon_a.post("/api/v1/fractures/", fracture, format="json")
    assert duplicate.status_code == 409
    assert duplicate.json()["existing"]["type"] == "fracture"
    # The same vertebra and episode again: a duplicate, 409 with the field message.
    duplicate = api_surgeon_a.post("/api/v1/fractures/", fracture, format="json")
    assert duplicate.status_code == 409
    assert duplicate.json()["existing"]["type"] == "fracture"


def test_update_needs_if_match_and_a_stale_one_is_412_with_changes(api_surgeon_a, cases):
    patient = cases[0].patient
    url = f"/api/v1/patients/{patient.pk}/"
    etag = api_surgeon_a.get(url)["ETag"]
    assert api_surgeon_a.patch(url, {"weight_kg": 70}, format="json").status_code == 428
    first = api_surgeon_a.patch(url, {"weight_kg": 70}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = api_surgeon_a.patch(url, {"height_cm": 150}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["changes"] == [{"field": "weight_kg", "was": "64.0", "now": "70.0"}]
    assert stale["ETag"] == first["ETag"]
    patient.refresh_from_db()
    assert patient.height_cm == 160 and patient.version == 2
    assert patient.history.first().history_user.username == "surgeon-a"


def test_if_none_match_gives_304_until_the_record_changes(api_surgeon_a, cases):
    url = f"/api/v1/procedures/{cases[0].procedure.pk}/"
    etag = api_surgeon_a.get(url)["ETag"]
    assert api_surgeon_a.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    level_url = f"/api/v1/treated-levels/{cases[0].level.pk}/"
    level_tag = api_surgeon_a.get(level_url)["ETag"]
    changed = api_surgeon_a.patch(
        level_url, {"cement_volume_ml": 5.5}, format="json", HTTP_IF_MATCH=level_tag
    )
    assert changed.status_code == 200
    # The procedure shows its levels: a level edit changes the procedure's tag.
    assert api_surgeon_a.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_parent_and_site_cannot_be_changed(api_surgeon_a, api_site_admin_a, cases, site_b):
    visit = cases[0].followup
    url = f"/api/v1/visits/{visit.pk}/"
    etag = api_surgeon_a.get(url)["ETag"]
    other = cases[1].procedure.pk
    response = api_surgeon_a.patch(url, {"procedure": other}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    patient_url = f"/api/v1/patients/{cases[0].patient.pk}/"
    etag = api_site_admin_a.get(patient_url)["ETag"]
    moved = api_site_admin_a.patch(
        patient_url, {"site": "site-b"}, format="json", HTTP_IF_MATCH=etag
    )
    assert moved.status_code == 400  # site-b is not a site this admin may name


def test_read_only_token_and_coordinator_cannot_update(api_read_only_a, api_coordinator, cases):
    url = f"/api/v1/patients/{cases[0].patient.pk}/"
    etag = api_read_only_a.get(url)["ETag"]
    body = {"weight_kg": 71}
    assert api_read_only_a.patch(url, body, format="json", HTTP_IF_MATCH=etag).status_code == 403
    assert api_coordinator.patch(url, body, format="json", HTTP_IF_MATCH=etag).status_code == 403


def test_withdraw_is_for_site_administrators_and_happens_once(
    api_surgeon_a, api_site_admin_a, api_surgeon_b, cases
):
    url = f"/api/v1/patients/{cases[0].patient.pk}/withdraw/"
    body = {"reason": "Asked to leave the registry"}
    assert api_surgeon_a.post(url, body, format="json").status_code == 403
    assert api_surgeon_b.post(url, body, format="json").status_code == 404
    done = api_site_admin_a.post(url, body, format="json")
    assert done.status_code == 200 and done.json()["withdrawn_at"]
    assert api_site_admin_a.post(url, body, format="json").status_code == 409
    # A withdrawn patient's records are read-only.
    visit_url = f"/api/v1/visits/{cases[0].followup.pk}/"
    etag = api_site_admin_a.get(visit_url)["ETag"]
    edit = api_site_admin_a.patch(visit_url, {"vas": 1}, format="json", HTTP_IF_MATCH=etag)
    assert edit.status_code == 403


def test_no_delete(api_site_admin_a, cases):
    assert api_site_admin_a.delete(f"/api/v1/patients/{cases[0].patient.pk}/").status_code == 405


def test_filters_and_updated_since(api_coordinator, cases):
    assert [
        r["id"] for r in api_coordinator.get("/api/v1/patients/?technique=VBS").json()["results"]
    ] == [cases[1].patient.pk]
    visits = api_coordinator.get("/api/v1/visits/?timepoint=12w&site=site-a").json()["results"]
    assert [v["id"] for v in visits] == [cases[0].followup.pk]
    film = cases[0].followup.radiographs.first()
    since = film.updated_at.isoformat()
    RadiographicMeasurement = type(film)
    RadiographicMeasurement.objects.filter(pk=film.pk).update(lka_degrees=10)  # no bump
    later = "2999-01-01T00:00:00Z"
    assert api_coordinator.get(f"/api/v1/visits/?updated_since={later}").json()["results"] == []
    changed = api_coordinator.get("/api/v1/visits/", {"updated_since": since}).json()["results"]
    assert cases[0].followup.pk in [v["id"] for v in changed]
    bad = api_coordinator.get("/api/v1/patients/?updated_since=yesterday")
    assert bad.status_code == 400 and "updated_since" in bad.json()


def test_cursor_pages_cover_every_row_once(api_coordinator, site_a):
    for _ in range(5):
        make_case(site_a)
    seen, url = [], "/api/v1/patients/?page_size=2"
    while url:
        page = api_coordinator.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(Patient.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_list_page_runs_a_constant_number_of_queries(endpoint, site_a, surgeon_a):
    client = token_client(surgeon_a)
    make_case(site_a)
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"/api/v1/{endpoint}/").status_code == 200
    for _ in range(4):
        make_case(site_a)
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(f"/api/v1/{endpoint}/").json()["results"]) >= 5
    assert len(five.captured_queries) == len(one.captured_queries)
    assert len(one.captured_queries) <= 7  # 6 + the access log's record of the token use


@pytest.mark.parametrize("deidentified", [False, True])
def test_the_fast_representation_is_drfs(cases, surgeon_a, deidentified):
    """Record serializers read plain attributes directly (issue 9 Speed): the output is what
    DRF's own to_representation gives, field for field, identifiers withheld alike."""
    from rest_framework.renderers import JSONRenderer
    from rest_framework.serializers import ModelSerializer
    from rest_framework.test import APIRequestFactory

    from registry.api import serializers as shapes
    from registry.api.schema import WITHHELD_FROM_DEIDENTIFIED
    from registry.models import ApiToken

    request = APIRequestFactory().get("/")
    request.user = surgeon_a
    request.auth = ApiToken(deidentified=deidentified)
    case = cases[0]
    for serializer_class, instance in (
        (shapes.PatientSerializer, case.patient),
        (shapes.FractureSerializer, case.level.fracture),
        (shapes.ProcedureSerializer, case.procedure),
        (shapes.TreatedLevelSerializer, case.level),
        (shapes.VisitSerializer, case.followup),
        (shapes.RadiographSerializer, case.followup.radiographs.first()),
        (shapes.AdverseEventSerializer, case.event),
    ):
        serializer = serializer_class(context={"request": request})
        expected = ModelSerializer.to_representation(serializer, instance)
        if deidentified:
            expected = {k: v for k, v in expected.items() if k not in WITHHELD_FROM_DEIDENTIFIED}
        fast = serializer.to_representation(instance)
        assert list(fast) == list(expected), serializer_class
        # What a client reads: the same JSON (a Decimal is written as its float).
        assert JSONRenderer().render(fast) == JSONRenderer().render(expected), serializer_class
