"""Aggregates come from stored runs (202 + Location while computing), equal the stored
result, carry their provenance, are scoped and have small cells withheld."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from outcomes import contract
from outcomes.models import Cohort, RunStatus, StatisticsRun
from outcomes.services import run_execute
from registry.services import clinical_update
from tests.api.cases import make_case
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

PKP_12W = ["1.0", "2.0", "2.5", "3.0", "1.5", "2.0"]
VBS_12W = ["3.0", "4.0", "3.5", "2.0", "5.0", "4.5"]


@pytest.fixture
def cohort_data(site_a, site_b):
    cases = []
    for vas in PKP_12W:
        cases.append(_case(site_a, "PKP", vas))
    for vas in VBS_12W:
        cases.append(_case(site_a, "VBS", vas))
    for vas in ("2.0", "3.0"):
        cases.append(_case(site_b, "PKP", vas))
    return cases


def _case(site, technique, vas_12w):
    case = make_case(site, technique=technique)
    type(case.followup).objects.filter(pk=case.followup.pk).update(vas=vas_12w)
    return case


def _finish(response):
    """Do the worker's job for the run a 202 points at."""
    assert response.status_code == 202, response.content
    run_id = int(response["Location"].rstrip("/").split("/")[-1])
    assert StatisticsRun.objects.get(pk=run_id).status == RunStatus.PENDING  # not computed inline
    assert run_execute(run_id=run_id) == "done"
    return StatisticsRun.objects.get(pk=run_id)


OUTCOMES = "/api/v1/aggregates/outcomes/?metric=vas&techniques=PKP,VBS"


def test_a_missing_result_starts_a_run_then_the_stored_result_is_served(cohort_data, api_surgeon_a):
    first = api_surgeon_a.get(OUTCOMES)
    assert first["Location"].startswith("/api/v1/cohorts/")
    run = _finish(first)
    served = api_surgeon_a.get(OUTCOMES)
    assert served.status_code == 200
    body = served.json()
    assert body["run"] == run.pk
    assert (
        body["cohort_hash"]
        == run.cohort_hash
        == Cohort.objects.get(pk=run.cohort_id).definition_hash
    )
    assert body["data_version"] == run.data_version
    assert body["software_version"] == run.software_version
    assert body["computed_at"] and body["tests"]
    assert "welch_t" in body["tests"] and "paired_t" in body["tests"]
    # The numbers are the stored result's, and those are the data's.
    stored = next(o for o in run.result["body"]["outcomes"] if o["key"] == "vas")
    [served] = body["body"]["outcomes"]
    assert served["key"] == "vas" and body["query"]["metric"] == "vas"
    stored_pkp = _item(stored["summaries"], "PKP", "12w")
    served_pkp = _item(served["summaries"], "PKP", "12w")
    assert served_pkp == stored_pkp  # n >= 5 everywhere: nothing withheld, nothing changed
    assert served_pkp["summary"]["mean"] == pytest.approx(np.mean([float(v) for v in PKP_12W]))
    assert served_pkp["summary"]["sd"] == pytest.approx(np.std([float(v) for v in PKP_12W], ddof=1))
    change = _item(served["changes"], "VBS", "12w")["change"]
    assert change["n_paired"] == 6 and change["test"] == "paired_t"
    assert change["mean_diff"] == pytest.approx(np.mean([float(v) for v in VBS_12W]) - 8.0)
    # Surgeon A sees site A only: site B's two patients are not in it.
    assert body["cohort"]["n_patients"] == 12


def _item(items, group, timepoint):
    return next(i for i in items if i["group"] == group and i["timepoint"] == timepoint)


def test_if_none_match_gives_304(cohort_data, api_surgeon_a):
    _finish(api_surgeon_a.get(OUTCOMES))
    etag = api_surgeon_a.get(OUTCOMES)["ETag"]
    assert api_surgeon_a.get(OUTCOMES, HTTP_IF_NONE_MATCH=etag).status_code == 304
    other = api_surgeon_a.get(OUTCOMES.replace("vas", "odi"))
    assert other.status_code == 200 and other["ETag"] != etag


def test_a_data_change_makes_the_result_stale(
    cohort_data, api_surgeon_a, surgeon_a, django_capture_on_commit_callbacks
):
    _finish(api_surgeon_a.get(OUTCOMES))
    visit = cohort_data[0].followup
    with django_capture_on_commit_callbacks(execute=True):
        clinical_update(
            user=surgeon_a, instance=visit, expected_version=visit.version, data={"vas": 9}
        )
    stale = api_surgeon_a.get(OUTCOMES)
    run = _finish(stale)
    served = api_surgeon_a.get(OUTCOMES).json()
    assert served["run"] == run.pk


