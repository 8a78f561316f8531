"""Standard reports refreshed nightly and, debounced, after clinical data change."""

from datetime import date, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from outcomes.models import PendingRefresh, RunStatus, RunTrigger, StatisticsRun
from outcomes.services import cohort_create, note_data_changed, refresh_changed_sites
from outcomes.services.refresh import MAX_WAIT, QUIET, standard_reports_refresh, take_pending
from outcomes.tasks import refresh_after_changes, refresh_standard_reports
from registry import services as registry_services
from tests.outcomes.conftest import make_case

pytestmark = pytest.mark.django_db
T0 = timezone.now()


@pytest.fixture
def cohorts(site_a, site_b, surgeon_a, surgeon_b):
    make_case(site=site_a)
    make_case(site=site_b)
    rules = {"rule_collapse": False}
    return {
        "a": cohort_create(owner=surgeon_a, name="A", rules=rules),
        "b": cohort_create(owner=surgeon_b, name="B", rules=rules),
        "manual": cohort_create(owner=surgeon_a, name="Manual", auto_refresh=False),
    }


def test_many_writes_move_one_timestamp(site_a):
    for minute in range(5):
        note_data_changed(site_id=site_a.pk, now=T0 + timedelta(minutes=minute))
    row = PendingRefresh.objects.get()
    assert (row.first_change_at, row.last_change_at) == (T0, T0 + timedelta(minutes=4))


def test_a_busy_site_is_refreshed_once_when_it_goes_quiet(
    cohorts, site_a, django_capture_on_commit_callbacks
):
    for second in range(0, 60, 10):
        note_data_changed(site_id=site_a.pk, now=T0 + timedelta(seconds=second))
    assert refresh_changed_sites(now=T0 + timedelta(seconds=60)) == []  # still busy
    with django_capture_on_commit_callbacks(execute=True):
        requests = refresh_changed_sites(now=T0 + timedelta(seconds=50) + QUIET)
    assert [r.run.cohort.name for r in requests] == ["A"]  # only site A's auto cohorts
    run = StatisticsRun.objects.get()
    assert (run.analysis, run.trigger, run.requested_by) == (
        "standard_report",
        RunTrigger.DATA_CHANGE,
        None,
    )
    assert run.status == RunStatus.DONE
    assert not PendingRefresh.objects.exists()
    assert refresh_changed_sites(now=T0 + timedelta(hours=1)) == []


def test_a_site_that_never_goes_quiet_is_refreshed_after_the_longest_wait(cohorts, site_a):
    with mock.patch("outcomes.tasks.run_statistics.apply_async"):
        now = T0
        while now < T0 + MAX_WAIT:
            note_data_changed(site_id=site_a.pk, now=now)
            assert refresh_changed_sites(now=now) == []
            now += timedelta(seconds=30)
        note_data_changed(site_id=site_a.pk, now=now)
        assert len(refresh_changed_sites(now=now)) == 1


def test_a_change_noted_during_a_refresh_is_kept_for_the_next_one(site_a):
    note_data_changed(site_id=site_a.pk, now=T0)
    read = PendingRefresh.objects.get()
    note_data_changed(site_id=site_a.pk, now=T0 + QUIET)  # while the refresh runs
    assert not take_pending(read)
    assert PendingRefresh.objects.get().last_change_at == T0 + QUIET
    assert take_pending(PendingRefresh.objects.get())
    assert not PendingRefresh.objects.exists()


def test_nightly_refresh_requests_every_auto_refreshed_cohort_and_reuses(
    cohorts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert refresh_standard_reports.apply().get() == 2
    assert set(StatisticsRun.objects.values_list("cohort__name", "trigger")) == {
        ("A", RunTrigger.NIGHTLY),
        ("B", RunTrigger.NIGHTLY),
    }
    again = standard_reports_refresh()
    assert all(request.reused for request in again)
    assert StatisticsRun.objects.count() == 2


def test_a_clinical_write_notes_the_change_through_the_registry_signal(
    site_a, surgeon_a, django_capture_on_commit_callbacks
):
    patient = make_case(site=site_a).patient
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.fracture_create(
            user=surgeon_a, patient=patient, level="T9", genant_grade=2, onset_date=date(2024, 1, 2)
        )
    assert PendingRefresh.objects.get().site_id == site_a.pk


def test_the_periodic_task_refreshes_due_sites(cohorts, site_b):
    note_data_changed(site_id=site_b.pk, now=timezone.now() - QUIET - timedelta(seconds=1))
    with mock.patch("outcomes.tasks.run_statistics.apply_async"):
        assert refresh_after_changes.apply().get() == 1
    assert StatisticsRun.objects.get().cohort.name == "B"
