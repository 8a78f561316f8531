"""A real Celery worker on Redis builds an export end to end against PostgreSQL (skipped
without PostgreSQL; without Redis skipped on a laptop, failed in CI)."""

from __future__ import annotations

import zipfile

import pytest

from outcomes.exports.models import Export, ExportStatus
from outcomes.exports.services import export_file, export_request
from registry.models import Role
from tests.factories import SiteFactory, member
from tests.outcomes.conftest import make_case
from tests.outcomes.test_worker import broker, wait_for, worker  # noqa: F401 - fixtures

pytestmark = pytest.mark.worker


@pytest.mark.django_db
def test_the_expiry_task_is_on_the_beat_schedule(settings):
    """(Also a database test: pytest-django then sets up the test database the worker uses.)"""
    from registry.celery import app

    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "outcomes.expire_exports" in schedule
    assert {"outcomes.build_export", "outcomes.expire_exports"} <= set(app.tasks)


def test_a_worker_builds_an_export(worker):  # noqa: F811 - the fixture
    site = SiteFactory(code="site-w")
    coordinator = member(site, Role.COORDINATOR, username="export-coordinator")
    for _ in range(3):
        make_case(site=site)
    export = export_request(user=coordinator, format="dta")

    def finished() -> bool:
        return not Export.objects.get(pk=export.pk).is_active

    wait_for(finished, f"export {export.pk}", worker)
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE, export.error
    assert export.task_id and export.progress == 100
    assert export.row_counts["patients"] == 3 and export.row_counts["long"] == 6
    names = zipfile.ZipFile(export_file(export)).namelist()
    assert {"wide.dta", "long.dta", "dictionary.csv", "README.txt"} <= set(names)
