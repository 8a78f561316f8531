"""Export pages: the request form, the job page with its progress, the status poll, the nav."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outcomes.exports.models import Export


def test_request_form_makes_an_export_and_shows_its_job(
    client, coordinator, cohort_cases, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    page = client.get(reverse("outcomes:export_list"))
    assert page.status_code == 200 and b"New export" in page.content
    assert b"Identified" not in page.content  # a coordinator is not offered identified data
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("outcomes:export_list"), {"format": "dta", "level": "deidentified"}
        )
    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("outcomes:export_detail", args=[export.pk])
    detail = client.get(response["Location"])
    assert b"<progress" in detail.content and b"export_status.js" in detail.content
    assert b"style=" not in detail.content.split(b"<main")[-1]
    status = client.get(reverse("outcomes:export_status", args=[export.pk])).json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["download_url"] == reverse("outcomes:export_download", args=[export.pk])


def test_form_errors_sit_next_to_their_field(client, site_admin_a, cohort_cases):
    client.force_login(site_admin_a)
    response = client.post(
        reverse("outcomes:export_list"), {"format": "csv", "level": "identified", "reason": ""}
    )
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not Export.objects.exists()


def test_the_list_runs_a_constant_number_of_queries(client, coordinator, cohort_cases, export):
    client.force_login(coordinator)
    export(coordinator)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("outcomes:export_list"))
    for _ in range(3):
        export(coordinator, format="parquet")
    with CaptureQueriesContext(connection) as four:
        assert client.get(reverse("outcomes:export_list")).content.count(b"#") >= 4
    assert len(four) == len(one)


def test_navigation_offers_exports_to_exporters_only(client, coordinator, surgeon_a):
    client.force_login(coordinator)
    page = client.get(reverse("outcomes:dictionary")).content
    assert reverse("outcomes:export_list").encode() in page and b"Data dictionary" in page
    client.force_login(surgeon_a)
    page = client.get(reverse("outcomes:dictionary")).content
    assert reverse("outcomes:export_list").encode() not in page and b"Data dictionary" in page
