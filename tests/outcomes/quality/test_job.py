"""The data-quality job: queued on demand and nightly, stored with the data version; reviews
keep a confirmed value from being flagged until it changes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from outcomes.quality import services
from outcomes.quality.models import Finding, FindingStatus, QualityRun, Review, SiteResult
from outcomes.quality.tasks import nightly_quality_checks, run_quality_checks
from registry.models import TreatedLevel
from tests.factories import ProcedureFactory, TreatedLevelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def check(django_capture_on_commit_callbacks):
    def check(user, site=None) -> QualityRun:
        with django_capture_on_commit_callbacks(execute=True):
            asked = services.run_request(user=user, site=site)
        asked.run.refresh_from_db()
        return asked.run

    return check


def too_much_cement(site, ml="14.0") -> TreatedLevel:
    return TreatedLevelFactory(
        procedure=ProcedureFactory(patient__site=site), cement_volume_ml=D(ml)
    )


def current(rule="IMP-CEMENT"):
    latest = QualityRun.objects.filter(status="done").order_by("-pk").first()
    return Finding.objects.filter(run=latest, rule=rule)


def test_a_run_stores_findings_and_results_per_site_with_the_data_version(
    coordinator, site_a, site_b, check
):
    level_a, level_b = too_much_cement(site_a), too_much_cement(site_b)
    run = check(coordinator)
    assert run.status == "done" and run.scope_sites == sorted([site_a.pk, site_b.pk])
    assert {(f.site_id, f.record_id) for f in current()} == {
        (site_a.pk, level_a.pk),
        (site_b.pk, level_b.pk),
    }
    results = {r.site_id: r for r in SiteResult.objects.filter(run=run)}
    assert set(results) == {site_a.pk, site_b.pk}
    assert all(len(r.data_version) == 64 for r in results.values())

    version_before = results[site_a.pk].data_version
    TreatedLevel.objects.filter(pk=level_a.pk).update(cement_volume_ml=D("4.0"))
    level_a.refresh_from_db()
    level_a.save()  # moves updated_at
    second = check(coordinator)
    after = SiteResult.objects.get(run=second, site=site_a)
    assert after.data_version != version_before
    assert SiteResult.objects.get(run=second, site=site_b).data_version == (
        results[site_b.pk].data_version
    )
    # older findings of the sites are gone; the corrected value is no longer flagged
    assert set(Finding.objects.values_list("run_id", flat=True)) == {second.pk}
    assert [f.record_id for f in current()] == [level_b.pk]


def test_a_surgeon_checks_their_site_only(surgeon_a, site_a, site_b, check):
    too_much_cement(site_a), too_much_cement(site_b)
    run = check(surgeon_a)
    assert run.scope_sites == [site_a.pk]
    assert set(current().values_list("site_id", flat=True)) == {site_a.pk}
    with pytest.raises(PermissionDenied):
        services.run_request(user=surgeon_a, site=site_b)


def test_a_redelivered_task_does_nothing(coordinator, site_a, check):
    too_much_cement(site_a)
    run = check(coordinator)
    stored = Finding.objects.filter(run=run).count()
    assert run_quality_checks(run.pk) == "not pending"
    assert Finding.objects.filter(run=run).count() == stored


def test_a_second_request_while_one_is_pending_returns_it(coordinator, site_a):
    too_much_cement(site_a)
    first = services.run_request(user=coordinator)  # on_commit not run: stays pending
    again = services.run_request(user=coordinator)
    assert again.run.pk == first.run.pk and not again.created


def test_an_abandoned_run_no_longer_blocks_its_scope(coordinator, site_a):
    too_much_cement(site_a)
    stuck = services.run_request(user=coordinator).run
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 120)
    QualityRun.objects.filter(pk=stuck.pk).update(status="running", created_at=long_ago)
    fresh = services.run_request(user=coordinator)
    stuck.refresh_from_db()
    assert fresh.created and fresh.run.pk != stuck.pk
    assert stuck.status == "failed" and "abandoned" in stuck.error


def test_nightly_checks_every_site_and_is_scheduled(coordinator, site_a, site_b):
    too_much_cement(site_a), too_much_cement(site_b)
    run_id = nightly_quality_checks()
    run = QualityRun.objects.get(pk=run_id)
    assert run.trigger == "nightly" and run.scope_sites == sorted([site_a.pk, site_b.pk])
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "quality.nightly_checks" in schedule


def test_a_failing_run_says_why(coordinator, site_a, monkeypatch):
    too_much_cement(site_a)
    from outcomes.quality.services import runs

    def broken(*args):
        raise RuntimeError("rule exploded")

    monkeypatch.setattr(runs, "evaluate", broken)
    asked = services.run_request(user=coordinator)
    with pytest.raises(RuntimeError):
        services.run_execute(run_id=asked.run.pk)
    asked.run.refresh_from_db()
    assert asked.run.status == "failed" and "rule exploded" in asked.run.error


def test_verified_value_stops_being_flagged_until_it_changes(coordinator, site_a, check):
    level = too_much_cement(site_a, "14.0")
    check(coordinator)
    finding = current().get()
    services.finding_review(
        user=coordinator, finding=finding, decision="verified", comment="Two-level fill: checked."
    )
    finding.refresh_from_db()
    assert finding.status == FindingStatus.VERIFIED

    check(coordinator)
    assert current().get().status == FindingStatus.VERIFIED  # same value: stays verified

    level.cement_volume_ml = D("15.0")
    level.save()
    check(coordinator)
    assert current().get().status == FindingStatus.OPEN  # a new value is flagged again

    review = Review.objects.get()
    assert review.value == "14.0 ml" and review.history.count() == 1
    assert review.history.first().history_user == coordinator


def test_will_be_corrected_is_kept_in_history(coordinator, surgeon_a, site_a, check):
    too_much_cement(site_a)
    check(coordinator)
    finding = current().get()
    services.finding_review(
        user=coordinator, finding=finding, decision="will_correct", comment="Asked the surgeon."
    )
    services.finding_review(
        user=surgeon_a, finding=finding, decision="verified", comment="Correct as typed."
    )
    review = Review.objects.get()
    assert review.decision == "verified" and review.reviewed_by == surgeon_a
    assert [h.decision for h in review.history.order_by("history_date")] == [
        "will_correct",
        "verified",
    ]


def test_a_review_needs_a_comment_and_a_site_of_the_reviewer(coordinator, surgeon_b, site_a, check):
    too_much_cement(site_a)
    check(coordinator)
    finding = current().get()
    with pytest.raises(ValidationError) as error:
        services.finding_review(user=coordinator, finding=finding, decision="verified", comment=" ")
    assert "comment" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.finding_review(
            user=surgeon_b, finding=finding, decision="verified", comment="not mine"
        )


def test_a_dead_broker_never_fails_the_request_and_the_sweep_sends_it_later(
    coordinator, site_a, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from outcomes.quality.services import runs

    too_much_cement(site_a)
    task = runs.current_app.tasks[runs.RUN_TASK]

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(task, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        asked = services.run_request(user=coordinator)
    asked.run.refresh_from_db()
    assert asked.run.status == "pending"
    monkeypatch.undo()
    later = timezone.now() + runs.REDISPATCH_AFTER + timedelta(seconds=1)
    assert services.dispatch_pending(now=later) == 1
    asked.run.refresh_from_db()
    assert asked.run.status == "done"
