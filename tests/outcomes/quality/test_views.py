"""The data-quality pages and /api/v1/quality/: scoping, links to the record, reviews with
field errors, CSV, and a constant number of queries whatever the page holds."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outcomes.quality import services
from outcomes.quality.models import Finding, QualityRun, Review
from tests.factories import ProcedureFactory, TreatedLevelFactory, VisitFactory

pytestmark = pytest.mark.django_db


def cement(site, n=1):
    levels = []
    for _ in range(n):
        procedure = ProcedureFactory(patient__site=site)
        VisitFactory(procedure=procedure)
        levels.append(TreatedLevelFactory(procedure=procedure, cement_volume_ml=D("13.0")))
    return levels


@pytest.fixture
def checked(coordinator, site_a, site_b, django_capture_on_commit_callbacks):
    cement(site_a, 2), cement(site_b, 3)
    with django_capture_on_commit_callbacks(execute=True):
        services.run_request(user=coordinator)
    return QualityRun.objects.get()


def signed_in(client, user):
    client.force_login(user)
    return client


def test_overview_shows_stored_results_of_the_users_sites(client, coordinator, checked):
    response = signed_in(client, coordinator).get(reverse("quality:overview"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hospital A" in html and "Hospital B" in html
    assert 'data-figure="quality-completion"' in html
    assert 'id="quality-completion" type="application/json"' in html
    assert "/static/plotly.min.js" in html and "outcomes/dashboards.js" in html
    assert 'href="/quality/"' in html  # the navigation entry
    rules = {row.code: row for row in response.context["rules"]}
    assert rules["IMP-CEMENT"].open == 5 and rules["IMP-CEMENT"].by_site == [2, 3]


def test_a_surgeon_sees_their_site_only(client, surgeon_a, site_b, checked):
    c = signed_in(client, surgeon_a)
    overview = c.get(reverse("quality:overview"))
    assert [s.code for s in overview.context["shown"]] == ["site-a"]
    assert "Hospital B" not in overview.content.decode()
    listed = c.get(reverse("quality:finding_list"), {"rule": "IMP-CEMENT"})
    assert {f.site.code for f, _ in listed.context["items"]} == {"site-a"}
    theirs = Finding.objects.filter(site=site_b).first()
    assert c.get(reverse("quality:finding_detail", args=[theirs.pk])).status_code == 404
    assert c.get(reverse("quality:overview"), {"site": "site-b"}).status_code == 404
    api = c.get("/api/v1/quality/findings/", {"rule": "IMP-CEMENT"}).json()
    assert {row["site"] for row in api["results"]} == {"site-a"} and len(api["results"]) == 2
    summary = c.get("/api/v1/quality/").json()
    assert [s["site"] for s in summary["sites"]] == ["site-a"]
    rows = c.get("/api/v1/quality/completeness/").json()["completeness"]
    assert {row["site"] for row in rows} == {"Hospital A"}


def test_each_finding_links_to_the_timeline_and_the_edit_page(client, coordinator, checked):
    response = signed_in(client, coordinator).get(
        reverse("quality:finding_list"), {"rule": "IMP-CEMENT"}
    )
    finding, links = response.context["items"][0]
    rid = finding.patient.registry_id
    assert links["timeline"] == reverse("patient_detail", args=[rid])
    level_procedure = finding.edit_pk
    assert links["edit"] == reverse("procedure_edit", args=[rid, level_procedure])
    assert links["edit"] in response.content.decode()


def test_lists_and_summaries_run_a_constant_number_of_queries(
    client, coordinator, site_a, checked, django_capture_on_commit_callbacks
):
    c = signed_in(client, coordinator)
    url = reverse("quality:finding_list")
    c.get(url)  # session, roles: warm
    urls = [url, reverse("quality:overview"), "/api/v1/quality/findings/", "/api/v1/quality/"]
    few = {}
    for page in urls:
        with CaptureQueriesContext(connection) as queries:
            assert c.get(page).status_code == 200
        few[page] = len(queries)
    cement(site_a, 12)
    with django_capture_on_commit_callbacks(execute=True):
        services.run_request(user=coordinator)
    many = {}
    for page in urls:
        with CaptureQueriesContext(connection) as queries:
            assert c.get(page).status_code == 200
        many[page] = len(queries)
    assert len(c.get(url).context["items"]) > 15
    assert many == few


def test_bad_filters_are_field_errors_not_500(client, coordinator, checked):
    c = signed_in(client, coordinator)
    response = c.get(reverse("quality:finding_list"), {"rule": "NOPE", "severity": "awful"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"rule", "severity"}
    api = c.get("/api/v1/quality/findings/", {"severity": "awful"})
    assert api.status_code == 400 and "severity" in api.json()


def test_a_review_from_the_page_is_attributed_and_shown(client, coordinator, checked):
    finding = Finding.objects.filter(rule="IMP-CEMENT").first()
    c = signed_in(client, coordinator)
    url = reverse("quality:finding_detail", args=[finding.pk])
    missing_comment = c.post(url, {"decision": "verified", "comment": ""})
    assert missing_comment.status_code == 200
    assert "comment" in missing_comment.context["form"].errors
    saved = c.post(url, {"decision": "verified", "comment": "Checked on the film."})
    assert saved.status_code == 302
    review = Review.objects.get()
    assert review.reviewed_by == coordinator and review.history.get().history_user == coordinator
    page = c.get(url).content.decode()
    assert "Checked on the film." in page and "Verified as correct" in page
    rules = {row.code: row for row in c.get(reverse("quality:overview")).context["rules"]}
    assert (rules["IMP-CEMENT"].open, rules["IMP-CEMENT"].verified) == (4, 1)
    listed = c.get(reverse("quality:finding_list"), {"rule": "IMP-CEMENT"}).context["items"]
    assert finding.pk not in [f.pk for f, _ in listed] and len(listed) == 4
    verified = c.get(reverse("quality:finding_list"), {"rule": "IMP-CEMENT", "status": "verified"})
    assert [f.pk for f, _ in verified.context["items"]] == [finding.pk]


def test_completeness_csv_matches_the_table(client, coordinator, checked):
    response = signed_in(client, coordinator).get(reverse("quality:completeness_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    page = client.get(reverse("quality:overview")).context["completeness"]
    assert len(rows) == len(page) == 12  # 2 sites + the total, 4 timepoints
    for row, shown in zip(rows, page, strict=True):
        assert int(row["due"]) == shown.due and row["site"] == shown.site
    findings = client.get(reverse("quality:findings_csv"), {"rule": "IMP-CEMENT"})
    assert len(list(csv.DictReader(io.StringIO(findings.content.decode())))) == 5


def test_check_now_queues_a_run_for_the_chosen_site(
    client, surgeon_a, site_a, django_capture_on_commit_callbacks
):
    cement(site_a)
    c = signed_in(client, surgeon_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("quality:run_create"), {"site": "site-a"})
    assert response.status_code == 302
    run = QualityRun.objects.get()
    assert run.status == "done" and run.scope_sites == [site_a.pk]
    assert c.post(reverse("quality:run_create"), {"site": "site-b"}).status_code == 404


def test_the_api_queues_runs_and_needs_authentication(
    client, coordinator, site_a, django_capture_on_commit_callbacks
):
    assert client.get("/api/v1/quality/").status_code in (401, 403)
    cement(site_a)
    c = signed_in(client, coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        queued = c.post(
            "/api/v1/quality/runs/", {"site": "site-a"}, content_type="application/json"
        )
    assert queued.status_code == 202
    run = c.get(f"/api/v1/quality/runs/{queued.json()['id']}/").json()
    assert run["status"] == "done"
    summary = c.get("/api/v1/quality/", {"site": "site-a"}).json()
    assert summary["prom_target_percent"] == 50.0
    assert summary["sites"][0]["findings"]["IMP-CEMENT"] == {"open": 1}


def test_a_review_through_the_api_is_attributed_and_scoped(client, coordinator, surgeon_b, checked):
    finding = Finding.objects.filter(rule="IMP-CEMENT", site__code="site-a").first()
    url = f"/api/v1/quality/findings/{finding.pk}/review/"
    outsider = signed_in(client, surgeon_b)
    assert outsider.post(url, {"decision": "verified", "comment": "x"}).status_code == 404
    c = signed_in(client, coordinator)
    bad = c.post(url, {"decision": "maybe", "comment": ""}, content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()) == {"decision", "comment"}
    made = c.post(
        url, {"decision": "will_correct", "comment": "Ask Dr A."}, content_type="application/json"
    )
    assert made.status_code == 201 and made.json()["reviewed_by"] == "coordinator"
    finding.refresh_from_db()
    assert finding.status == "will_correct"
    assert Review.objects.get().history.get().history_user == coordinator
