"""Runs: reuse while the data are unchanged, the claim, failures on the row, retries."""

import json
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from outcomes import services
from outcomes.models import RunStatus, RunTrigger, StatisticsRun
from outcomes.services import cohort_create, run_request
from outcomes.services.runs import compute_run
from outcomes.tasks import run_statistics
from registry.celery import app as celery_app
from tests.factories import MembershipFactory, UserFactory
from tests.outcomes.conftest import make_case

pytestmark = pytest.mark.django_db
NO_RULES = {"rule_min_age": False, "rule_baseline_vas": False, "rule_collapse": False}


@pytest.fixture
def cohort(site_a, site_b, coordinator):
    for site in (site_a, site_a, site_b):
        make_case(site=site)
    return cohort_create(owner=coordinator, name="Everyone", rules=NO_RULES)


def test_a_request_computes_once_then_reuses_while_the_data_are_unchanged(cohort, coordinator, ask):
    first = ask(coordinator, cohort)
    assert not first.reused
    run = StatisticsRun.objects.get(pk=first.run.pk)
    assert run.status == RunStatus.DONE and run.progress == 100
    assert run.result["cohort"]["n_patients"] == 3
    json.dumps(run.result, allow_nan=False)
    again = ask(coordinator, cohort)
    assert again.reused and again.run.pk == run.pk
    assert StatisticsRun.objects.count() == 1


def test_parameters_in_another_order_are_the_same_request(cohort, coordinator, ask):
    first = ask(coordinator, cohort, "trajectories", outcomes=["vas", "odi"])
    second = ask(coordinator, cohort, "trajectories", outcomes=["odi", "vas"])
    assert second.reused and second.run.pk == first.run.pk
    assert not ask(coordinator, cohort, "trajectories", outcomes=["vas"]).reused


def test_a_change_to_the_data_makes_a_new_run(cohort, coordinator, site_b, ask):
    first = ask(coordinator, cohort)
    visit = make_case(site=site_b).visits.get(timepoint="baseline")
    after_new_patient = ask(coordinator, cohort)
    assert not after_new_patient.reused
    assert after_new_patient.run.result["cohort"]["n_patients"] == 4
    visit.vas = Decimal("3.0")
    visit.save()
    after_edit = ask(coordinator, cohort)
    assert not after_edit.reused
    assert StatisticsRun.objects.filter(status=RunStatus.DONE).count() == 3
    # Withdrawing the new patient brings back exactly the rows the first run read.
    patient = visit.procedure.patient
    patient.withdrawn_at = timezone.now()
    patient.save()
    after_withdrawal = ask(coordinator, cohort)
    assert after_withdrawal.reused and after_withdrawal.run.pk == first.run.pk


def test_a_changed_definition_is_not_served_the_old_result(cohort, coordinator, ask):
    first = ask(coordinator, cohort)
    services.cohort_update(user=coordinator, cohort=cohort, data={"filters": {"sexes": ["M"]}})
    cohort.refresh_from_db()
    second = ask(coordinator, cohort)
    assert not second.reused and second.run.pk != first.run.pk


def test_each_user_gets_a_result_over_the_patients_they_may_see(
    cohort, coordinator, surgeon_a, site_a, ask
):
    colleague = UserFactory()
    MembershipFactory(user=colleague, site=site_a)
    over_both = ask(coordinator, cohort).run
    over_a = ask(surgeon_a, cohort).run
    assert over_a.pk != over_both.pk
    assert over_a.scope_sites == [site_a.pk]
    assert over_a.result["cohort"]["n_patients"] == 2
    shared = ask(colleague, cohort)
    assert shared.reused and shared.run.pk == over_a.pk  # same sites, same result


def test_the_task_is_queued_only_when_the_transaction_commits(
    cohort, coordinator, django_capture_on_commit_callbacks
):
    with mock.patch("outcomes.tasks.run_statistics.apply_async") as delay:
        with django_capture_on_commit_callbacks() as callbacks:
            asked = run_request(user=coordinator, cohort=cohort, analysis="table1")
            delay.assert_not_called()
        assert len(callbacks) == 1
        callbacks[0]()
    delay.assert_called_once_with(args=[asked.run.pk], retry=False)
    run = StatisticsRun.objects.get(pk=asked.run.pk)
    assert run.status == RunStatus.PENDING and run.dispatched_at is not None


