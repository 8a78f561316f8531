"""Dashboard pages for four actors (surgeon of site A, of site B, a coordinator of both, the
site administrator of A): scoping, filters, empty cohorts, suppression, and that a page
never computes: it shows stored runs and queues a request for a fresh one."""

import io
import json
import re
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from outcomes.dashboards.sources import result_cache
from outcomes.models import Cohort, SiteDataStamp, StatisticsRun
from outcomes.services import dashboard_run_request
from registry.models import Role, Site
from tests.factories import PASSWORD, member
from tests.outcomes.conftest import Level, make_case

pytestmark = pytest.mark.django_db

DASHBOARD = "outcomes.tasks.request_dashboard_run.apply_async"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # the request debounce lives in the cache
    result_cache.clear()
    yield
    cache.clear()
    result_cache.clear()


@pytest.fixture
def world(site_a, site_b, surgeon_a, surgeon_b):
    for index in range(6):
        technique = "PKP" if index % 2 else "PVP"
        leak = [Level(leakage="B")] if index == 0 else None
        make_case(
            site=site_a, technique=technique, levels=leak, procedure_fields={"surgeon": surgeon_a}
        )
    # Site B: 6 patients, 2 with leakage: a small cell for anyone outside site B.
    for index in range(6):
        leak = [Level(leakage="S")] if index < 2 else None
        make_case(
            site=site_b, technique="PKP", levels=leak, procedure_fields={"surgeon": surgeon_b}
        )


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def url(page, **query):
    path = reverse("outcomes:dashboard", args=[page])
    if not query:
        return path
    from urllib.parse import urlencode

    return f"{path}?{urlencode(query, doseq=True)}"


def compute_everything(django_capture_on_commit_callbacks):
    """What the worker does with the queued requests: the runs computed for real."""

    def run_queued(mocked):
        for call in mocked.call_args_list:
            with django_capture_on_commit_callbacks(execute=True):
                dashboard_run_request(**call.kwargs["kwargs"])

    return run_queued


def visit(client, path, django_capture_on_commit_callbacks):
    """A page view whose queued run requests are then executed (the worker's part), and
    the page viewed again."""
    with mock.patch(DASHBOARD) as delay:
        with django_capture_on_commit_callbacks(execute=True):
            first = client.get(path)
        assert first.status_code == 200
        compute_everything(django_capture_on_commit_callbacks)(delay)
    cache.clear()
    return client.get(path)


def figures_of(response) -> dict[str, dict]:
    html = response.content.decode()
    found = re.findall(
        r'<script id="(figure-[\w-]+)" type="application/json">(.*?)</script>', html, re.S
    )
    return {key: json.loads(body) for key, body in found}


def test_a_first_view_queues_a_run_and_computes_nothing(
    client, world, surgeon_a, django_capture_on_commit_callbacks
):
    signed_in(client, surgeon_a)
    with mock.patch(DASHBOARD) as delay, django_capture_on_commit_callbacks(execute=True):
        response = client.get(url("outcomes"))
    assert response.status_code == 200
    assert b"Recomputing" in response.content
    assert not StatisticsRun.objects.exists()  # nothing computed in the request
    analyses = sorted(
        (c.kwargs["kwargs"]["analysis"], len(c.kwargs["kwargs"]["site_ids"]))
        for c in delay.call_args_list
    )
    # own sites, and the registry-wide reference (surgeon A does not see site B)
    assert analyses == [("standard_report", 1), ("standard_report", 2)]


def test_figures_come_from_the_stored_run_and_are_stamped(
    client, world, surgeon_a, site_a, django_capture_on_commit_callbacks
):
    signed_in(client, surgeon_a)
    response = visit(client, url("outcomes"), django_capture_on_commit_callbacks)
    html = response.content.decode()
    assert "Recomputing" not in html
    found = figures_of(response)
    assert {"figure-outcome-vas", "figure-change-vas", "figure-outcome-rfvh"} <= set(found)
    vas = found["figure-outcome-vas"]
    own = [t for t in vas["data"] if not t["name"].endswith("registry-wide")]
    baseline_n = sum(t["customdata"][0][0] for t in own)
    assert baseline_n == 6  # site A's patients only
    # Registry-wide PVP has 3 patients: withheld, and PKP's 9 with it (its partner, as the
    # comparison's total is shown), so the reference is not drawn and the page says why.
    assert not any(t["name"].endswith("registry-wide") for t in vas["data"])
    assert "Registry-wide means withheld (small cells, n &lt;5): PKP at Baseline" in html
    own_run = StatisticsRun.objects.get(scope_key=str(site_a.pk))
    assert own_run.cohort_hash[:12] in html and own_run.data_version[:12] in html
    assert reverse("outcomes:run_result", args=[own_run.pk]) in html
    registry_run = StatisticsRun.objects.exclude(pk=own_run.pk).get()
    assert reverse("outcomes:run_result", args=[registry_run.pk]) not in html
    assert f"run {registry_run.pk} (registry-wide: aggregate only)" in html


