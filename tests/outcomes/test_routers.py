"""Statistics reads go to the replica when there is one; writes never do."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext

from outcomes import cohorts
from outcomes.analyses import get_analysis
from outcomes.models import StatisticsRun
from outcomes.routers import REPLICA, ReplicaRouter, read_alias, replica_reads
from outcomes.selectors import CohortData, frames
from outcomes.services import compute
from registry.models import Technique
from tests.outcomes.conftest import make_case

NO_RULES = dict.fromkeys(cohorts.RULE_FIELDS, False)


@pytest.fixture
def replica(request, monkeypatch):
    """A `replica` alias on the test database, as Django's test mirror configures one
    (`TEST: {"MIRROR": "default"}`: the same database through its own connection), added
    after the test database exists and removed afterwards."""
    if "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    settings_dict = dict(connections["default"].settings_dict)  # the test database's
    assert settings_dict["NAME"] == connections["default"].settings_dict["NAME"]
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "MIRROR": "default"}
    connections.settings[REPLICA] = settings_dict
    # Django's test case refuses connections to aliases it was not told about when it
    # started; this one is created inside the test (the readers' threads open their own).
    guarded = BaseDatabaseWrapper.ensure_connection

    def ensure_connection(self, *args, **kwargs):
        if self.alias == REPLICA and self.connection is None:
            self.connect()
            return None
        return guarded(self, *args, **kwargs)

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", ensure_connection)
    try:
        if "transactional_db" in request.fixturenames:
            connections[REPLICA].connect()  # a mirror's own connection, opened up front
        yield connections[REPLICA]
    finally:
        connections[REPLICA].close()
        del connections.settings[REPLICA]
        if hasattr(connections._connections, REPLICA):
            delattr(connections._connections, REPLICA)


def test_without_a_replica_everything_uses_default():
    router = ReplicaRouter()
    with replica_reads() as alias:
        assert alias == "default" == read_alias()
        assert router.db_for_read(StatisticsRun) is None


def test_the_router_sends_statistics_reads_to_the_replica_and_writes_never(replica):
    router = ReplicaRouter()
    assert router.db_for_read(StatisticsRun) is None  # outside a statistics job
    with replica_reads():
        assert router.db_for_read(StatisticsRun) == REPLICA
        assert router.db_for_write(StatisticsRun) == "default"
    assert router.allow_migrate(REPLICA, "outcomes") is False
    assert router.allow_migrate("default", "outcomes") is True


@pytest.fixture
def keep_techniques(django_db_setup, django_db_blocker):
    """The transactional flush empties the techniques migrations wrote: put them back
    (this fixture is torn down after the flush)."""
    with django_db_blocker.unblock():
        rows = list(Technique.objects.values())
    yield
    with django_db_blocker.unblock():
        if not Technique.objects.exists():
            Technique.objects.bulk_create(Technique(**row) for row in rows)


def test_a_statistics_job_reads_its_frames_from_the_replica(
    keep_techniques, transactional_db, site_a, replica, everywhere, monkeypatch
):
    make_case(site=site_a)
    make_case(site=site_a, vas={"baseline": "7.0", "12w": "3.0"})
    data = CohortData(filters={}, rules=NO_RULES, scope=everywhere())
    used = []
    original = frames.read_frame

    def recording(queryset, schema):
        used.append(queryset.db)
        return original(queryset, schema)

    monkeypatch.setattr(frames, "read_frame", recording)
    with CaptureQueriesContext(connections["default"]) as on_default:
        result, _ = compute(get_analysis("trajectories"), data, {"outcomes": ["vas"]})
    assert result["cohort"]["n_patients"] == 2
    assert used and set(used) == {REPLICA}  # every frame (COPY on PostgreSQL) from the replica
    assert not any("registry_" in q["sql"] for q in on_default.captured_queries)