@pytest.fixture
def pending(cohort, coordinator, ask):
    with mock.patch("outcomes.tasks.run_statistics.apply_async"):
        return ask(coordinator, cohort).run


def test_running_the_task_twice_does_the_work_once(pending):
    with mock.patch("outcomes.services.runs.compute_run", wraps=compute_run) as work:
        assert run_statistics.apply(args=[pending.pk], task_id="t-1").get() == "done"
        assert run_statistics.apply(args=[pending.pk], task_id="t-1").get() == "skipped"
        assert run_statistics.apply(args=[pending.pk], task_id="t-2").get() == "skipped"
    assert work.call_count == 1
    run = StatisticsRun.objects.get(pk=pending.pk)
    assert (run.status, run.attempts, run.task_id) == (RunStatus.DONE, 1, "t-1")


def test_a_claim_whose_worker_is_gone_is_taken_over(pending):
    from outcomes.services.runs import busy_retry_after, takeover_after

    assert services.run_claim(run_id=pending.pk, task_id="t-1", retries=0)
    with mock.patch("outcomes.services.runs.compute_run", wraps=compute_run) as work:
        # The dead worker's message, delivered again: busy, and it asks again soon.
        assert services.run_execute(run_id=pending.pk, task_id="t-1", retries=0) == "busy"
        assert busy_retry_after(run_id=pending.pk, task_id="t-1") == 1.0
        # Another message waits until the claim is stale ...
        later = busy_retry_after(run_id=pending.pk, task_id="t-2")
        assert later == pytest.approx(takeover_after().total_seconds() + 1, abs=2)
        StatisticsRun.objects.filter(pk=pending.pk).update(
            started_at=timezone.now() - takeover_after() - timedelta(seconds=1)
        )
        # ... then takes over and computes it, once.
        assert services.run_execute(run_id=pending.pk, task_id="t-2", retries=0) == "done"
        assert services.run_execute(run_id=pending.pk, task_id="t-1", retries=1) == "skipped"
    assert work.call_count == 1
    run = StatisticsRun.objects.get(pk=pending.pk)
    assert (run.status, run.task_id, run.attempts) == (RunStatus.DONE, "t-2", 2)


def test_the_claim_is_a_conditional_update(pending):
    assert services.run_claim(run_id=pending.pk, task_id="t-1", retries=0)
    # A redelivered copy of the same message may not take it; nor may another task.
    assert not services.run_claim(run_id=pending.pk, task_id="t-1", retries=0)
    assert not services.run_claim(run_id=pending.pk, task_id="t-2", retries=0)
    # The same task's retry after a transient error may take back its own claim.
    assert services.run_claim(run_id=pending.pk, task_id="t-1", retries=1)
    assert StatisticsRun.objects.get(pk=pending.pk).attempts == 2


def test_a_failure_is_written_on_the_row_with_its_reason(pending):
    with mock.patch("outcomes.services.runs.compute_run", side_effect=ValueError("bad frame")):
        assert run_statistics.apply(args=[pending.pk]).get() == "failed"
    run = StatisticsRun.objects.get(pk=pending.pk)
    assert run.status == RunStatus.FAILED
    assert run.error == "ValueError: bad frame"
    assert run.finished_at is not None


def test_the_soft_time_limit_is_a_failure_that_says_so(pending):
    with mock.patch("outcomes.services.runs.compute_run", side_effect=SoftTimeLimitExceeded()):
        run_statistics.apply(args=[pending.pk])
    error = StatisticsRun.objects.get(pk=pending.pk).error
    assert error.startswith("Stopped: the analysis ran past the soft time limit")


@pytest.fixture
def retries_run_eagerly():
    """Without propagation Celery's eager mode re-applies a retried task at once (same task
    id, retries + 1), as a worker would after the backoff."""
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = True


def test_a_transient_database_error_is_retried_and_the_retry_takes_the_run_back(
    pending, retries_run_eagerly
):
    gone = OperationalError("server closed the connection unexpectedly")
    with mock.patch(
        "outcomes.services.runs.compute_run", side_effect=[gone, compute_run(pending)]
    ) as work:
        result = run_statistics.apply(args=[pending.pk], task_id="t-retry")
    assert result.get() == "done"
    assert work.call_count == 2
    run = StatisticsRun.objects.get(pk=pending.pk)
    assert (run.status, run.attempts, run.claim_retries) == (RunStatus.DONE, 2, 1)