def test_a_change_elsewhere_keeps_the_result(
    cohort_data, api_surgeon_b, surgeon_a, django_capture_on_commit_callbacks
):
    _finish(api_surgeon_b.get(OUTCOMES))
    visit = cohort_data[0].followup  # site A: outside surgeon B's scope
    with django_capture_on_commit_callbacks(execute=True):
        clinical_update(
            user=surgeon_a, instance=visit, expected_version=visit.version, data={"vas": 9}
        )
    assert api_surgeon_b.get(OUTCOMES).status_code == 200


def test_small_cells_are_withheld_with_a_flag(cohort_data, api_surgeon_b):
    _finish(api_surgeon_b.get(OUTCOMES))
    body = api_surgeon_b.get(OUTCOMES).json()
    assert body["cohort"]["n_patients"] is None  # 2 patients: the total would give them away
    assert body["suppression"]["applied"] and body["suppression"]["k"] == 5
    assert body["suppression"]["cells_withheld"] > 0
    [vas] = body["body"]["outcomes"]
    for item in vas["summaries"]:
        summary = item["summary"]
        assert summary["n"] in (None, 0)
        if summary["n"] is None:
            assert "n" in summary["withheld"] and summary["mean"] is None
            assert summary["ci_low"] is None and summary["ci_high"] is None
    for item in vas["changes"]:
        assert item["change"]["n_paired"] in (None, 0) and item["change"]["p"] is None
    contract.validate(body)


def test_rates(cohort_data, api_coordinator):
    url = "/api/v1/aggregates/rates/?event=leakage&unit=patient&techniques=PKP,VBS"
    run = _finish(api_coordinator.get(url))
    body = api_coordinator.get(url).json()
    stored = run.result["body"]["leakage"][0]
    [served] = body["body"]["leakage"]
    assert served == stored and served["code"] == "leakage_per_patient"
    assert served["unit"] == "patient" and body["body"]["device_rupture"] == []
    assert body["query"] == {
        "event": "leakage",
        "unit": "patient",
        "techniques": "PKP,VBS",
        "inclusion_rules": True,
    }
    contract.validate(body)
    rupture = api_coordinator.get(url.replace("event=leakage&unit=patient", "event=rupture"))
    assert rupture.status_code == 200
    [block] = rupture.json()["body"]["device_rupture"]
    assert block["unit"] == "device" and rupture.json()["body"]["leakage"] == []


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("/outcomes/?metric=pain", "metric", "vas, odi, rfvh, height, lka"),
        ("/rates/?event=fall", "event", "leakage, rupture, adverse_event"),
        ("/rates/?event=rupture&unit=patient", "unit", "device"),
        ("/rates/?event=leakage&type=Z&unit=level", "type", "B, S, C"),
        ("/outcomes/?metric=vas&techniques=NOPE", "techniques", "NOPE"),
        (
            "/outcomes/?metric=vas&procedure_from=2024-02-01&procedure_to=2024-01-01",
            "procedure_to",
            "before",
        ),
        ("/outcomes/?metric=vas&age_min=abc", "age_min", "integer"),
    ],
)
def test_bad_queries_are_400_naming_the_valid_values(api_coordinator, query, field, words, db):
    response = api_coordinator.get("/api/v1/aggregates" + query)
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])


def test_saved_cohort_and_tables(cohort_data, api_coordinator, coordinator):
    cohort = api_coordinator.post(
        "/api/v1/cohorts/",
        {"name": "PKP vs VBS", "filters": {"techniques": ["PKP", "VBS"]}},
        format="json",
    )
    assert cohort.status_code == 403  # a read-only token does not save cohorts
    writer = token_client(coordinator, scope="read")
    from outcomes.services import cohort_create

    saved = cohort_create(
        owner=coordinator, name="PKP vs VBS", filters={"techniques": ["PKP", "VBS"]}
    )
    url = f"/api/v1/aggregates/tables/table1/?cohort={saved.pk}"
    _finish(writer.get(url))
    body = writer.get(url).json()
    table = body["body"]["table"]
    assert table["title"].startswith("Table 1") and table["rows"]
    contract.validate(body)
    url = f"/api/v1/aggregates/tables/table2/?cohort={saved.pk}&followup=12w"
    _finish(writer.get(url))
    body = writer.get(url).json()
    assert {t["technique"] for t in body["body"]["tables"]} == {"PKP", "VBS"}
    contract.validate(body)


def test_someone_elses_unshared_cohort_is_404(cohort_data, surgeon_b, api_surgeon_a):
    from outcomes.services import cohort_create

    theirs = cohort_create(owner=surgeon_b, name="B only")
    url = f"/api/v1/aggregates/outcomes/?metric=vas&cohort={theirs.pk}"
    assert api_surgeon_a.get(url).status_code == 404