def test_a_coordinator_of_every_site_gets_no_separate_reference(
    client, world, coordinator, django_capture_on_commit_callbacks
):
    signed_in(client, coordinator)
    response = visit(client, url("outcomes"), django_capture_on_commit_callbacks)
    vas = figures_of(response)["figure-outcome-vas"]
    assert sum(t["customdata"][0][0] for t in vas["data"]) == 12
    assert not any(t["name"].endswith("registry-wide") for t in vas["data"])


def test_a_changed_site_makes_the_result_stale_and_recomputing(
    client, world, surgeon_a, site_a, django_capture_on_commit_callbacks
):
    signed_in(client, surgeon_a)
    visit(client, url("trends"), django_capture_on_commit_callbacks)
    SiteDataStamp.objects.create(site=site_a, changed_at=timezone.now())
    with mock.patch(DASHBOARD) as delay, django_capture_on_commit_callbacks(execute=True):
        response = client.get(url("trends"))
    assert b"Recomputing" in response.content and b"stale" in response.content
    assert figures_of(response)  # the last result is still drawn
    # the own run is stale (site A changed), and so is the registry-wide one (it reads A)
    assert sorted(len(c.kwargs["kwargs"]["site_ids"]) for c in delay.call_args_list) == [1, 2]
    # a check that finds the data unchanged marks the run fresh again
    with django_capture_on_commit_callbacks(execute=True):
        for call in delay.call_args_list:
            dashboard_run_request(**call.kwargs["kwargs"])
    cache.clear()
    with mock.patch(DASHBOARD) as delay:
        response = client.get(url("trends"))
    assert b"Recomputing" not in response.content and not delay.called


def test_filters_live_in_the_url_and_define_the_cohort(
    client, world, surgeon_a, django_capture_on_commit_callbacks
):
    signed_in(client, surgeon_a)
    path = url("trends", technique=["PVP"], genant=["3"], region="lumbar", date_from="2020-01-01")
    response = visit(client, path, django_capture_on_commit_callbacks)
    cohort = Cohort.objects.filter(owner=surgeon_a, dashboard_view=True).order_by("pk").first()
    assert cohort.filters["techniques"] == ["PVP"]
    assert cohort.filters["genant_grades"] == [3] and cohort.filters["region"] == "lumbar"
    assert not any(cohort.rules.values())
    # site A has 3 PVP patients: a tiny cohort gets a message, not a near-empty axis
    assert b"Only 3 patient(s) match these filters" in response.content
    html = response.content.decode()
    assert re.search(r'name="technique" value="PVP"[^>]*checked', html)
    assert 'value="lumbar" selected' in html
    both = url("trends", technique=["PKP", "PVP"], genant=["3"], region="lumbar")
    response = visit(client, both, django_capture_on_commit_callbacks)
    leakage = figures_of(response)["figure-trend-leakage"]
    own = [t for t in leakage["data"] if not t["name"].endswith("registry-wide")]
    assert [t["name"] for t in own] == ["PKP", "PVP"]
    assert sum(n for t in own for n, *_ in t["customdata"]) == 6  # site A's patients
    # dashboard cohorts are not listed among the saved cohorts
    listing = client.get(reverse("outcomes:cohort_list")).content.decode()
    assert cohort.name not in listing


def test_bad_filters_are_field_errors_not_a_500(client, world, surgeon_a):
    signed_in(client, surgeon_a)
    response = client.get(url("outcomes", date_from="2024-05-01", date_to="2024-01-01"))
    assert response.status_code == 200
    assert b"The end of the date range is before its start." in response.content
    response = client.get(url("outcomes", date_from="not-a-date", site="site-b"))
    assert response.status_code == 200
    assert b"Enter a valid date." in response.content
    assert b"Select a valid choice" in response.content  # site B is not surgeon A's
    assert not Cohort.objects.filter(dashboard_view=True).exists()