def test_a_database_error_that_outlasts_the_retries_fails_the_run(pending, retries_run_eagerly):
    down = OperationalError("could not connect to server")
    with mock.patch("outcomes.services.runs.compute_run", side_effect=down) as work:
        result = run_statistics.apply(args=[pending.pk], task_id="t-down")
    assert result.failed()
    assert work.call_count == run_statistics.max_retries + 1
    run = StatisticsRun.objects.get(pk=pending.pk)
    assert run.status == RunStatus.FAILED
    assert run.error == "OperationalError: could not connect to server"


def test_the_retry_policy_is_declared_on_the_task():
    assert set(run_statistics.autoretry_for) == {OperationalError, InterfaceError}
    assert run_statistics.retry_backoff and run_statistics.max_retries == 5
    assert run_statistics.soft_time_limit < run_statistics.time_limit


def test_the_sweeper_fails_lost_runs_and_dispatches_lost_messages(
    pending, cohort, coordinator, ask
):
    StatisticsRun.objects.filter(pk=pending.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now() - timedelta(hours=2)
    )
    with mock.patch("outcomes.tasks.run_statistics.apply_async"):
        waiting = ask(coordinator, cohort, "rates").run
    StatisticsRun.objects.filter(pk=waiting.pk).update(
        dispatched_at=timezone.now() - timedelta(hours=1)
    )
    with mock.patch("outcomes.tasks.run_statistics.apply_async") as send:
        assert services.runs_sweep() == {"failed": 1, "sent": 1, "failed_to_send": 0}
    send.assert_called_once_with(args=[waiting.pk], retry=False)
    assert "worker stopped" in StatisticsRun.objects.get(pk=pending.pk).error


def test_a_broker_outage_leaves_the_run_pending_instead_of_failing_the_request(
    cohort, coordinator, ask
):
    with mock.patch(
        "outcomes.tasks.run_statistics.apply_async", side_effect=ConnectionRefusedError
    ):
        asked = ask(coordinator, cohort)
    run = StatisticsRun.objects.get(pk=asked.run.pk)
    assert run.status == RunStatus.PENDING and run.is_delayed
    assert run.dispatched_at is None and "job queue is unreachable" in run.dispatch_error


def test_the_outbox_sends_what_the_broker_never_got_oldest_first(cohort, coordinator, ask):
    from kombu.exceptions import OperationalError as BrokerDown

    with mock.patch("outcomes.tasks.run_statistics.apply_async", side_effect=BrokerDown("down")):
        first = ask(coordinator, cohort, "rates").run
        second = ask(coordinator, cohort, "table1").run
    with mock.patch("outcomes.tasks.run_statistics.apply_async", side_effect=BrokerDown("down")):
        assert services.runs_dispatch_pending() == {"sent": 0, "failed_to_send": 1}
    with mock.patch("outcomes.tasks.run_statistics.apply_async") as send:
        assert services.runs_dispatch_pending() == {"sent": 2, "failed_to_send": 0}
        # Just dispatched: not sent again until its message is presumed lost.
        assert services.runs_dispatch_pending() == {"sent": 0, "failed_to_send": 0}
    assert [c.kwargs["args"] for c in send.call_args_list] == [[first.pk], [second.pk]]
    for run in StatisticsRun.objects.filter(pk__in=[first.pk, second.pk]):
        assert run.dispatched_at is not None and not run.is_delayed


def test_the_dispatcher_runs_every_30_seconds_and_when_a_worker_starts(cohort, coordinator, ask):
    from django.conf import settings

    from outcomes.tasks import dispatch_on_worker_start, run_statistics

    entry = settings.CELERY_BEAT_SCHEDULE["outcomes-dispatch-pending-runs"]
    assert (entry["task"], entry["schedule"]) == ("outcomes.dispatch_pending_runs", 30)
    assert run_statistics.acks_late and run_statistics.reject_on_worker_lost
    with mock.patch("outcomes.tasks.run_statistics.apply_async", side_effect=OSError):
        waiting = ask(coordinator, cohort, "rates").run
    with mock.patch("outcomes.tasks.run_statistics.apply_async") as send:
        dispatch_on_worker_start()
    send.assert_called_once_with(args=[waiting.pk], retry=False)


def test_runs_of_users_keep_who_asked(cohort, coordinator, ask):
    run = ask(coordinator, cohort).run
    assert (run.requested_by, run.trigger) == (coordinator, RunTrigger.USER)