def test_cohort_crud_goes_through_the_services(api_surgeon_a, api_surgeon_b, surgeon_a):
    created = api_surgeon_a.post(
        "/api/v1/cohorts/",
        {
            "name": "Grade 3",
            "filters": {"genant_grades": [3], "date_from": "2020-01-01"},
            "rules": {"rule_min_age": False},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    cohort = Cohort.objects.get(pk=created.json()["id"])
    assert cohort.owner == surgeon_a and cohort.rule_min_age is False
    assert cohort.filters["genant_grades"] == [3]
    url = f"/api/v1/cohorts/{cohort.pk}/"
    bad = api_surgeon_a.patch(url, {"filters": {"age_min": 80, "age_max": 60}}, format="json")
    assert bad.status_code == 400 and "age_max" in bad.json()
    renamed = api_surgeon_a.patch(url, {"name": "Grade 3 only"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Grade 3 only"
    assert api_surgeon_b.patch(url, {"name": "x"}, format="json").status_code == 404
    assert api_surgeon_a.delete(url).status_code == 204
    assert not Cohort.objects.filter(pk=cohort.pk).exists()


def test_runs_start_poll_and_fetch(cohort_data, api_surgeon_a, api_surgeon_b, surgeon_a):
    from outcomes.services import cohort_create

    cohort = cohort_create(owner=surgeon_a, name="All", rules={"rule_min_age": False})
    started = api_surgeon_a.post(
        f"/api/v1/cohorts/{cohort.pk}/runs/", {"analysis": "rates"}, format="json"
    )
    run = _finish(started)
    status = api_surgeon_a.get(started["Location"]).json()
    assert status["status"] == "done" and status["progress"] == 100
    result = api_surgeon_a.get(status["result_url"])
    assert result.status_code == 200 and result.json()["suppression"]["applied"]
    assert result.json()["body"]["leakage"]
    again = api_surgeon_a.post(
        f"/api/v1/cohorts/{cohort.pk}/runs/", {"analysis": "rates"}, format="json"
    )
    assert again.status_code == 200 and again.json()["id"] == run.pk  # reused
    assert api_surgeon_b.get(started["Location"]).status_code == 404
    unknown = api_surgeon_a.post(
        f"/api/v1/cohorts/{cohort.pk}/runs/", {"analysis": "magic"}, format="json"
    )
    assert unknown.status_code == 400 and "analysis" in unknown.json()
    listed = api_surgeon_a.get(f"/api/v1/cohorts/{cohort.pk}/runs/").json()
    assert [r["id"] for r in listed] == [run.pk]


def test_aggregates_need_a_signed_in_caller(anonymous, db):
    assert anonymous.get(OUTCOMES).status_code == 401


def test_the_date_range_filters_reach_the_cohort(cohort_data, api_surgeon_a):
    url = OUTCOMES + "&procedure_from=2025-01-01"
    _finish(api_surgeon_a.get(url))
    assert api_surgeon_a.get(url).json()["cohort"]["n_patients"] == 0
    assert date(2024, 1, 15) < date(2025, 1, 1)


def test_the_cut_body_is_remembered_per_tag_and_a_new_run_is_a_new_one(
    cohort_data, api_surgeon_a, surgeon_a, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _finish(api_surgeon_a.get(OUTCOMES))
    first = api_surgeon_a.get(OUTCOMES)
    with CaptureQueriesContext(connection) as seen:
        again = api_surgeon_a.get(OUTCOMES)
    assert again.json() == first.json() and again["ETag"] == first["ETag"]
    assert not any('"result"' in q["sql"] and "SELECT" in q["sql"] for q in seen.captured_queries)
    # A renamed cohort is another tag (the body names it).
    cohort = Cohort.objects.get(pk=first.json()["cohort"]["id"])
    Cohort.objects.filter(pk=cohort.pk).update(name="Renamed")
    renamed = api_surgeon_a.get(OUTCOMES)
    assert renamed["ETag"] != first["ETag"] and renamed.json()["cohort"]["name"] == "Renamed"
    # Changed data: a new run, its own numbers.
    visit = cohort_data[0].followup
    with django_capture_on_commit_callbacks(execute=True):
        clinical_update(
            user=surgeon_a, instance=visit, expected_version=visit.version, data={"vas": 9}
        )
    run = _finish(api_surgeon_a.get(OUTCOMES))
    served = api_surgeon_a.get(OUTCOMES).json()
    assert served["run"] == run.pk != first.json()["run"]
