"""Cohort and job pages for three actors: the surgeon of site A, of site B, a coordinator of
both. A run is shown only to users who may see every patient it read."""

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from outcomes import cohorts
from outcomes.models import Cohort, RunStatus, StatisticsRun
from outcomes.services import cohort_create
from tests.factories import PASSWORD
from tests.outcomes.conftest import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(site_a, site_b, surgeon_a, surgeon_b, coordinator, ask):
    make_case(site=site_a)
    make_case(site=site_a)
    make_case(site=site_b, vas={"baseline": "7.0", "12w": "3.5"})
    shared = cohort_create(owner=coordinator, name="Both sites", rules={"rule_collapse": False})
    own = cohort_create(owner=surgeon_a, name="Surgeon A's own", filters={"sexes": ["F"]})
    return {
        "shared": shared,
        "own": own,
        "coordinator_run": ask(coordinator, shared, "standard_report").run,
        "surgeon_a_run": ask(surgeon_a, shared, "standard_report").run,
    }


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def status_of(client, run):
    return client.get(reverse("outcomes:run_status", args=[run.pk]))


@pytest.mark.parametrize(
    ("actor", "run", "visible"),
    [
        ("coordinator", "coordinator_run", True),
        ("surgeon_a", "coordinator_run", False),  # it read site B's patients too
        ("surgeon_b", "coordinator_run", False),
        ("surgeon_a", "surgeon_a_run", True),
        ("coordinator", "surgeon_a_run", True),  # the coordinator sees site A's patients
        ("surgeon_b", "surgeon_a_run", False),
    ],
)
def test_job_page_status_and_result_follow_the_run_scope(
    client, world, request, actor, run, visible
):
    client = signed_in(client, request.getfixturevalue(actor))
    run = world[run]
    expected = 200 if visible else 404
    for name in ("run_detail", "run_status", "run_result"):
        assert client.get(reverse(f"outcomes:{name}", args=[run.pk])).status_code == expected


def test_each_surgeon_result_counts_only_their_patients(client, world, surgeon_a, coordinator):
    assert world["surgeon_a_run"].result["cohort"]["n_patients"] == 2
    assert world["coordinator_run"].result["cohort"]["n_patients"] == 3
    page = signed_in(client, surgeon_a).get(
        reverse("outcomes:run_result", args=[world["surgeon_a_run"].pk])
    )
    assert "2 patients" in page.content.decode()


def test_the_status_endpoint_says_how_far_the_run_is(client, world, coordinator):
    run = world["coordinator_run"]
    body = status_of(signed_in(client, coordinator), run).json()
    assert body["status"] == "done" and body["progress"] == 100 and body["finished"]
    assert body["result_url"] == reverse("outcomes:run_result", args=[run.pk])
    StatisticsRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, progress=40)
    body = status_of(client, run).json()
    assert (body["status"], body["progress"], body["finished"], body["result_url"]) == (
        "running",
        40,
        False,
        None,
    )


def test_the_status_endpoint_is_a_few_queries(
    client, world, coordinator, django_assert_max_num_queries
):
    client = signed_in(client, coordinator)
    # session, user, run, cohort visibility, scope; the session renewal; and the savepoints
    # of ATOMIC_REQUESTS (two per atomic block): polled every second, it must stay flat.
    with django_assert_max_num_queries(10):
        status_of(client, world["coordinator_run"])


def test_the_job_page_shows_a_polling_progress_bar(client, world, coordinator):
    run = world["coordinator_run"]
    StatisticsRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, progress=35)
    page = signed_in(client, coordinator).get(reverse("outcomes:run_detail", args=[run.pk]))
    html = page.content.decode()
    assert 'role="progressbar"' in html and 'aria-valuenow="35"' in html
    status_url = reverse("outcomes:run_status", args=[run.pk])
    assert f'data-status-url="{status_url}"' in html
    assert "outcomes/run_status.js" in html


def test_a_failed_run_shows_its_reason(client, world, coordinator):
    run = world["coordinator_run"]
    StatisticsRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, error="ValueError: bad frame"
    )
    client = signed_in(client, coordinator)
    assert (
        "ValueError: bad frame"
        in client.get(reverse("outcomes:run_detail", args=[run.pk])).content.decode()
    )
    assert status_of(client, run).json()["error"] == "ValueError: bad frame"
    result = client.get(reverse("outcomes:run_result", args=[run.pk]))
    assert result.status_code == 302  # no result to show: back to the job page


def test_the_result_page_prints_the_tables(client, world, coordinator):
    page = signed_in(client, coordinator).get(
        reverse("outcomes:run_result", args=[world["coordinator_run"].pk])
    )
    html = page.content.decode()
    for title in ("VAS back pain (0-10): by technique and timepoint", "Cement leakage", "Table 1"):
        assert title in html


