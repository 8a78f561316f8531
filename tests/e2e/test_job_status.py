"""The status poll of background jobs in a real browser. A page opened while its job still
waits in the queue follows the job to its end: a statistics run's page opens the result
when the run is done, an export's page shows its download, a dashboard that recomputes
reloads with its new figures."""

import re

import pytest

from registry.celery import app as celery_app
from registry.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import member

pytestmark = pytest.mark.e2e


@pytest.fixture
def held(monkeypatch):
    """A queue with no worker: what the pages send is held, and the test runs it when it
    chooses (as a worker picking the job up a moment later)."""
    jobs = {"run": [], "export": [], "dashboard": []}
    run_task = celery_app.tasks["outcomes.run_statistics"]
    export_task = celery_app.tasks["outcomes.build_export"]
    request_task = celery_app.tasks["outcomes.request_dashboard_run"]
    monkeypatch.setattr(
        run_task, "apply_async", lambda args=(), **options: jobs["run"].append(args)
    )
    monkeypatch.setattr(export_task, "delay", lambda *args: jobs["export"].append(args))
    monkeypatch.setattr(
        request_task, "apply_async", lambda kwargs=None, **options: jobs["dashboard"].append(kwargs)
    )
    return jobs


def _run_queued(jobs, name: str) -> None:
    task = celery_app.tasks[f"outcomes.{name}"]
    args = jobs["run" if name == "run_statistics" else "export"].pop()
    assert task.apply(args=args).successful()


def test_a_run_page_follows_the_run_and_opens_its_result(page, north, held, screenshot):
    from outcomes.services import cohort_create

    coordinator = member(north, Role.COORDINATOR, username="coordinator-north")
    cohort = cohort_create(owner=coordinator, name="North, all cases", rules={})
    sign_in(page, coordinator)
    page.goto(f"/outcomes/cohorts/{cohort.pk}/")
    page.click("#analyses >> text=Table 1: baseline characteristics")
    page.click("#analysis-table1 >> button:has-text('Run')")
    page.wait_for_url(re.compile(r"/outcomes/runs/\d+/$"))
    assert page.text_content("[data-run-badge]").strip() == "Pending"
    assert len(held["run"]) == 1  # waiting in the queue, not computed in the request
    screenshot("run-pending")

    _run_queued(held, "run_statistics")  # a worker takes it
    page.wait_for_url(re.compile(r"/outcomes/runs/\d+/result/$"))
    assert "Table 1" in page.text_content("h1")
    screenshot("run-result")


def test_an_export_page_follows_the_export_and_offers_its_download(page, north, held):
    coordinator = member(north, Role.COORDINATOR, username="coordinator-north")
    sign_in(page, coordinator)
    page.goto("/outcomes/exports/")
    page.click("button[type=submit]:has-text('Export')")
    page.wait_for_url(re.compile(r"/outcomes/exports/\d+/$"))
    assert page.is_hidden("[data-export-download]")
    assert len(held["export"]) == 1

    _run_queued(held, "build_export")
    page.wait_for_selector("[data-export-download]:not(.d-none)")
    assert page.text_content("[data-export-badge]").strip() == "Ready"
    assert page.get_attribute("progress[data-export-progress]", "value") == "100"


def test_a_recomputing_dashboard_reloads_with_its_figures_when_the_runs_are_done(
    page, north, held, screenshot
):
    from django.core.cache import cache

    from tests.outcomes.conftest import make_case

    cache.clear()  # the page's request of a run is debounced through the cache
    surgeon = member(north, Role.SURGEON, username="surgeon-north")
    for index in range(12):  # enough cases for figures that small-cell rules leave shown
        make_case(
            site=north,
            technique=("PKP", "PVP", "VBS")[index % 3],
            vas={"baseline": "8.5", "2w": "4.0", "12w": f"{2 + index % 3}.0"},
            procedure_fields={"surgeon": surgeon},
        )
    sign_in(page, surgeon)
    page.goto("/outcomes/dashboards/outcomes/")
    page.wait_for_selector("#dashboard-status[data-recomputing='1']")
    assert held["dashboard"] and not held["run"]  # asked for, not computed in the request
    screenshot("dashboard-recomputing")

    request = celery_app.tasks["outcomes.request_dashboard_run"]
    while held["dashboard"]:  # a worker takes each request, then each run it queued
        assert request.apply(kwargs=held["dashboard"].pop()).successful()
    while held["run"]:
        _run_queued(held, "run_statistics")
    page.wait_for_selector("#dashboard-status", state="detached")  # reloaded: fresh results
    page.locator(".dashboard-chart .main-svg").first.wait_for()  # drawn from the new result
    screenshot("dashboard-recomputed")