def test_an_empty_cohort_gets_a_friendly_message(
    client, world, surgeon_a, django_capture_on_commit_callbacks
):
    signed_in(client, surgeon_a)
    response = visit(
        client, url("trends", date_from="2030-01-01"), django_capture_on_commit_callbacks
    )
    assert b"No patient matches these filters yet" in response.content
    assert not figures_of(response)


def test_benchmarking_names_own_points_and_withholds_small_other_sites(
    client, world, surgeon_a, site_a, django_capture_on_commit_callbacks
):
    signed_in(client, surgeon_a)
    response = visit(client, url("benchmarking"), django_capture_on_commit_callbacks)
    found = figures_of(response)
    # Site B: 2 of 6 leaked, a small cell; with the registry total and site A shown it
    # could be recovered by subtraction, so the leakage funnel is not drawn at all.
    assert "figure-funnel-leakage" not in found
    html = response.content.decode()
    assert "Not shown: it would reveal a small cell" in html
    funnel = found["figure-funnel-vas_12w_le_3"]  # 6 of 6 reach VAS 3: no small cell
    traces = {t["name"]: t for t in funnel["data"]}
    assert sorted(traces["Yours (highlighted)"]["text"]) == ["Hospital A", "You"]
    assert traces["Sites"]["text"] == ["Another site"]
    assert "Hospital B" not in html
    csv = client.get(
        reverse("outcomes:dashboard_chart_csv", args=["benchmarking", "funnel-leakage"])
    )
    assert csv.status_code == 404  # no CSV of a withheld chart either
    csv = client.get(
        reverse("outcomes:dashboard_chart_csv", args=["benchmarking", "funnel-vas_12w_le_3"])
    )
    assert "Another site" in csv.content.decode() and "Hospital B" not in csv.content.decode()


def test_a_site_admin_sees_the_surgeons_of_the_site_named(
    client, world, site_a, surgeon_a, django_capture_on_commit_callbacks
):
    admin = member(site_a, Role.SITE_ADMIN, username="admin-a")
    signed_in(client, admin)
    response = visit(client, url("benchmarking"), django_capture_on_commit_callbacks)
    funnel = figures_of(response)["figure-funnel-vas_12w_le_3"]
    names = [name for t in funnel["data"] for name in t.get("text", [])]
    assert "surgeon-a" in names or surgeon_a.get_full_name() in names
    assert "surgeon-b" not in json.dumps(funnel)


def test_a_coordinator_sees_every_site_named(
    client, world, coordinator, django_capture_on_commit_callbacks
):
    signed_in(client, coordinator)
    response = visit(client, url("benchmarking"), django_capture_on_commit_callbacks)
    funnel = figures_of(response)["figure-funnel-leakage"]
    names = sorted(name for t in funnel["data"] for name in t.get("text", []))
    assert names == ["Hospital A", "Hospital B"]


def test_chart_csv_has_the_chart_data(
    client, world, coordinator, django_capture_on_commit_callbacks
):
    signed_in(client, coordinator)
    visit(client, url("trends"), django_capture_on_commit_callbacks)
    response = client.get(reverse("outcomes:dashboard_chart_csv", args=["trends", "trend-leakage"]))
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("Scope,Technique,Quarter,n,Events")
    from statsmodels.stats.proportion import proportion_confint

    rows = [line.split(",") for line in lines[1:]]
    assert [r[:5] for r in rows] == [
        ["cohort", "PKP", "2024 Q1", "9", "2"],
        ["cohort", "PVP", "2024 Q1", "3", "1"],
    ]
    low, high = proportion_confint(2, 9, method="wilson")
    assert [float(v) for v in rows[0][5:]] == pytest.approx([100 * 2 / 9, 100 * low, 100 * high])