def test_pages_a_person_reads_speak_words_not_codes(client, world, coordinator):
    """Defect 7: tests, timepoints, units and the analysis are printed in words."""
    run = world["coordinator_run"]
    signed_in(client, coordinator)
    result = client.get(reverse("outcomes:run_result", args=[run.pk])).content.decode()
    progress = client.get(reverse("outcomes:run_detail", args=[run.pk])).content.decode()
    cohort = client.get(reverse("outcomes:cohort_detail", args=[run.cohort.pk])).content.decode()
    cells = re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", result)
    codes = {
        "paired_t",
        "welch_t",
        "fisher_exact",
        "pearson_chi2",
        "one_way_anova",
        "kruskal_wallis",
        "wilcoxon_signed_rank",
        "mann_whitney_u",
        "2w",
        "12w",
        "1y",
        "baseline",
        "patient",
        "level",
        "device",
        "value",
        "change",
        "5.0",
    }
    assert not codes & {cell.strip() for cell in cells}
    assert "12 weeks" in result
    assert "Paired t-test" in result
    assert "Standard report" in progress and "standard_report" not in progress
    assert "standard_report</td>" not in cohort


def test_cohort_pages_list_what_each_actor_may_use(
    client, world, surgeon_a, surgeon_b, coordinator
):
    listed = signed_in(client, surgeon_b).get(reverse("outcomes:cohort_list")).content.decode()
    assert "Both sites" in listed and "Surgeon A&#x27;s own" not in listed
    own = world["own"]
    assert client.get(reverse("outcomes:cohort_detail", args=[own.pk])).status_code == 404
    detail = signed_in(client, coordinator).get(reverse("outcomes:cohort_detail", args=[own.pk]))
    assert detail.status_code == 200
    assert client.get(reverse("outcomes:cohort_edit", args=[own.pk])).status_code == 403
    owner = signed_in(client, surgeon_a)
    edit = owner.get(reverse("outcomes:cohort_edit", args=[own.pk]))
    assert edit.status_code == 200 and 'id="id_sexes_0" checked' in edit.content.decode()
    saved = owner.post(
        reverse("outcomes:cohort_edit", args=[own.pk]), {"name": "Renamed", "sexes": ["M"]}
    )
    assert saved.status_code == 302
    own.refresh_from_db()
    assert (own.name, own.filters["sexes"], own.rule_collapse) == ("Renamed", ["M"], False)


def test_the_cohort_page_lists_only_runs_the_user_may_open(client, world, surgeon_a):
    page = signed_in(client, surgeon_a).get(
        reverse("outcomes:cohort_detail", args=[world["shared"].pk])
    )
    runs = page.context["runs"]
    assert [run.pk for run in runs] == [world["surgeon_a_run"].pk]


def test_a_cohort_is_created_from_the_form(client, surgeon_a, site_a):
    client = signed_in(client, surgeon_a)
    response = client.post(
        reverse("outcomes:cohort_create"),
        {
            "name": "Genant 3, PVP vs Vesselplasty",
            "techniques": ["PVP", "VESSELPLASTY"],
            "genant_grades": ["3"],
            "sites": [site_a.code],
            "age_min": "50",
            "rule_min_age": "on",
            "rule_exclude_pathological": "on",
            "auto_refresh": "on",
        },
    )
    cohort = Cohort.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("outcomes:cohort_detail", args=[cohort.pk])
    assert cohort.filters["techniques"] == ["PVP", "VESSELPLASTY"]
    assert cohort.filters["genant_grades"] == [3]
    assert cohort.rules == {
        "rule_min_age": True,
        "rule_baseline_vas": False,
        "rule_collapse": False,
        "rule_exclude_pathological": True,
    }


def test_a_bad_cohort_form_is_shown_again_with_errors(client, surgeon_a):
    client = signed_in(client, surgeon_a)
    response = client.post(
        reverse("outcomes:cohort_create"), {"name": "Odd", "age_min": "80", "age_max": "60"}
    )
    assert response.status_code == 200
    assert "The maximum age is below the minimum age." in response.content.decode()
    assert not Cohort.objects.exists()


