"""/api/v1/exports/: create (202 + Location), poll, download; errors by field."""

from __future__ import annotations

import io
import zipfile

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api(django_capture_on_commit_callbacks):
    client = APIClient()

    def post(user, body, **headers):
        client.force_authenticate(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/v1/exports/", body, format="json", headers=headers)

    client.post_export = post
    return client


def test_create_poll_download(api, coordinator, cohort_cases):
    response = api.post_export(
        coordinator, {"format": "parquet", "filters": {"techniques": ["PKP"]}}
    )
    assert response.status_code == 202
    location = response["Location"]
    assert location.endswith(f"/api/v1/exports/{response.json()['id']}/")
    polled = api.get(location).json()
    assert polled["status"] == "done" and polled["progress"] == 100
    assert polled["row_counts"]["patients"] == 2  # the two PKP patients at site A (one withdrawn)
    download = api.get(polled["download_url"])
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert "wide.parquet" in archive.namelist() and "README.txt" in archive.namelist()
    listed = api.get("/api/v1/exports/").json()
    assert [e["id"] for e in listed["results"]] == [polled["id"]]


def test_a_saved_cohort_is_exported_by_id(api, coordinator, cohort_cases):
    from outcomes.services import cohort_create

    cohort = cohort_create(owner=coordinator, name="PVP", filters={"techniques": ["PVP"]}, rules={})
    response = api.post_export(coordinator, {"format": "csv", "cohort": cohort.pk})
    assert response.status_code == 202
    assert response.json()["cohort_name"] == "PVP"
    assert api.get(response["Location"]).json()["row_counts"]["wide"] == 2


def test_bad_input_is_a_field_error(api, coordinator, cohort_cases):
    response = api.post_export(coordinator, {"format": "pdf", "filters": {"age_min": "old"}})
    assert response.status_code == 400 and "format" in response.json()
    response = api.post_export(coordinator, {"format": "csv", "filters": {"age_min": "old"}})
    assert response.status_code == 400 and "age_min" in response.json()
    response = api.post_export(coordinator, {"format": "csv", "level": "identified"})
    assert response.status_code == 403


def test_surgeons_and_strangers_are_refused(api, surgeon_a, coordinator, site_a, cohort_cases):
    assert api.post_export(surgeon_a, {"format": "csv"}).status_code == 403
    made = api.post_export(coordinator, {"format": "csv"}).json()
    api.force_authenticate(surgeon_a)
    assert api.get(f"/api/v1/exports/{made['id']}/").status_code == 404
    assert api.get(f"/api/v1/exports/{made['id']}/download/").status_code == 404
    api.force_authenticate(None)
    assert api.get("/api/v1/exports/").status_code in (401, 403)


def test_an_idempotency_key_makes_one_export(api, coordinator, cohort_cases):
    first = api.post_export(coordinator, {"format": "csv"}, **{"Idempotency-Key": "abc-1"})
    again = api.post_export(coordinator, {"format": "csv"}, **{"Idempotency-Key": "abc-1"})
    assert first.json()["id"] == again.json()["id"]
