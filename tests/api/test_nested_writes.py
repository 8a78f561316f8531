"""Nested writes: a procedure's treated levels and a visit's radiographs (and ODI answers)
are created and edited with their record, through the services the pages call
(procedure_record / procedure_update, visit_record / visit_update): field-level 400s per
nested item, If-Match on the record and a version per nested row, history by the token's
user."""

from __future__ import annotations

from decimal import Decimal

import pytest

from registry.models import RadiographicMeasurement, TreatedLevel
from tests.api.cases import make_case
from tests.factories import FractureFactory, TreatedLevelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(site_a):
    return make_case(site_a)


@pytest.fixture
def other(site_b):
    return make_case(site_b, technique="VBS")


def _read(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.json(), response["ETag"]


def test_procedure_update_edits_its_levels_through_procedure_update(api_surgeon_a, surgeon_a, case):
    second = TreatedLevelFactory(
        procedure=case.procedure, fracture=FractureFactory(patient=case.patient, level="L2")
    )
    url = f"/api/v1/procedures/{case.procedure.pk}/"
    body, etag = _read(api_surgeon_a, url)
    levels = {item["id"]: item for item in body["levels"]}
    assert levels[second.pk]["version"] == 1
    response = api_surgeon_a.patch(
        url,
        {
            "operation_time_min": 50,
            "levels": [
                {"id": case.level.pk, "version": 1, "cement_volume_ml": "4.5", "leakage": "S"},
                {"id": second.pk, "version": 1, "devices_used": 2},
            ],
        },
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.json()
    served = {item["id"]: item for item in response.json()["levels"]}
    assert served[case.level.pk]["leakage"] == "S" and served[case.level.pk]["version"] == 2
    assert response.json()["operation_time_min"] == 50 and response["ETag"] != etag
    level = TreatedLevel.objects.get(pk=case.level.pk)
    assert (level.cement_volume_ml, level.leakage, level.version) == (Decimal("4.5"), "S", 2)
    assert level.history.first().history_user == surgeon_a
    assert TreatedLevel.objects.get(pk=second.pk).devices_used == 2
    case.procedure.refresh_from_db()
    assert case.procedure.history.first().history_user == surgeon_a


def test_bad_nested_levels_are_400_per_item_and_nothing_is_written(api_surgeon_a, case, other):
    url = f"/api/v1/procedures/{case.procedure.pk}/"
    _, etag = _read(api_surgeon_a, url)
    response = api_surgeon_a.patch(
        url,
        {
            "operation_time_min": 51,
            "levels": [
                {"id": case.level.pk, "version": 1, "cement_volume_ml": "lots"},
                {"id": other.level.pk, "version": 1, "devices_used": 1},
                {"cement_volume_ml": "2.0"},
            ],
        },
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 400
    assert list(response.json()["levels"]) == ["0"]  # by index, as DRF reports a list's
    assert "cement_volume_ml" in response.json()["levels"]["0"]
    # Items that are well-formed but name no level of this procedure, or lack a version.
    response = api_surgeon_a.patch(
        url,
        {
            "operation_time_min": 51,
            "levels": [
                {"id": other.level.pk, "version": 1, "devices_used": 1},
                {"cement_volume_ml": "2.0"},
                {"id": case.level.pk, "cement_volume_ml": "2.0"},
            ],
        },
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 400
    errors = response.json()["levels"]
    assert "id" in errors["0"] and "id" in errors["1"] and "version" in errors["2"]
    # The model's own rule, from the service (a PartError), nested under the level's index.
    response = api_surgeon_a.patch(
        url,
        {"levels": [{"id": case.level.pk, "version": 1, "devices_ruptured": 3}]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 400, response.json()
    assert list(response.json()["levels"]) == ["0"]  # the service's PartError, by index
    case.procedure.refresh_from_db()
    level = TreatedLevel.objects.get(pk=case.level.pk)
    assert case.procedure.version == 1 and level.version == 1 and level.devices_ruptured != 3


def test_a_stale_level_version_or_if_match_is_412(api_surgeon_a, case):
    url = f"/api/v1/procedures/{case.procedure.pk}/"
    _, etag = _read(api_surgeon_a, url)
    level_url = f"/api/v1/treated-levels/{case.level.pk}/"
    _, level_tag = _read(api_surgeon_a, level_url)
    moved = api_surgeon_a.patch(
        level_url, {"cement_volume_ml": "5.0"}, format="json", HTTP_IF_MATCH=level_tag
    )
    assert moved.status_code == 200
    stale = api_surgeon_a.patch(
        url,
        {"levels": [{"id": case.level.pk, "version": 1, "cement_volume_ml": "6.0"}]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert stale.status_code == 412
    assert [c["field"] for c in stale.json()["changes"]] == ["cement_volume_ml"]
    assert TreatedLevel.objects.get(pk=case.level.pk).cement_volume_ml == Decimal("5.0")
    # The record's own If-Match is honoured when only nested rows change.
    edited = api_surgeon_a.patch(url, {"operation_time_min": 60}, format="json", HTTP_IF_MATCH=etag)
    assert edited.status_code == 200
    stale = api_surgeon_a.patch(
        url,
        {"levels": [{"id": case.level.pk, "version": 2, "cement_volume_ml": "6.0"}]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert stale.status_code == 412
    assert [c["field"] for c in stale.json()["changes"]] == ["operation_time_min"]
    assert api_surgeon_a.patch(url, {"levels": []}, format="json").status_code == 428


def test_visit_update_edits_and_adds_radiographs_and_odi_answers(api_surgeon_a, surgeon_a, case):
    second = TreatedLevelFactory(
        procedure=case.procedure, fracture=FractureFactory(patient=case.patient, level="L2")
    )
    visit = case.followup
    film = visit.radiographs.get()
    url = f"/api/v1/visits/{visit.pk}/"
    _, etag = _read(api_surgeon_a, url)
    response = api_surgeon_a.patch(
        url,
        {
            **{f"odi_{n}": 1 for n in range(1, 11)},
            "radiographs": [
                {"id": film.pk, "version": film.version, "anterior_height_mm": "22.0"},
                {
                    "treated_level": second.pk,
                    "anterior_height_mm": "20.0",
                    "above_anterior_height_mm": "25.0",
                    "below_anterior_height_mm": "27.0",
                },
            ],
        },
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["odi_percent"] == 20.0
    films = {f["treated_level"]: f for f in body["radiographs"]}
    assert float(films[case.level.pk]["anterior_height_mm"]) == 22.0
    assert films[second.pk]["rfvh_percent"] == pytest.approx(76.92)
    added = RadiographicMeasurement.objects.get(visit=visit, treated_level=second)
    assert added.history.first().history_user == surgeon_a
    assert film.history.first().history_user == surgeon_a


def test_bad_radiographs_in_a_visit_update_are_400_per_item(api_surgeon_a, case, other):
    visit = case.followup
    film = visit.radiographs.get()
    url = f"/api/v1/visits/{visit.pk}/"
    _, etag = _read(api_surgeon_a, url)
    # Another site's vertebra "does not exist" for this user, whatever else is wrong.
    response = api_surgeon_a.patch(
        url,
        {"radiographs": [{"id": film.pk, "version": 1, "treated_level": other.level.pk}]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 400
    assert "treated_level" in response.json()["radiographs"]["0"]
    response = api_surgeon_a.patch(
        url,
        {
            "radiographs": [
                {"anterior_height_mm": "20.0"},  # a new film needs its vertebra
                {"id": film.pk, "version": 1, "treated_level": case.level.pk},  # unchanged: fine
                {"id": film.pk + 1000, "version": 1},
            ],
        },
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 400
    errors = response.json()["radiographs"]
    assert set(errors) == {"0", "2"}
    assert "treated_level" in errors["0"] and "id" in errors["2"]
    # A vertebra of this patient's other procedure: the model refuses it, nested by index.
    elsewhere = make_case(case.patient.site)
    response = api_surgeon_a.patch(
        url,
        {"radiographs": [{"treated_level": elsewhere.level.pk, "anterior_height_mm": "20"}]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 400, response.json()
    assert "treated_level" in response.json()["radiographs"]["0"]
    assert visit.radiographs.count() == 1


def test_a_visit_created_with_films_of_two_levels_and_a_bad_one(api_surgeon_a, case):
    second = TreatedLevelFactory(
        procedure=case.procedure, fracture=FractureFactory(patient=case.patient, level="L2")
    )
    body = {
        "procedure": case.procedure.pk,
        "timepoint": "2w",
        "visit_date": "2024-01-29",
        "vas": "3.0",
        "radiographs": [
            {"treated_level": case.level.pk, "anterior_height_mm": "20"},
            {"treated_level": second.pk, "anterior_height_mm": "-1"},
        ],
    }
    response = api_surgeon_a.post("/api/v1/visits/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["radiographs"]) == ["1"]
    assert "anterior_height_mm" in response.json()["radiographs"]["1"]
    body["radiographs"][1]["anterior_height_mm"] = "21"
    response = api_surgeon_a.post("/api/v1/visits/", body, format="json")
    assert response.status_code == 201, response.json()
    assert len(response.json()["radiographs"]) == 2
    assert all(f["version"] == 1 for f in response.json()["radiographs"])


def test_another_sites_procedure_cannot_be_edited_with_levels(api_surgeon_a, other):
    url = f"/api/v1/procedures/{other.procedure.pk}/"
    response = api_surgeon_a.patch(
        url,
        {"levels": [{"id": other.level.pk, "version": 1, "devices_used": 1}]},
        format="json",
        HTTP_IF_MATCH=f'"procedure-{other.procedure.pk}-v1"',
    )
    assert response.status_code == 404