def test_running_an_analysis_from_the_cohort_page(
    client, world, surgeon_b, django_capture_on_commit_callbacks
):
    client = signed_in(client, surgeon_b)
    url = reverse("outcomes:run_create", args=[world["shared"].pk, "table2"])
    data = {"table2-outcomes": ["vas"], "table2-followup": "12w", "table2-age_cut": "70"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    run = StatisticsRun.objects.get(requested_by=surgeon_b)
    assert response.url == reverse("outcomes:run_detail", args=[run.pk])
    assert run.status == RunStatus.DONE
    assert run.parameters == {
        "outcomes": ["vas"],
        "followup": "12w",
        "age_cut": 70,
        "strata": [],
        "as_of": timezone.localdate().isoformat(),  # fixed at request time, stored
        "out_of_window": "exclude",
        "unit": "patient",
    }
    assert run.result["cohort"]["n_patients"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, data, follow=True)
    assert "it was reused" in again.content.decode()
    assert StatisticsRun.objects.filter(requested_by=surgeon_b).count() == 1


def test_an_unknown_analysis_is_not_found(client, world, coordinator):
    client = signed_in(client, coordinator)
    url = reverse("outcomes:run_create", args=[world["shared"].pk, "astrology"])
    assert client.post(url).status_code == 404


def test_pages_need_a_signed_in_user(client, world):
    response = client.get(reverse("outcomes:run_status", args=[world["coordinator_run"].pk]))
    assert response.status_code == 302
    assert reverse("login") in response.url


def test_the_cohort_list_costs_the_same_queries_for_many_cohorts(client, surgeon_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(client, surgeon_a)
    cohort_create(owner=surgeon_a, name="One", filters={"sexes": ["F"]})
    client.get(reverse("outcomes:cohort_list"))  # warm the session
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("outcomes:cohort_list"))
    for n in range(5):
        cohort_create(owner=surgeon_a, name=f"More {n}", filters={"age_min": 50 + n})
    with CaptureQueriesContext(connection) as six:
        page = client.get(reverse("outcomes:cohort_list"))
    assert page.content.decode().count("/outcomes/cohorts/") >= 6
    assert len(six.captured_queries) == len(one.captured_queries)


def test_a_cohort_with_a_procedure_date_range_saves_and_filters(client, surgeon_a, site_a):
    """Reproduction: "procedure from" was refused with "Value must be valid JSON"."""
    from outcomes.selectors import Scope, cohort_cases

    early = make_case(site=site_a, operated=date(2023, 3, 1))
    inside = make_case(site=site_a, operated=date(2024, 1, 15))
    response = signed_in(client, surgeon_a).post(
        reverse("outcomes:cohort_create"),
        {"name": "2024 only", "date_from": "2024-01-01", "date_to": "2024-12-31"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    cohort = Cohort.objects.get()
    assert (cohort.filters["date_from"], cohort.filters["date_to"]) == ("2024-01-01", "2024-12-31")
    chosen = cohort_cases(filters=cohort.filters, rules={}, scope=Scope.of([site_a.pk]))
    assert {c.patient_id for c in chosen} == {inside.patient_id}
    assert early.patient_id not in {c.patient_id for c in chosen}
    form = signed_in(client, surgeon_a).get(reverse("outcomes:cohort_edit", args=[cohort.pk]))
    assert 'value="2024-01-01"' in form.content.decode()


def test_a_second_cohort_of_the_same_definition_links_to_the_first(client, surgeon_a):
    first = cohort_create(
        owner=surgeon_a,
        name="First",
        filters={"levels": "multi"},
        rules=dict.fromkeys(cohorts.RULE_FIELDS, False),
    )
    response = signed_in(client, surgeon_a).post(
        reverse("outcomes:cohort_create"), {"name": "Second", "levels": "multi"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "You already have a cohort with this definition: “First”." in html
    assert f'<a href="/outcomes/cohorts/{first.pk}/">Open it</a>' in html
    assert "Owner and Definition hash" not in html
    assert Cohort.objects.count() == 1


def test_a_repeated_cohort_submit_shows_the_first_cohort(client, surgeon_a):
    client = signed_in(client, surgeon_a)
    page = client.get(reverse("outcomes:cohort_create")).content.decode()
    token = page.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    data = {"name": "Once", "levels": "single", "idempotency_key": token}
    first = client.post(reverse("outcomes:cohort_create"), data)
    again = client.post(reverse("outcomes:cohort_create"), data)
    cohort = Cohort.objects.get()
    assert first.url == again.url == reverse("outcomes:cohort_detail", args=[cohort.pk])


def test_cohort_edits_are_kept_in_history(client, surgeon_a):
    cohort = cohort_create(owner=surgeon_a, name="Before", filters={"levels": "single"})
    response = signed_in(client, surgeon_a).post(
        reverse("outcomes:cohort_edit", args=[cohort.pk]), {"name": "After", "levels": "multi"}
    )
    assert response.status_code == 302
    history = list(cohort.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert [h.name for h in history] == ["Before", "After"]
    assert history[0].filters["levels"] == "single" and history[1].filters["levels"] == "multi"
    assert {h.history_user for h in history} == {surgeon_a}