def test_report_docx_and_xlsx_have_the_cells_of_the_html_table(
    client, world, coordinator, django_capture_on_commit_callbacks
):
    from docx import Document
    from openpyxl import load_workbook

    signed_in(client, coordinator)
    html = visit(
        client, reverse("outcomes:dashboard_report"), django_capture_on_commit_callbacks
    ).content.decode()
    first = re.search(
        r'<table class="table table-sm align-middle mb-1 publication-table">'
        r"(.*?)</table>",
        html,
        re.S,
    ).group(1)
    import html as html_module

    html_rows = [
        [
            html_module.unescape(c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", first, re.S)
    ]
    assert html_rows[0][:3] == ["Variable", "Category", "Overall (n = 12)"]
    # Suppressed by default: PVP has 3 patients; its group size, its summaries and its
    # counts are withheld, and PKP's (12 - 3 = 9 would give it back) with them.
    assert html_rows[0][3:5] == ["PKP (n <5)", "PVP (n <5)"]
    female = next(row for row in html_rows if row[1] == "Female")
    assert female[2:5] == ["12 (100.0%)", "<5", "<5"]
    age = next(row for row in html_rows if row[0].startswith("Age"))
    assert age[4] == "<5"
    note = "Small cells suppressed (the registry's rule for publication tables)"
    assert note in html_module.unescape(html)
    docx = client.get(reverse("outcomes:dashboard_report_file", args=["docx"]))
    document = Document(io.BytesIO(docx.content))
    docx_rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert docx_rows == html_rows
    assert any(p.text.startswith(note) for p in document.paragraphs)
    xlsx = client.get(reverse("outcomes:dashboard_report_file", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(xlsx.content))["Table I"]
    xlsx_rows = [
        ["" if v is None else str(v) for v in row]
        for row in sheet.iter_rows(min_row=2, max_row=1 + len(html_rows), values_only=True)
    ]
    assert xlsx_rows == html_rows
    notes = [row[0] for row in sheet.iter_rows(min_row=2 + len(html_rows), values_only=True)]
    assert any(str(text).startswith(note) for text in notes)
    for row in sheet.iter_rows(values_only=True):
        assert not any(re.search(r"\(n = [1-4]\)|^[1-4] \(", str(v or "")) for v in row)
    assert len(document.tables) == len(load_workbook(io.BytesIO(xlsx.content)).sheetnames) > 1
    csv = client.get(reverse("outcomes:dashboard_report_file", args=["csv"])).content.decode()
    assert "Table I. Baseline characteristics by technique" in csv.splitlines()[0]
    assert "PVP (n <5)" in csv and note in csv


def test_someone_without_a_statistics_role_is_refused(client, db):
    from tests.factories import UserFactory

    signed_in(client, UserFactory(username="nobody"))
    assert client.get(url("outcomes")).status_code == 403
    assert client.get(reverse("outcomes:dashboards")).status_code == 403


def test_status_reports_progress_without_queueing(client, world, surgeon_a):
    signed_in(client, surgeon_a)
    with mock.patch(DASHBOARD) as delay:
        response = client.get(reverse("outcomes:dashboard_status", args=["outcomes"]))
    state = response.json()
    assert [s["has_result"] for s in state["sources"]] == [False, False]
    assert not delay.called


def test_navigation_and_run_result_link_to_the_dashboards(client, world, coordinator, ask):
    from outcomes.services import cohort_create

    signed_in(client, coordinator)
    assert b">Dashboards</a>" in client.get(reverse("outcomes:cohort_list")).content
    cohort = cohort_create(owner=coordinator, name="Everyone", rules={})
    run = ask(coordinator, cohort, "rates").run
    html = client.get(reverse("outcomes:run_result", args=[run.pk])).content.decode()
    assert f"{reverse('outcomes:dashboard', args=['complications'])}?cohort={cohort.pk}" in html


def test_page_queries_do_not_grow_with_the_cohort(
    client,
    world,
    coordinator,
    site_a,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    signed_in(client, coordinator)
    visit(client, url("trends"), django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(20):
        client.get(url("trends"))
    assert Site.objects.count() == 2


def _store(run, result):
    run.result = result
    run.save(update_fields=["result"])
    result_cache.clear()  # what was drawn before is cached by run


def _absent(html: str, *numbers: str) -> None:
    for number in numbers:
        assert not re.search(rf"(?<![\w.]){re.escape(number)}(?![\w])", html), number


def test_another_sites_cell_of_3_and_its_complement_reach_no_page(
    client, world, surgeon_a, site_a, site_b, django_capture_on_commit_callbacks
):
    from tests.factories import SiteFactory

    site_c = SiteFactory(code="site-c", name="Hospital C")
    signed_in(client, surgeon_a)
    visit(client, url("benchmarking"), django_capture_on_commit_callbacks)
    run = StatisticsRun.objects.get(analysis="benchmarking")
    result = run.result

    def unit(site, events, n, surgeon=None):
        return {
            "level": "surgeon" if surgeon else "site",
            "site_id": site.pk,
            "surgeon_id": surgeon.pk if surgeon else None,
            "events": events,
            "n": n,
            "rate": events / n,
            "outside95": False,
            "outside998": False,
        }

    for measure in result["body"]["measures"]:
        # Site B: 3 of 611, a small cell; with the registry total and site A shown, site C
        # (379 of 1999) would give it back: withheld too.
        measure["registry"] = {"events": 1000, "n": 5000, "rate": 0.2}
        measure["limits"] = {
            "n": [1, 2500, 5000],
            "lower95": [0, 0.15, 0.17],
            "upper95": [1, 0.25, 0.23],
            "lower998": [0, 0.12, 0.15],
            "upper998": [1, 0.28, 0.25],
        }
        measure["units"] = [
            unit(site_a, 618, 2390),
            unit(site_b, 3, 611),
            unit(site_c, 379, 1999),
            unit(site_a, 618, 2390, surgeon_a),
        ]
    _store(run, result)
    response = client.get(url("benchmarking"))
    html = response.content.decode()
    found = figures_of(response)
    assert set(found) == {f"figure-funnel-{m['key']}" for m in result["body"]["measures"]}
    for figure in found.values():
        points = [t for t in figure["data"] if t.get("mode") == "markers"]
        assert [t["name"] for t in points] == ["Yours (highlighted)"]
        assert sorted(c[0] for t in points for c in t["customdata"]) == [618, 618]
    _absent(html, "379", "3 of", f"{100 * 3 / 611:.1f}", f"{100 * 379 / 1999:.1f}")
    _absent(html, str(3 / 611)[:6], str(379 / 1999)[:6])
    assert "2 point(s) of other sites withheld" in html
    assert "Hospital B" not in html and "Hospital C" not in html
    csv = client.get(
        reverse("outcomes:dashboard_chart_csv", args=["benchmarking", "funnel-leakage"])
    ).content.decode()
    rows = [line.split(",") for line in csv.splitlines()[1:]]
    assert sorted(r[2:4] for r in rows if r[1] == "Another site") == [["<5", "1999"], ["<5", "611"]]
    _absent(csv, "379", "3")


def test_a_registry_wide_mean_of_3_patients_reaches_no_page(
    client, world, surgeon_a, site_a, django_capture_on_commit_callbacks
):
    signed_in(client, surgeon_a)
    visit(client, url("outcomes"), django_capture_on_commit_callbacks)
    reference = StatisticsRun.objects.exclude(scope_key=str(site_a.pk)).get()
    result = reference.result
    vas = next(o for o in result["body"]["trajectories"]["outcomes"] if o["key"] == "vas")
    summary = next(
        s["summary"] for s in vas["summaries"] if (s["group"], s["timepoint"]) == ("PVP", "12w")
    )
    assert summary["n"] == 3  # site A's 3 PVP patients are every PVP patient of the registry
    summary.update(mean=7.777, median=7.777, sd=1.234, ci_low=6.111, ci_high=9.444)
    _store(reference, result)
    response = client.get(url("outcomes"))
    html = response.content.decode()
    _absent(html, "7.777", "1.234", "6.111", "9.444")
    notes = re.findall(
        r"<li>Registry-wide means withheld \(small cells, n &lt;5\): ([^<]*)</li>", html
    )
    assert notes and all("PVP at 12 weeks" in note for note in notes)


def test_yesterdays_run_is_shown_stale_and_recomputed_as_of_today(
    client, world, coordinator, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from outcomes.analyses import parameters_hash

    signed_in(client, coordinator)
    visit(client, url("benchmarking"), django_capture_on_commit_callbacks)
    run = StatisticsRun.objects.get(analysis="benchmarking")
    today = timezone.localdate()
    assert run.as_of == today
    yesterday = today - timedelta(days=1)
    run.parameters = {**run.parameters, "as_of": yesterday.isoformat()}
    run.parameters_hash = parameters_hash(run.parameters)
    run.as_of = yesterday
    run.save(update_fields=["parameters", "parameters_hash", "as_of"])
    cache.clear()
    with mock.patch(DASHBOARD) as delay, django_capture_on_commit_callbacks(execute=True):
        response = client.get(url("benchmarking"))
    assert figures_of(response)  # the last run is still drawn
    assert b"stale" in response.content and b"Recomputing" in response.content
    [call] = delay.call_args_list
    assert call.kwargs["kwargs"]["parameters"]["as_of"] == today.isoformat()
    assert f"data as of {yesterday.isoformat()}" in response.content.decode()
