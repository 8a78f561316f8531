"""A real Celery worker on Redis runs the data-quality job against PostgreSQL (skipped on
SQLite; in CI a missing Redis fails, as for the statistics worker test)."""

from decimal import Decimal

import pytest

from outcomes.quality.models import Finding, QualityRun, SiteResult
from outcomes.quality.services import run_request
from registry.models import Role
from tests.factories import ProcedureFactory, SiteFactory, TreatedLevelFactory, member
from tests.outcomes.test_worker import broker, wait_for, worker  # noqa: F401 - fixtures

pytestmark = pytest.mark.worker


def test_a_worker_runs_the_quality_checks(worker):  # noqa: F811 - the fixture
    site = SiteFactory(code="site-q")
    surgeon = member(site, Role.SURGEON, username="surgeon-q")
    level = TreatedLevelFactory(
        procedure=ProcedureFactory(patient__site=site), cement_volume_ml=Decimal("13.5")
    )
    asked = run_request(user=surgeon)  # committed: the message goes to the broker now

    def finished() -> bool:
        return not QualityRun.objects.get(pk=asked.run.pk).is_active

    wait_for(finished, f"quality run {asked.run.pk}", worker)
    run = QualityRun.objects.get(pk=asked.run.pk)
    assert run.status == "done", run.error
    assert run.task_id and run.started_at <= run.finished_at
    cement = Finding.objects.get(run=run, rule="IMP-CEMENT")
    assert (cement.record_id, cement.value) == (level.pk, "13.5 ml")
    assert SiteResult.objects.get(run=run, site=site).counts["IMP-CEMENT"] == {"open": 1}
